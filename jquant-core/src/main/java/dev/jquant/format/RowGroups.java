package dev.jquant.format;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix repacked at load time for the matrix-vector product (decode): rows in groups of
 * {@link #ROWS}, each group's weights stored column by column so that one vector lane holds one
 * row. A lane then accumulates its row's products in 16-bit integers against activations
 * quantized to 8 bits ({@link Q8Activations}), as ggml multiplies its quantized types: no
 * widening of every weight to float and no horizontal sum per block, which is what bounds the row-by-row
 * {@link Format#dot} kernels. The same bytes as the stored format (a permutation of them), so a
 * model repacked this way takes no more memory once its mapped file pages are dropped.
 */
public sealed interface RowGroups permits Nibble4RowGroups, Bit5RowGroups, Q6_KRowGroups, Q8_0RowGroups {
    /** Rows per group: the 16-bit lanes of a 512-bit vector. */
    int ROWS = 32;
    /** Whether this CPU has 512-bit vectors; without them the row kernels are faster than emulated wide lanes. */
    boolean WIDE_VECTORS = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    /**
     * {@code data} ({@code rows x cols} in {@code format}) repacked into memory from {@code arena},
     * or null where there is no such layout for the format or the shape does not divide into groups.
     */
    static RowGroups pack(Format format, MemorySegment data, int rows, int cols, Arena arena) {
        if (rows % ROWS != 0 || cols % format.blockSize() != 0 || !WIDE_VECTORS) {
            return null;
        }
        return switch (format) {
            case Q4_0 q -> Nibble4RowGroups.pack(Nibble4RowGroups.Source.Q4_0, data, rows, cols, arena);
            case Q4_1 q -> Nibble4RowGroups.pack(Nibble4RowGroups.Source.Q4_1, data, rows, cols, arena);
            case Q4_K q -> Nibble4RowGroups.pack(Nibble4RowGroups.Source.Q4_K, data, rows, cols, arena);
            case Q5_0 q -> Bit5RowGroups.pack(Bit5RowGroups.Source.Q5_0, data, rows, cols, arena);
            case Q5_K q -> Bit5RowGroups.pack(Bit5RowGroups.Source.Q5_K, data, rows, cols, arena);
            case Q6_K q -> Q6_KRowGroups.pack(data, rows, cols, arena);
            case Q8_0 q -> Q8_0RowGroups.pack(data, rows, cols, arena);
            default -> null;
        };
    }

    int rows();

    int cols();

    default int groups() {
        return rows() / ROWS;
    }

    /** {@code out[r] = W[r] · x} for the rows of groups {@code [start, end)}. */
    void multiply(Q8Activations x, float[] out, int start, int end);

    /** Row {@code r} decoded to floats, exactly as the stored format decodes it. */
    void decodeRow(int r, float[] dst, int dstOff);

    /**
     * The 32 rows of group {@code g} decoded as {@link #decodeRow} does, column by column:
     * {@code dst[c * 32 + i]} is row i's column c. For the batched product.
     */
    void decodeColumns(int g, float[] dst);

    /** Bytes of the repacked matrix. */
    long byteSize();
}
