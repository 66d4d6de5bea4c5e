package dev.jquant.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Element-wise operations of the forward pass over flat row-major activation arrays. */
final class Ops {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Ops() {
    }

    /** RMSNorm of each of {@code rows} rows of length {@code n}: x / sqrt(mean(x²) + eps) * weight. */
    static void rmsNorm(float[] x, float[] weight, float[] out, int rows, int n, float eps) {
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            FloatVector ssV = FloatVector.zero(S);
            int i = 0;
            int upper = S.loopBound(n);
            for (; i < upper; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                ssV = v.fma(v, ssV);
            }
            double ss = dev.jquant.kernel.MatMul.sumLanes(ssV, new float[S.length()]);
            for (; i < n; i++) {
                ss += (double) x[off + i] * x[off + i];
            }
            float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
            FloatVector sv = FloatVector.broadcast(S, scale);
            for (i = 0; i < upper; i += S.length()) {
                FloatVector.fromArray(S, weight, i).mul(FloatVector.fromArray(S, x, off + i).mul(sv)).intoArray(out, off + i);
            }
            for (; i < n; i++) {
                out[off + i] = weight[i] * (x[off + i] * scale);
            }
        }
    }

    static void addBias(float[] x, float[] bias, int rows) {
        int n = bias.length;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                x[r * n + i] += bias[i];
            }
        }
    }

    static void addInPlace(float[] x, float[] y, int n) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, i).add(FloatVector.fromArray(S, y, i)).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] += y[i];
        }
    }

    /** gate = silu(gate) * up (scalar Math.exp: the Vector API's EXP differs between JIT tiers). */
    static void swiglu(float[] gate, float[] up, int n) {
        // Split over the pool: one exp per element is a few milliseconds of a 1B model's token.
        dev.jquant.kernel.Parallel.get().forRange(n, 1024, (start, end) -> {
            for (int i = start; i < end; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
            }
        });
    }

    /** In-place softmax over x[0..n) (the vectorised one of {@link dev.jquant.kernel.Attention}). */
    static void softmax(float[] x, int n) {
        dev.jquant.kernel.Attention.softmax(x, n);
    }

    /** y[yOff..] += a * x[xOff..] over n elements. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(S, a);
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }
}
