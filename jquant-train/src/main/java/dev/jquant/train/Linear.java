package dev.jquant.train;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The three products of a linear layer {@code y = x W^T} ({@code W [out, in]} row-major, as GGUF
 * stores it; {@code x [n, in]}, {@code y [n, out]}) that training needs: forward, the input gradient
 * {@code dx = dy W} and the weight gradient {@code dW += dy^T x}. Each output element is summed in a
 * fixed order whatever the thread count, so training is bit-for-bit reproducible.
 */
public final class Linear {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Tokens whose activations are reused from cache across weight rows in {@link #backwardWeight}. */
    private static final int TOKEN_TILE = 64;

    private Linear() {
    }

    /**
     * {@code y[t, o] = W[o] · x[t]}, computed as {@code y[t] = sum_c x[t, c] W^T[c]} over a transposed
     * copy of W (cheap next to the product) so that no sum is split across vector lanes.
     */
    public static void forward(float[] x, int n, float[] w, int out, int in, float[] y) {
        float[] wt = new float[in * out];
        Parallel.get().forRange(out, 16, (start, end) -> {
            for (int o = start; o < end; o++) {
                for (int c = 0; c < in; c++) {
                    wt[c * out + o] = w[o * in + c];
                }
            }
        });
        backwardInput(x, n, wt, in, out, y, false);
    }

    /**
     * {@code dx[t] (+)= sum_o dy[t, o] W[o]}; overwrites dx unless {@code accumulate}. Four tokens at a
     * time, so each load of a weight vector feeds four FMAs.
     */
    public static void backwardInput(float[] dy, int n, float[] w, int out, int in, float[] dx, boolean accumulate) {
        Parallel.get().forRange((n + 3) / 4, 1, (start, end) -> {
            for (int t0 = start * 4; t0 < Math.min(n, end * 4); t0 += 4) {
                if (t0 + 4 > n) {
                    for (int t = t0; t < n; t++) {
                        backwardInputScalar(dy, t, w, out, in, dx, accumulate, 0);
                    }
                    continue;
                }
                int c = 0;
                for (int upper = S.loopBound(in); c < upper; c += L) {
                    FloatVector a0 = accumulate ? FloatVector.fromArray(S, dx, t0 * in + c) : FloatVector.zero(S);
                    FloatVector a1 = accumulate ? FloatVector.fromArray(S, dx, (t0 + 1) * in + c) : FloatVector.zero(S);
                    FloatVector a2 = accumulate ? FloatVector.fromArray(S, dx, (t0 + 2) * in + c) : FloatVector.zero(S);
                    FloatVector a3 = accumulate ? FloatVector.fromArray(S, dx, (t0 + 3) * in + c) : FloatVector.zero(S);
                    for (int o = 0; o < out; o++) {
                        FloatVector wv = FloatVector.fromArray(S, w, o * in + c);
                        a0 = wv.fma(FloatVector.broadcast(S, dy[t0 * out + o]), a0);
                        a1 = wv.fma(FloatVector.broadcast(S, dy[(t0 + 1) * out + o]), a1);
                        a2 = wv.fma(FloatVector.broadcast(S, dy[(t0 + 2) * out + o]), a2);
                        a3 = wv.fma(FloatVector.broadcast(S, dy[(t0 + 3) * out + o]), a3);
                    }
                    a0.intoArray(dx, t0 * in + c);
                    a1.intoArray(dx, (t0 + 1) * in + c);
                    a2.intoArray(dx, (t0 + 2) * in + c);
                    a3.intoArray(dx, (t0 + 3) * in + c);
                }
                for (int t = t0; t < t0 + 4; t++) {
                    backwardInputScalar(dy, t, w, out, in, dx, accumulate, c);
                }
            }
        });
    }

    /** Columns {@code from..in} of one token's input gradient, one element at a time. */
    private static void backwardInputScalar(float[] dy, int t, float[] w, int out, int in, float[] dx,
                                            boolean accumulate, int from) {
        for (int c = from; c < in; c++) {
            float s = accumulate ? dx[t * in + c] : 0f;
            for (int o = 0; o < out; o++) {
                s = Math.fma(dy[t * out + o], w[o * in + c], s);
            }
            dx[t * in + c] = s;
        }
    }

    /**
     * {@code dW[o] += sum_t dy[t, o] x[t]}, tokens summed in order. Tokens go in tiles that stay in
     * cache while every row of the thread's share takes them in; each activation load feeds four rows.
     */
    public static void backwardWeight(float[] dy, float[] x, int n, int out, int in, float[] dw) {
        Parallel.get().forRange(out, 4, (start, end) -> {
            for (int t0 = 0; t0 < n; t0 += TOKEN_TILE) {
                int t1 = Math.min(n, t0 + TOKEN_TILE);
                int o = start;
                for (; o + 4 <= end; o += 4) {
                    int c = 0;
                    for (int upper = S.loopBound(in); c < upper; c += L) {
                        FloatVector a0 = FloatVector.fromArray(S, dw, o * in + c);
                        FloatVector a1 = FloatVector.fromArray(S, dw, (o + 1) * in + c);
                        FloatVector a2 = FloatVector.fromArray(S, dw, (o + 2) * in + c);
                        FloatVector a3 = FloatVector.fromArray(S, dw, (o + 3) * in + c);
                        for (int t = t0; t < t1; t++) {
                            FloatVector xv = FloatVector.fromArray(S, x, t * in + c);
                            int g = t * out + o;
                            a0 = xv.fma(FloatVector.broadcast(S, dy[g]), a0);
                            a1 = xv.fma(FloatVector.broadcast(S, dy[g + 1]), a1);
                            a2 = xv.fma(FloatVector.broadcast(S, dy[g + 2]), a2);
                            a3 = xv.fma(FloatVector.broadcast(S, dy[g + 3]), a3);
                        }
                        a0.intoArray(dw, o * in + c);
                        a1.intoArray(dw, (o + 1) * in + c);
                        a2.intoArray(dw, (o + 2) * in + c);
                        a3.intoArray(dw, (o + 3) * in + c);
                    }
                    for (int r = o; r < o + 4; r++) {
                        backwardWeightScalar(dy, x, t0, t1, out, in, dw, r, c);
                    }
                }
                for (; o < end; o++) {
                    backwardWeightScalar(dy, x, t0, t1, out, in, dw, o, 0);
                }
            }
        });
    }

    /** Columns {@code from..in} of weight row {@code o}'s gradient over tokens t0..t1, one element at a time. */
    private static void backwardWeightScalar(float[] dy, float[] x, int t0, int t1, int out, int in, float[] dw,
                                             int o, int from) {
        for (int c = from; c < in; c++) {
            float s = dw[o * in + c];
            for (int t = t0; t < t1; t++) {
                s = Math.fma(dy[t * out + o], x[t * in + c], s);
            }
            dw[o * in + c] = s;
        }
    }

    /** Dot product in a fixed order (four interleaved partial sums), the same on every machine and JIT state. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 = Math.fma(a[aOff + i], b[bOff + i], s0);
            s1 = Math.fma(a[aOff + i + 1], b[bOff + i + 1], s1);
            s2 = Math.fma(a[aOff + i + 2], b[bOff + i + 2], s2);
            s3 = Math.fma(a[aOff + i + 3], b[bOff + i + 3], s3);
        }
        for (; i < n; i++) {
            s0 = Math.fma(a[aOff + i], b[bOff + i], s0);
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code y[yOff..] += a * x[xOff..]} over n elements. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(a, x[xOff + i], y[yOff + i]);
        }
    }
}
