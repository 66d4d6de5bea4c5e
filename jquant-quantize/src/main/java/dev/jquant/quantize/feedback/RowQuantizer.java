package dev.jquant.quantize.feedback;

import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;

import java.lang.foreign.MemorySegment;

/**
 * One weight row in an asymmetric group-wise {@link IntFormat}, with its scales, zero points and
 * codes held explicitly so they can be refined against {@code e(q) = (w - q)ᵀ H (w - q)}, the
 * squared error the row causes on calibration inputs with Gram matrix {@code H = XᵀX}. Keeps
 * {@code H (w - q)} up to date so each candidate change of one group is scored in O(group²).
 */
final class RowQuantizer {
    /** Relative scale changes tried per group, then zero-point shifts (in codes). */
    private static final double[] SCALE_STEPS = {0.8, 0.9, 0.95, 0.98, 1.02, 1.05, 1.1};
    private static final double[] ZERO_STEPS = {-1, -0.5, -0.25, 0.25, 0.5, 1};

    private final IntFormat format;
    private final float[] w;
    private final double[][] h;
    private final int group;
    private final int maxCode;
    final float[] scales;
    final float[] zeros;
    final int[] codes;
    /** H (w - q). */
    private final double[] hd;

    /** Starts from round-to-nearest with min-max ranges (as {@link IntFormat} encodes). */
    RowQuantizer(IntFormat format, float[] w, double[][] h) {
        this.format = format;
        this.w = w;
        this.h = h;
        this.group = format.groupSize() == IntFormat.ROW ? w.length : format.groupSize();
        this.maxCode = (1 << format.bits()) - 1;
        int groups = format.groups(w.length);
        scales = new float[groups];
        zeros = new float[groups];
        codes = new int[w.length];
        for (int g = 0; g < groups; g++) {
            int from = g * group;
            int to = Math.min(w.length, from + group);
            float min = 0;
            float max = 0;
            for (int i = from; i < to; i++) {
                min = Math.min(min, w[i]);
                max = Math.max(max, w[i]);
            }
            float s = stored(format.scaleType(), (max - min) / maxCode);
            scales[g] = s > 0 ? s : stored(format.scaleType(), 1e-8f);
            zeros[g] = stored(format.scaleType(), (float) Math.clamp(Math.rint(-min / scales[g]), 0, maxCode));
            for (int i = from; i < to; i++) {
                codes[i] = code(w[i], scales[g], zeros[g]);
            }
        }
        hd = new double[w.length];
        double[] d = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            d[i] = w[i] - value(i);
        }
        for (int i = 0; i < w.length; i++) {
            double s = 0;
            for (int j = 0; j < w.length; j++) {
                s += h[i][j] * d[j];
            }
            hd[i] = s;
        }
    }

    private int code(float x, float s, float z) {
        return (int) Math.clamp(Math.rint(x / s + z), 0, maxCode);
    }

    private double value(int i) {
        int g = i / group;
        return scales[g] * (codes[i] - zeros[g]);
    }

    /** One pass of coordinate descent over the groups' scales and zero points; returns whether anything improved. */
    boolean refineScales() {
        boolean improved = false;
        for (int g = 0; g < scales.length; g++) {
            int from = g * group;
            int to = Math.min(w.length, from + group);
            float bestS = scales[g];
            float bestZ = zeros[g];
            double bestGain = 1e-12;
            for (double f : SCALE_STEPS) {
                float s = stored(format.scaleType(), (float) (scales[g] * f));
                // keep the middle of the code range where it was: s'(c - z') = s(c - z)
                double c = maxCode / 2.0;
                float z = stored(format.scaleType(), (float) (c - (c - zeros[g]) / f));
                double gain = gain(from, to, s, z);
                if (gain > bestGain) {
                    bestGain = gain;
                    bestS = s;
                    bestZ = z;
                }
                double gainSameZero = gain(from, to, s, zeros[g]);
                if (gainSameZero > bestGain) {
                    bestGain = gainSameZero;
                    bestS = s;
                    bestZ = zeros[g];
                }
            }
            for (double dz : ZERO_STEPS) {
                float z = stored(format.scaleType(), (float) (zeros[g] + dz));
                double gain = gain(from, to, scales[g], z);
                if (gain > bestGain) {
                    bestGain = gain;
                    bestS = scales[g];
                    bestZ = z;
                }
            }
            if (bestS != scales[g] || bestZ != zeros[g]) {
                apply(from, to, bestS, bestZ);
                improved = true;
            }
        }
        return improved;
    }

    /** Error reduction if group [from, to) were re-rounded with scale s and zero z. */
    private double gain(int from, int to, float s, float z) {
        // e(d - Δ) = e(d) - 2 Δᵀ(H d) + Δᵀ H Δ, Δ = q' - q on the group
        int n = to - from;
        double[] delta = new double[n];
        double linear = 0;
        for (int i = from; i < to; i++) {
            double q = value(i);
            double q2 = s * (code(w[i], s, z) - z);
            delta[i - from] = q2 - q;
            linear += delta[i - from] * hd[i];
        }
        double quad = 0;
        for (int a = 0; a < n; a++) {
            if (delta[a] == 0) {
                continue;
            }
            double row = 0;
            for (int b = 0; b < n; b++) {
                row += h[from + a][from + b] * delta[b];
            }
            quad += delta[a] * row;
        }
        return 2 * linear - quad;
    }

    private void apply(int from, int to, float s, float z) {
        int g = from / group;
        double[] delta = new double[to - from];
        for (int i = from; i < to; i++) {
            double q = value(i);
            codes[i] = code(w[i], s, z);
            delta[i - from] = s * (codes[i] - z) - q;
        }
        scales[g] = s;
        zeros[g] = z;
        updateHd(from, delta);
    }

    /** Greedy rounding: moves single codes one step up or down while that lowers the error; returns whether any moved. */
    boolean refineRounding() {
        boolean improved = false;
        for (int i = 0; i < w.length; i++) {
            int g = i / group;
            for (int step : new int[] {-1, 1}) {
                int c = codes[i] + step;
                if (c < 0 || c > maxCode) {
                    continue;
                }
                double delta = scales[g] * step;
                if (2 * delta * hd[i] - delta * delta * h[i][i] > 1e-12) {
                    codes[i] = c;
                    updateHd(i, new double[] {delta});
                    improved = true;
                    break;
                }
            }
        }
        return improved;
    }

    /** H(w - q) after q changed by delta on [from, from + delta.length). */
    private void updateHd(int from, double[] delta) {
        for (int j = 0; j < w.length; j++) {
            double s = 0;
            for (int a = 0; a < delta.length; a++) {
                s += h[j][from + a] * delta[a];
            }
            hd[j] -= s;
        }
    }

    /** The dequantized row, whose re-encoding with {@link #scales} and {@link #zeros} gives back {@link #codes}. */
    float[] dequantized() {
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = (float) value(i);
        }
        return out;
    }

    static float stored(ScaleType type, float v) {
        MemorySegment s = MemorySegment.ofArray(new byte[4]);
        return type.write(s, 0, v);
    }
}
