package dev.jquant.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled dot-product attention over an F32 KV cache, for a batch of {@code n} new tokens at
 * positions {@code position .. position+n-1} (grouped-query: {@code heads / kvHeads} query heads
 * share a KV head). Layouts: {@code q} and {@code out} are {@code [n][heads * hd]}; {@code keys} and
 * {@code values} are {@code [positions][kvHeads * hd]}.
 *
 * <p>For a prompt the keys of each KV head are first transposed to {@code [hd][positions]}, so the
 * scores of a vector of positions are {@code hd} broadcast FMAs with no horizontal reduction per
 * position; the weighted sum of values keeps the output head in registers.
 * One token (decode) keeps the direct per-position dot products, as transposing the cache would
 * cost as much as the attention itself.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Batches at least this long take the transposed-key path. */
    static final int TRANSPOSE_MIN_TOKENS = 8;

    private Attention() {
    }

    public static void causal(float[] q, float[] keys, float[] values, int heads, int kvHeads, int hd,
                              int position, int n, float[] out) {
        if (n < TRANSPOSE_MIN_TOKENS || hd % L != 0) {
            direct(q, keys, values, heads, kvHeads, hd, position, n, out);
            return;
        }
        int len = position + n;
        int stride = (len + L - 1) / L * L;
        int kvDim = kvHeads * hd;
        float[] kt = new float[kvHeads * hd * stride];
        Parallel.get().forRange(kvHeads * hd, 8, (start, end) -> {
            for (int row = start; row < end; row++) {
                int base = row * stride;
                for (int p = 0; p < len; p++) {
                    kt[base + p] = keys[p * kvDim + row];
                }
            }
        });
        int group = heads / kvHeads;
        int qDim = heads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.get().forRange(n * heads, 1, (start, end) -> {
            float[] scores = new float[stride];
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int kvh = h / group;
                int qOff = t * qDim + h * hd;
                int count = position + t + 1;
                scoresTransposed(q, qOff, kt, kvh * hd * stride, stride, hd, count, scale, scores);
                softmax(scores, count);
                weightedValues(scores, count, values, kvDim, kvh * hd, hd, out, qOff);
            }
        });
    }

    /** {@code scores[p] = scale * q · k_p} for p < count, a vector of positions at a time (lanes past count are junk). */
    private static void scoresTransposed(float[] q, int qOff, float[] kt, int ktOff, int stride, int hd, int count,
                                         float scale, float[] scores) {
        for (int p0 = 0; p0 < count; p0 += 2 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            boolean two = p0 + L < count;
            for (int d = 0; d < hd; d++) {
                FloatVector qd = FloatVector.broadcast(S, q[qOff + d]);
                int row = ktOff + d * stride + p0;
                a0 = FloatVector.fromArray(S, kt, row).fma(qd, a0);
                if (two) {
                    a1 = FloatVector.fromArray(S, kt, row + L).fma(qd, a1);
                }
            }
            a0.mul(scale).intoArray(scores, p0);
            if (two) {
                a1.mul(scale).intoArray(scores, p0 + L);
            }
        }
    }

    /** {@code out[oOff..+hd) = sum_p w[p] * v_p}, the head's output in registers, four vectors at a time. */
    private static void weightedValues(float[] w, int count, float[] values, int kvDim, int vOff, int hd,
                                       float[] out, int oOff) {
        int c = 0;
        for (; c + 4 * L <= hd; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int p = 0; p < count; p++) {
                FloatVector wp = FloatVector.broadcast(S, w[p]);
                int v = p * kvDim + vOff + c;
                a0 = FloatVector.fromArray(S, values, v).fma(wp, a0);
                a1 = FloatVector.fromArray(S, values, v + L).fma(wp, a1);
                a2 = FloatVector.fromArray(S, values, v + 2 * L).fma(wp, a2);
                a3 = FloatVector.fromArray(S, values, v + 3 * L).fma(wp, a3);
            }
            a0.intoArray(out, oOff + c);
            a1.intoArray(out, oOff + c + L);
            a2.intoArray(out, oOff + c + 2 * L);
            a3.intoArray(out, oOff + c + 3 * L);
        }
        for (; c < hd; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            int p = 0;
            for (; p + 1 < count; p += 2) {
                a0 = FloatVector.fromArray(S, values, p * kvDim + vOff + c).fma(FloatVector.broadcast(S, w[p]), a0);
                a1 = FloatVector.fromArray(S, values, (p + 1) * kvDim + vOff + c).fma(FloatVector.broadcast(S, w[p + 1]), a1);
            }
            if (p < count) {
                a0 = FloatVector.fromArray(S, values, p * kvDim + vOff + c).fma(FloatVector.broadcast(S, w[p]), a0);
            }
            a0.add(a1).intoArray(out, oOff + c);
        }
    }

    /** Per (token, head): a vector dot product per position, softmax, a vector axpy per position. */
    static void direct(float[] q, float[] keys, float[] values, int heads, int kvHeads, int hd,
                       int position, int n, float[] out) {
        int kvDim = kvHeads * hd;
        int group = heads / kvHeads;
        int qDim = heads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.get().forRange(n * heads, 1, (start, end) -> {
            float[] scores = new float[position + n];
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int kvOff = (h / group) * hd;
                int qOff = t * qDim + h * hd;
                int count = position + t + 1;
                for (int p = 0; p < count; p++) {
                    scores[p] = MatMul.dot(q, qOff, keys, p * kvDim + kvOff, hd) * scale;
                }
                softmax(scores, count);
                java.util.Arrays.fill(out, qOff, qOff + hd, 0f);
                for (int p = 0; p < count; p++) {
                    axpy(scores[p], values, p * kvDim + kvOff, out, qOff, hd);
                }
            }
        });
    }

    /** The specification: plain loops in double precision. For tests. */
    public static void causalScalar(float[] q, float[] keys, float[] values, int heads, int kvHeads, int hd,
                                    int position, int n, float[] out) {
        int kvDim = kvHeads * hd;
        int group = heads / kvHeads;
        int qDim = heads * hd;
        double scale = 1.0 / Math.sqrt(hd);
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int kvOff = (h / group) * hd;
                int qOff = t * qDim + h * hd;
                int count = position + t + 1;
                double[] s = new double[count];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < count; p++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += (double) q[qOff + d] * keys[p * kvDim + kvOff + d];
                    }
                    s[p] = dot * scale;
                    max = Math.max(max, s[p]);
                }
                double sum = 0;
                for (int p = 0; p < count; p++) {
                    s[p] = Math.exp(s[p] - max);
                    sum += s[p];
                }
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int p = 0; p < count; p++) {
                        o += s[p] / sum * values[p * kvDim + kvOff + d];
                    }
                    out[qOff + d] = (float) o;
                }
            }
        }
    }

    /**
     * In-place softmax over x[0..n): vector max and scale, scalar {@code Math.exp} and sum, so the
     * result is the same in every JIT tier (the Vector API's EXP and reduceLanes(ADD) are not).
     */
    public static void softmax(float[] x, int n) {
        int upper = S.loopBound(n);
        FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < upper; i += L) {
            maxV = maxV.max(FloatVector.fromArray(S, x, i));
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        float sum = 0;
        for (i = 0; i < n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        float inv = 1f / sum;
        FloatVector invV = FloatVector.broadcast(S, inv);
        for (i = 0; i < upper; i += L) {
            FloatVector.fromArray(S, x, i).mul(invV).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] *= inv;
        }
    }

    /** y[yOff..] += a * x[xOff..] over n elements. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(S, a);
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }
}
