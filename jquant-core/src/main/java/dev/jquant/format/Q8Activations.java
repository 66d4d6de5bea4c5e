package dev.jquant.format;

/**
 * Activations quantized to 8 bits as ggml quantizes them for its integer dot products (Q8_0), kept
 * as 16-bit lanes ready for the row-group kernels ({@link RowGroups}): blocks of 32,
 * {@code d = amax / 127}, quants {@code x / d} rounded to nearest, ties to even, as ggml's vector
 * quantizer rounds. Each block's scale and the sum of its quants are kept beside them.
 */
public final class Q8Activations {
    static final int BLOCK = 32;
    /** Adding and subtracting 1.5 * 2^23 rounds a float below 2^22 to the nearest integer, ties to even. */
    private static final float ROUNDING = 0x1.8p23f;
    final short[] quants;
    final float[] scales;
    final int[] sums;

    private Q8Activations(int n) {
        this.quants = new short[n];
        this.scales = new float[n / BLOCK];
        this.sums = new int[n / BLOCK];
    }

    /** {@code x[0..n)} quantized; {@code n} a multiple of 32. */
    public static Q8Activations quantize(float[] x, int n) {
        if (n % BLOCK != 0 || x.length < n) {
            throw new IllegalArgumentException("activations of " + n + " elements (array " + x.length
                    + ") are not whole blocks of " + BLOCK);
        }
        Q8Activations q = new Q8Activations(n);
        for (int b = 0; b < n / BLOCK; b++) {
            int xo = b * BLOCK;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(x[xo + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < BLOCK; j++) {
                int v = (int) (x[xo + j] * id + ROUNDING - ROUNDING);
                q.quants[xo + j] = (short) v;
                sum += v;
            }
            q.scales[b] = d;
            q.sums[b] = sum;
        }
        return q;
    }

    /**
     * {@code factor} times the sum of the quants of every {@code span} consecutive elements, as 16-bit
     * values, into {@code out}: where the row-group kernels that sum unsigned codes start each chain
     * of {@code span} columns, so that the chain ends on the sum of the signed codes' products.
     */
    void scaledSums(int span, int factor, short[] out) {
        for (int k = 0; k < quants.length / span; k++) {
            int sum = 0;
            for (int t = 0; t < span; t++) {
                sum += quants[span * k + t];
            }
            out[k] = (short) (factor * sum);
        }
    }

    /** Elements. */
    public int length() {
        return quants.length;
    }
}
