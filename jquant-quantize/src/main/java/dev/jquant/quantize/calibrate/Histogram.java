package dev.jquant.quantize.calibrate;

/**
 * A histogram of values over a symmetric range [-R, R] that doubles (merging bin pairs) when a value
 * falls outside, so values can stream in without knowing their range first. Exact min and max ride along.
 */
public final class Histogram {
    private double[] counts;
    private float radius;
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long total;

    /** {@code bins} must be a multiple of 4. */
    public Histogram(int bins) {
        if (bins < 4 || bins % 4 != 0) {
            throw new IllegalArgumentException("histogram bins must be a positive multiple of 4, got " + bins);
        }
        counts = new double[bins];
    }

    public void add(float[] v, int off, int len) {
        for (int i = off; i < off + len; i++) {
            float x = v[i];
            if (!Float.isFinite(x)) {
                continue;
            }
            min = Math.min(min, x);
            max = Math.max(max, x);
            float a = Math.abs(x);
            if (radius == 0) {
                radius = a > 0 ? a : 1e-6f;
            }
            while (a > radius) {
                grow();
            }
            int b = (int) ((x + radius) / (2 * radius) * counts.length);
            counts[Math.min(counts.length - 1, Math.max(0, b))]++;
            total++;
        }
    }

    private void grow() {
        int n = counts.length;
        double[] merged = new double[n];
        for (int k = 0; k < n; k++) {
            merged[n / 4 + k / 2] += counts[k];
        }
        counts = merged;
        radius *= 2;
    }

    public int bins() {
        return counts.length;
    }

    public double count(int bin) {
        return counts[bin];
    }

    public float center(int bin) {
        return -radius + (bin + 0.5f) * 2 * radius / counts.length;
    }

    public long total() {
        return total;
    }

    public float min() {
        return total == 0 ? 0 : min;
    }

    public float max() {
        return total == 0 ? 0 : max;
    }

    public float absMax() {
        return Math.max(Math.abs(min()), Math.abs(max()));
    }

    /** The value below which a fraction {@code q} of the values lie (bin resolution, clamped to min..max). */
    public float quantile(double q) {
        double want = q * total;
        double seen = 0;
        for (int b = 0; b < counts.length; b++) {
            seen += counts[b];
            if (seen >= want) {
                return Math.max(min(), Math.min(max(), center(b)));
            }
        }
        return max();
    }

    /** Counts of |x| in {@code bins / 2} equal bins over [0, absMax]. */
    public double[] absCounts() {
        int n = counts.length / 2;
        double[] out = new double[n];
        float am = absMax();
        if (am == 0) {
            out[0] = total;
            return out;
        }
        for (int b = 0; b < counts.length; b++) {
            int k = (int) (Math.abs(center(b)) / am * n);
            out[Math.min(n - 1, k)] += counts[b];
        }
        return out;
    }
}
