package dev.jquant.quantize.calibrate;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code C += XᵀX} into the lower triangle of a symmetric {@code n x n} float matrix (a "syrk"):
 * half the work of the full product. Registers hold a 4-row x 3-vector tile of C while the tokens
 * run; rows go in tiles of 16 whose slice of X stays in L1 across the tile. Each element gets its
 * terms in token order, so the result does not depend on the number of threads; tiles that cross
 * the diagonal also fill some upper elements, which readers must ignore.
 */
final class OuterProducts {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int STRIP = 3 * L;
    private static final int ROW_TILE = 16;

    private OuterProducts() {
    }

    /** {@code c[i·n + j] += Σ_t x[t·n + i] · x[t·n + j]} for j ≤ i, {@code x} holding {@code tokens} rows of n. */
    static void addLower(float[] c, int n, float[] x, int tokens) {
        float[] xt = new float[n * tokens];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < n; i++) {
                xt[i * tokens + t] = x[t * n + i];
            }
        }
        int tiles = Math.ceilDiv(n, ROW_TILE);
        Parallel.get().forRange(tiles, 1, (start, end) -> {
            for (int k = start; k < end; k++) {
                // later tiles reach more columns: pair the first with the last so chunks balance
                int tile = k % 2 == 0 ? k / 2 : tiles - 1 - k / 2;
                addTile(c, n, x, xt, tokens, tile * ROW_TILE, Math.min(n, (tile + 1) * ROW_TILE));
            }
        });
    }

    private static void addTile(float[] c, int n, float[] x, float[] xt, int tokens, int r0, int r1) {
        int jEnd = r1; // through the diagonal of the tile's last row
        int j = 0;
        for (; j + STRIP <= n && j < jEnd; j += STRIP) {
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                strip4(c, n, x, xt, tokens, r, j);
            }
            for (; r < r1; r++) {
                for (int v = 0; v < STRIP; v += L) {
                    vector1(c, n, x, xt, tokens, r, j + v);
                }
            }
        }
        for (; j + L <= n && j < jEnd; j += L) {
            for (int r = r0; r < r1; r++) {
                vector1(c, n, x, xt, tokens, r, j);
            }
        }
        for (; j < jEnd; j++) {
            for (int r = r0; r < r1; r++) {
                float s = c[r * n + j];
                for (int t = 0; t < tokens; t++) {
                    s += xt[r * tokens + t] * x[t * n + j]; // unfused, like a scalar row update
                }
                c[r * n + j] = s;
            }
        }
    }

    private static void strip4(float[] c, int n, float[] x, float[] xt, int tokens, int r, int j) {
        int c0 = r * n + j;
        int c1 = c0 + n;
        int c2 = c1 + n;
        int c3 = c2 + n;
        FloatVector s00 = FloatVector.fromArray(S, c, c0), s01 = FloatVector.fromArray(S, c, c0 + L),
                s02 = FloatVector.fromArray(S, c, c0 + 2 * L);
        FloatVector s10 = FloatVector.fromArray(S, c, c1), s11 = FloatVector.fromArray(S, c, c1 + L),
                s12 = FloatVector.fromArray(S, c, c1 + 2 * L);
        FloatVector s20 = FloatVector.fromArray(S, c, c2), s21 = FloatVector.fromArray(S, c, c2 + L),
                s22 = FloatVector.fromArray(S, c, c2 + 2 * L);
        FloatVector s30 = FloatVector.fromArray(S, c, c3), s31 = FloatVector.fromArray(S, c, c3 + L),
                s32 = FloatVector.fromArray(S, c, c3 + 2 * L);
        int a0 = r * tokens;
        int a1 = a0 + tokens;
        int a2 = a1 + tokens;
        int a3 = a2 + tokens;
        for (int t = 0; t < tokens; t++) {
            int at = t * n + j;
            FloatVector x0 = FloatVector.fromArray(S, x, at);
            FloatVector x1 = FloatVector.fromArray(S, x, at + L);
            FloatVector x2 = FloatVector.fromArray(S, x, at + 2 * L);
            FloatVector a = FloatVector.broadcast(S, xt[a0 + t]);
            s00 = x0.fma(a, s00);
            s01 = x1.fma(a, s01);
            s02 = x2.fma(a, s02);
            a = FloatVector.broadcast(S, xt[a1 + t]);
            s10 = x0.fma(a, s10);
            s11 = x1.fma(a, s11);
            s12 = x2.fma(a, s12);
            a = FloatVector.broadcast(S, xt[a2 + t]);
            s20 = x0.fma(a, s20);
            s21 = x1.fma(a, s21);
            s22 = x2.fma(a, s22);
            a = FloatVector.broadcast(S, xt[a3 + t]);
            s30 = x0.fma(a, s30);
            s31 = x1.fma(a, s31);
            s32 = x2.fma(a, s32);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
    }

    private static void vector1(float[] c, int n, float[] x, float[] xt, int tokens, int r, int j) {
        FloatVector s = FloatVector.fromArray(S, c, r * n + j);
        for (int t = 0; t < tokens; t++) {
            s = FloatVector.fromArray(S, x, t * n + j).fma(FloatVector.broadcast(S, xt[r * tokens + t]), s);
        }
        s.intoArray(c, r * n + j);
    }
}
