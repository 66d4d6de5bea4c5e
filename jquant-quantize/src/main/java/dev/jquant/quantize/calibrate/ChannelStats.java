package dev.jquant.quantize.calibrate;

import dev.jquant.kernel.Parallel;

import java.util.Arrays;

/**
 * What calibration learned about one linear layer's input (shared by the layers that read the same
 * activations, e.g. q/k/v): per input channel min, max, mean |x| and mean x²; a histogram of all
 * values; optionally the Hessian proxy {@code XᵀX} (GPTQ) and a sample of the input rows (AWQ).
 */
public final class ChannelStats {

    private final int channels;
    private final float[] min;
    private final float[] max;
    private final double[] sumAbs;
    private final double[] sumSq;
    private final Histogram histogram = new Histogram(2048);
    private final float[] xtx;
    private final int keepRows;
    private float[] kept = new float[0];
    private int keptRows;
    private long rows;

    public ChannelStats(int channels, boolean hessian, int keepRows) {
        this.channels = channels;
        this.min = new float[channels];
        this.max = new float[channels];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        this.sumAbs = new double[channels];
        this.sumSq = new double[channels];
        this.xtx = hessian ? new float[Math.multiplyExact(channels, channels)] : null;
        this.keepRows = keepRows;
    }

    /** Adds {@code tokens} input rows of {@link #channels()} values. */
    public synchronized void add(float[] x, int tokens) {
        int c = channels;
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < c; i++) {
                float v = x[t * c + i];
                min[i] = Math.min(min[i], v);
                max[i] = Math.max(max[i], v);
                sumAbs[i] += Math.abs(v);
                sumSq[i] += (double) v * v;
            }
        }
        histogram.add(x, 0, tokens * c);
        if (xtx != null) {
            addOuterProducts(x, tokens);
        }
        int keep = Math.min(tokens, keepRows - keptRows);
        if (keep > 0) {
            kept = Arrays.copyOf(kept, (keptRows + keep) * c);
            System.arraycopy(x, 0, kept, keptRows * c, keep * c);
            keptRows += keep;
        }
        rows += tokens;
    }

    /** xtx[i][j] += Σ_t x[t][i] x[t][j] for j <= i (the upper triangle is the mirror image). */
    private void addOuterProducts(float[] x, int tokens) {
        OuterProducts.addLower(xtx, channels, x, tokens);
    }

    public int channels() {
        return channels;
    }

    /** Input rows (tokens) seen. */
    public long rows() {
        return rows;
    }

    public float[] min() {
        return min.clone();
    }

    public float[] max() {
        return max.clone();
    }

    public float[] meanAbs() {
        float[] out = new float[channels];
        for (int i = 0; i < channels; i++) {
            out[i] = rows == 0 ? 0 : (float) (sumAbs[i] / rows);
        }
        return out;
    }

    public float[] meanSquare() {
        float[] out = new float[channels];
        for (int i = 0; i < channels; i++) {
            out[i] = rows == 0 ? 0 : (float) (sumSq[i] / rows);
        }
        return out;
    }

    /** max(|min|, |max|) per channel: what SmoothQuant and outlier detection read. */
    public float[] absMax() {
        float[] out = new float[channels];
        for (int i = 0; i < channels; i++) {
            out[i] = Math.max(Math.abs(min[i]), Math.abs(max[i]));
        }
        return out;
    }

    public Histogram histogram() {
        return histogram;
    }

    /** The range {@code observer} chooses for these activations with {@code levels} levels. */
    public Range range(RangeObserver observer, int levels) {
        return observer.range(histogram, levels);
    }

    /** {@code XᵀX / rows} as doubles ({@code channels²}, row-major), or null when not recorded. */
    public double[] hessian() {
        if (xtx == null) {
            return null;
        }
        int c = channels;
        double[] h = new double[xtx.length];
        double inv = rows == 0 ? 0 : 1.0 / rows;
        Parallel.get().forRange(c, 64, (start, end) -> {
            for (int i = start; i < end; i++) {
                for (int j = 0; j <= i; j++) {
                    double v = xtx[i * c + j] * inv;
                    h[i * c + j] = v;
                    h[j * c + i] = v;
                }
            }
        });
        return h;
    }

    /** The first input rows seen (up to the number asked for), {@code keptRows() x channels}. */
    public float[] keptInputs() {
        return kept;
    }

    public int keptRows() {
        return keptRows;
    }
}
