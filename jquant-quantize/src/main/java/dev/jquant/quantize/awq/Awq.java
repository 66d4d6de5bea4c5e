package dev.jquant.quantize.awq;

import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.WeightGrid;

/**
 * The two searches of AWQ (Lin et al., 2023), on float weights and sampled input rows.
 * Scale search: input channel c is multiplied by {@code s_c = mean|x_c|^α} (normalised) in the
 * weights and divided out of the activations, with α from a grid chosen so the quantized layers'
 * outputs on the sampled inputs move least. Clip search: each group's range is shrunk by the
 * ratio (down to {@code 1 - maxShrink}) whose rounding error changes the outputs least.
 */
final class Awq {
    private Awq() {
    }

    /** A weight matrix of a linear layer (row-major, {@code rows x cols}) and its target grid. */
    record Linear(float[] w, int rows, int cols, WeightGrid grid) {
    }

    /**
     * Per-channel scales for linears that read the same input {@code x} ({@code tokens x cols});
     * all ones when no α > 0 beats leaving the weights alone.
     */
    static float[] searchScales(Linear[] linears, float[] meanAbs, float[] x, int tokens, int steps) {
        int cols = meanAbs.length;
        float[] best = ones(cols);
        double bestErr = Double.POSITIVE_INFINITY;
        for (int k = 0; k < steps; k++) {
            double alpha = (double) k / steps;
            float[] s = new float[cols];
            double lo = Double.POSITIVE_INFINITY;
            double hi = 0;
            for (int c = 0; c < cols; c++) {
                s[c] = (float) Math.pow(Math.max(meanAbs[c], 1e-4f), alpha);
                lo = Math.min(lo, s[c]);
                hi = Math.max(hi, s[c]);
            }
            float norm = (float) Math.sqrt(lo * hi);
            for (int c = 0; c < cols; c++) {
                s[c] /= norm;
            }
            double err = 0;
            for (Linear l : linears) {
                float[] scaled = scaleColumns(l.w, l.rows, cols, s, false);
                float[] q = roundToGrid(scaled, l.rows, cols, l.grid);
                float[] eff = scaleColumns(q, l.rows, cols, s, true);
                err += outputError(l.w, eff, l.rows, cols, x, tokens);
            }
            if (err < bestErr) {
                bestErr = err;
                best = s;
            }
        }
        return best;
    }

    /** The weights with each group clipped to the shrink ratio (1, 1-1/steps, ..., 1-maxShrink) that errs least on {@code x}. */
    static float[] clip(Linear l, float[] x, int tokens, int steps, double maxShrink) {
        int cols = l.cols;
        GridEncoder probe = l.grid.encoder(l.w, l.rows, cols);
        int group = probe.group();
        int groups = Math.ceilDiv(cols, group);
        float[] out = l.w.clone();
        Parallel.get().forRange(l.rows, 1, (start, end) -> {
            float[] bestErr = new float[groups];
            float[] bestRatio = new float[groups];
            float[] clipped = new float[cols];
            for (int r = start; r < end; r++) {
                java.util.Arrays.fill(bestErr, Float.POSITIVE_INFINITY);
                for (int k = 0; k <= Math.round(steps * maxShrink); k++) {
                    float ratio = 1f - (float) k / steps;
                    for (int g = 0; g < groups; g++) {
                        int c0 = g * group;
                        int c1 = Math.min(cols, c0 + group);
                        float amax = 0;
                        for (int c = c0; c < c1; c++) {
                            amax = Math.max(amax, Math.abs(l.w[r * cols + c]));
                        }
                        float t = amax * ratio;
                        for (int c = c0; c < c1; c++) {
                            clipped[c] = Math.max(-t, Math.min(t, l.w[r * cols + c]));
                        }
                    }
                    float[] q = roundRow(probe, r, clipped, cols);
                    for (int g = 0; g < groups; g++) {
                        int c0 = g * group;
                        int c1 = Math.min(cols, c0 + group);
                        double e = 0;
                        for (int t = 0; t < tokens; t++) {
                            double d = 0;
                            for (int c = c0; c < c1; c++) {
                                d += (l.w[r * cols + c] - q[c]) * x[t * cols + c];
                            }
                            e += d * d;
                        }
                        if (e < bestErr[g]) {
                            bestErr[g] = (float) e;
                            bestRatio[g] = ratio;
                        }
                    }
                }
                for (int g = 0; g < groups; g++) {
                    int c0 = g * group;
                    int c1 = Math.min(cols, c0 + group);
                    float amax = 0;
                    for (int c = c0; c < c1; c++) {
                        amax = Math.max(amax, Math.abs(l.w[r * cols + c]));
                    }
                    float t = amax * bestRatio[g];
                    for (int c = c0; c < c1; c++) {
                        out[r * cols + c] = Math.max(-t, Math.min(t, l.w[r * cols + c]));
                    }
                }
            }
        });
        return out;
    }

    /** Row {@code r} of {@code values} rounded to nearest on the encoder's grid (fit per group, then round). */
    private static float[] roundRow(GridEncoder enc, int r, float[] values, int cols) {
        float[] q = new float[cols];
        for (int c0 = 0; c0 < cols; c0 += enc.group()) {
            enc.fit(r, values, c0);
            for (int c = c0; c < Math.min(cols, c0 + enc.group()); c++) {
                q[c] = enc.round(r, c, values[c]);
            }
        }
        return q;
    }

    static float[] roundToGrid(float[] w, int rows, int cols, WeightGrid grid) {
        GridEncoder enc = grid.encoder(w, rows, cols);
        float[] q = new float[rows * cols];
        Parallel.get().forRange(rows, 4, (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                System.arraycopy(w, r * cols, row, 0, cols);
                System.arraycopy(roundRow(enc, r, row, cols), 0, q, r * cols, cols);
            }
        });
        return q;
    }

    /** w with column c multiplied (or divided) by s[c]. */
    static float[] scaleColumns(float[] w, int rows, int cols, float[] s, boolean divide) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = divide ? w[r * cols + c] / s[c] : w[r * cols + c] * s[c];
            }
        }
        return out;
    }

    /** Σ_t Σ_r ((a - b)[r] · x_t)²: how far two weight matrices' outputs on the rows of x are apart. */
    static double outputError(float[] a, float[] b, int rows, int cols, float[] x, int tokens) {
        double[] perRow = new double[rows];
        Parallel.get().forRange(rows, 4, (start, end) -> {
            float[] d = new float[cols];
            for (int r = start; r < end; r++) {
                for (int c = 0; c < cols; c++) {
                    d[c] = a[r * cols + c] - b[r * cols + c];
                }
                double e = 0;
                for (int t = 0; t < tokens; t++) {
                    double v = dev.jquant.kernel.MatMul.dot(d, 0, x, t * cols, cols);
                    e += v * v;
                }
                perRow[r] = e;
            }
        });
        return java.util.Arrays.stream(perRow).sum();
    }

    static float[] ones(int n) {
        float[] s = new float[n];
        java.util.Arrays.fill(s, 1f);
        return s;
    }
}
