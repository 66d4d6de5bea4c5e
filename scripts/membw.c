#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
/* Copy and read bandwidth over 512 MiB buffers, 1 and 2 threads; best of 5. */
#define N (512UL << 20)
static char *src, *dst;
static int nth;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *copy_part(void *arg) { long i = (long) arg; size_t part = N / nth; memcpy(dst + i * part, src + i * part, part); return NULL; }
static volatile unsigned long sink;
static void *read_part(void *arg) { long i = (long) arg; size_t part = N / nth; unsigned long s = 0; const unsigned long *p = (const unsigned long *) (src + i * part);
  for (size_t k = 0; k < part / 8; k += 8) s += p[k] ^ p[k+1] ^ p[k+2] ^ p[k+3] ^ p[k+4] ^ p[k+5] ^ p[k+6] ^ p[k+7]; sink += s; return NULL; }
static double run(void *(*f)(void *)) {
  double best = 1e9;
  for (int r = 0; r < 5; r++) { pthread_t t[8]; double t0 = now();
    for (long i = 0; i < nth; i++) pthread_create(&t[i], NULL, f, (void *) i);
    for (int i = 0; i < nth; i++) pthread_join(t[i], NULL);
    double dt = now() - t0; if (dt < best) best = dt; }
  return best;
}
int main(void) {
  src = malloc(N); dst = malloc(N); memset(src, 1, N); memset(dst, 2, N);
  for (nth = 1; nth <= 2; nth++) {
    double c = run(copy_part), r = run(read_part);
    printf("%d thread(s): memcpy %.1f GB/s (read+write bytes %.1f GB/s), read %.1f GB/s\n", nth, N / c / 1e9, 2.0 * N / c / 1e9, N / r / 1e9);
  }
  return 0;
}
