package dev.jquant.format;

import java.lang.foreign.MemorySegment;

/**
 * How numbers are stored: one implementation per storage type. A format owns its block layout,
 * encodes and decodes whole blocks, and computes dot products directly on the stored bytes.
 *
 * <p>A row of {@code n} elements occupies {@code rowBytes(n)} bytes, which is authoritative. The
 * GGUF block types need {@code n % blockSize() == 0}. jquant's generic formats ({@link IntFormat},
 * {@link NF4}, {@link FP4}, {@link FP8}, and {@link MXFP4}) accept any {@code n}: a partial last
 * block is encoded as if padded with zeros and stored whole. Some of them keep a header per row
 * (the {@code _ROW} integer formats, FP8's scale, NF4_DQ's second-level scales), so rows are
 * always decoded, encoded and multiplied whole, from their first byte.
 */
public sealed interface Format permits F32, F16, BF16,
        Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS,
        IntFormat, NF4, FP4, FP8, MXFP4 {

    /** Canonical name, as llama.cpp spells it for GGUF types (e.g. "Q4_K"). */
    String name();

    /** GGUF tensor type id (ggml_type), or a jquant-specific id for non-GGUF formats. */
    int typeId();

    /** Elements per block (the repeating unit of the layout). */
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

    /**
     * The scalar specification of {@link #decode}: formats with a vectorised decoder keep their plain
     * loop here, and tests compare the two on odd shapes.
     */
    default void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        decode(src, offset, dst, dstOff, n);
    }

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
        decodeScalar(w, offset, row, 0, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) row[i] * x[xOff + i];
        }
        return (float) sum;
    }
}
