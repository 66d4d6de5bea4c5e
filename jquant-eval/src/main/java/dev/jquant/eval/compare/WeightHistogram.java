package dev.jquant.eval.compare;

import dev.jquant.tensor.Tensor;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Histogram of one weight tensor's values over fixed bins, and the quantization grid of one block:
 * the distinct values the block holding the tensor's largest |w| decodes to.
 */
public record WeightHistogram(String tensor, String format, double min, double max, long[] counts, double[] grid) {

    public static final int BINS = 80;

    /** Histogram of {@code t} over [min, max]; grid of {@code blockSize}-wide block around the extreme weight. */
    public static WeightHistogram of(Tensor t, double min, double max, Tensor original, int blockSize) {
        long[] counts = new long[BINS];
        int cols = t.cols();
        float[] row = new float[cols];
        float[] orig = new float[cols];
        int bestRow = 0;
        int bestCol = 0;
        float best = -1;
        for (int r = 0, rows = t.rows(); r < rows; r++) {
            t.decodeRow(r, row, 0);
            original.decodeRow(r, orig, 0);
            for (int i = 0; i < cols; i++) {
                counts[bin(row[i], min, max)]++;
                if (Math.abs(orig[i]) > best) {
                    best = Math.abs(orig[i]);
                    bestRow = r;
                    bestCol = i;
                }
            }
        }
        t.decodeRow(bestRow, row, 0);
        int start = bestCol - bestCol % blockSize;
        TreeSet<Double> levels = new TreeSet<>();
        for (int i = start; i < Math.min(cols, start + blockSize); i++) {
            levels.add((double) row[i]);
        }
        double[] grid = t == original ? new double[0] : levels.stream().mapToDouble(Double::doubleValue).toArray();
        return new WeightHistogram(t.name(), t.format().name(), min, max, counts, grid);
    }

    /** The range of a tensor's values, for bins shared by its original and quantized versions. */
    public static double[] range(Tensor t) {
        float[] v = t.toFloats();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        double pad = (hi - lo) * 0.02 + 1e-12;
        return new double[] {lo - pad, hi + pad};
    }

    private static int bin(double v, double min, double max) {
        int b = (int) Math.floor((v - min) / (max - min) * BINS);
        return Math.max(0, Math.min(BINS - 1, b));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightHistogram h && tensor.equals(h.tensor) && format.equals(h.format)
                && Arrays.equals(counts, h.counts) && Arrays.equals(grid, h.grid);
    }

    @Override
    public int hashCode() {
        return tensor.hashCode() * 31 + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "WeightHistogram[" + tensor + " " + format + "]";
    }
}
