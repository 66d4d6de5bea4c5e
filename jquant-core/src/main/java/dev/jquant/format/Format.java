package dev.jquant.format;

import java.lang.foreign.MemorySegment;

/**
 * How numbers are stored: one implementation per storage type. A format owns its block layout,
 * encodes and decodes whole blocks, and computes dot products directly on the stored bytes.
 *
 * <p>Rows are sequences of {@code n} elements with {@code n % blockSize() == 0}; a row of
 * {@code n} elements occupies {@code rowBytes(n)} bytes.
 */
public sealed interface Format permits F32, F16, BF16,
        Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS {

    /** Canonical name, as llama.cpp spells it for GGUF types (e.g. "Q4_K"). */
    String name();

    /** GGUF tensor type id (ggml_type), or a jquant-specific id for non-GGUF formats. */
    int typeId();

    /** Elements per block. */
    int blockSize();

    /** Bytes per block. */
    int blockBytes();

    default long rowBytes(long n) {
        if (n % blockSize() != 0) {
            throw new IllegalArgumentException(name() + ": row of " + n + " elements is not a multiple of block size " + blockSize());
        }
        return n / blockSize() * blockBytes();
    }

    default double bitsPerWeight() {
        return 8.0 * blockBytes() / blockSize();
    }

    /** Decodes {@code n} elements starting at byte {@code offset} of {@code src} into {@code dst[dstOff..]}. */
    void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n);

    /** Encodes {@code n} elements of {@code src[srcOff..]} into {@code dst} at byte {@code offset}. */
    void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset);

    /** Dot product of the {@code n} stored elements at {@code offset} with {@code x[xOff..xOff+n)}. */
    float dot(MemorySegment w, long offset, float[] x, int xOff, int n);

    /**
     * The format this format wants activations in for {@link #dotQuantized} (ggml's vec_dot_type:
     * Q8_0 for Q8_0 and Q4_0, Q8_K for Q4_K and Q6_K), or F32 where it has no integer kernel. A
     * matrix-vector product encodes the activation vector into it once, then calls dotQuantized per
     * row; that reproduces ggml's CPU arithmetic, while {@link #dot} keeps activations exact (and is
     * as fast or faster with the Vector API, see BENCHMARKS.md).
     */
    default Format activationFormat() {
        return F32.INSTANCE;
    }

    /**
     * Dot product of the {@code n} stored elements at {@code offset} with {@code n} activations that
     * {@link #activationFormat()} encoded at {@code xqOffset} of {@code xq}. Formats with an integer
     * kernel multiply the quantized values directly; the default decodes the activations and uses {@link #dot}.
     */
    default float dotQuantized(MemorySegment w, long offset, MemorySegment xq, long xqOffset, int n) {
        float[] x = new float[n];
        activationFormat().decode(xq, xqOffset, x, 0, n);
        return dot(w, offset, x, 0, n);
    }

    /** Plain scalar dot product: the specification every vectorised {@link #dot} is tested against. */
    default float dotScalar(MemorySegment w, long offset, float[] x, int xOff, int n) {
        float[] row = new float[n];
        decode(w, offset, row, 0, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) row[i] * x[xOff + i];
        }
        return (float) sum;
    }
}
