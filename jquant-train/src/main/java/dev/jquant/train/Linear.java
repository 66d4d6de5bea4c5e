package dev.jquant.train;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    private Linear() {
    }

    /** {@code y[t, o] = W[o] · x[t]}. */
    public static void forward(float[] x, int n, float[] w, int out, int in, float[] y) {
        Parallel.get().forRange(n, 4, (start, end) -> {
            for (int o = 0; o < out; o += 4) {
                if (o + 4 <= out) {
                    for (int t = start; t < end; t++) {
                        dot4(w, o * in, in, x, t * in, y, t * out + o);
                    }
                } else {
                    for (int r = o; r < out; r++) {
                        for (int t = start; t < end; t++) {
                            y[t * out + r] = dot(w, r * in, x, t * in, in);
                        }
                    }
                }
            }
        });
    }

    /** {@code dx[t] (+)= sum_o dy[t, o] W[o]}; overwrites dx unless {@code accumulate}. */
    public static void backwardInput(float[] dy, int n, float[] w, int out, int in, float[] dx, boolean accumulate) {
        Parallel.get().forRange(n, 4, (start, end) -> {
            for (int t = start; t < end; t++) {
                int dxo = t * in;
                int dyo = t * out;
                int c = 0;
                for (int upper = S.loopBound(in); c < upper; c += L) {
                    FloatVector acc = accumulate ? FloatVector.fromArray(S, dx, dxo + c) : FloatVector.zero(S);
                    for (int o = 0; o < out; o++) {
                        acc = FloatVector.fromArray(S, w, o * in + c).fma(FloatVector.broadcast(S, dy[dyo + o]), acc);
                    }
                    acc.intoArray(dx, dxo + c);
                }
                for (; c < in; c++) {
                    float s = accumulate ? dx[dxo + c] : 0f;
                    for (int o = 0; o < out; o++) {
                        s += dy[dyo + o] * w[o * in + c];
                    }
                    dx[dxo + c] = s;
                }
            }
        });
    }

    /** {@code dW[o] += sum_t dy[t, o] x[t]}, tokens summed in order. */
    public static void backwardWeight(float[] dy, float[] x, int n, int out, int in, float[] dw) {
        Parallel.get().forRange(out, 4, (start, end) -> {
            for (int o = start; o < end; o++) {
                int wo = o * in;
                int c = 0;
                for (int upper = S.loopBound(in); c < upper; c += L) {
                    FloatVector acc = FloatVector.fromArray(S, dw, wo + c);
                    for (int t = 0; t < n; t++) {
                        float g = dy[t * out + o];
                        if (g != 0f) {
                            acc = FloatVector.fromArray(S, x, t * in + c).fma(FloatVector.broadcast(S, g), acc);
                        }
                    }
                    acc.intoArray(dw, wo + c);
                }
                for (; c < in; c++) {
                    float s = dw[wo + c];
                    for (int t = 0; t < n; t++) {
                        s += dy[t * out + o] * x[t * in + c];
                    }
                    dw[wo + c] = s;
                }
            }
        });
    }

    /** Dot product of two float arrays. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code y[yOff..] += a * x[xOff..]} over n elements. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** Four consecutive rows of w against one activation vector: each activation load feeds four FMAs. */
    private static void dot4(float[] w, int wo, int in, float[] x, int xo, float[] y, int yo) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(in); i < upper; i += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            a0 = FloatVector.fromArray(S, w, wo + i).fma(xv, a0);
            a1 = FloatVector.fromArray(S, w, wo + in + i).fma(xv, a1);
            a2 = FloatVector.fromArray(S, w, wo + 2 * in + i).fma(xv, a2);
            a3 = FloatVector.fromArray(S, w, wo + 3 * in + i).fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) {
            float xi = x[xo + i];
            s0 += w[wo + i] * xi;
            s1 += w[wo + in + i] * xi;
            s2 += w[wo + 2 * in + i] * xi;
            s3 += w[wo + 3 * in + i] * xi;
        }
        y[yo] = s0;
        y[yo + 1] = s1;
        y[yo + 2] = s2;
        y[yo + 3] = s3;
    }
}
