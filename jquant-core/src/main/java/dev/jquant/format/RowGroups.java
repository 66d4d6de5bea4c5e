package dev.jquant.format;

import dev.jquant.io.LargePages;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix repacked at load time for the matrix-vector product (decode): rows in groups of
 * {@link #ROWS}, each group's weights stored column by column so that one vector lane holds one
 * row. A lane then accumulates its row's products in 16-bit integers against activations
 * quantized to 8 bits ({@link Q8Activations}), as ggml multiplies its quantized types: no
 * widening of every weight to float and no horizontal sum per block, which is what bounds the row-by-row
 * {@link Format#dot} kernels. The same bytes as the stored format (a permutation of them), so a
 * model repacked this way takes no more memory once its mapped file pages are dropped.
 */
public abstract sealed class RowGroups permits Nibble4RowGroups, Bit5RowGroups, Q6_KRowGroups, Q8_0RowGroups {
    /** Rows per group: the 16-bit lanes of a 512-bit vector. */
    public static final int ROWS = 32;
    /** Whether this CPU has 512-bit vectors; without them the row kernels are faster than emulated wide lanes. */
    public static final boolean WIDE_VECTORS = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    /** The repacked matrix: group after group, {@link #groupBytes} each. */
    final MemorySegment data;
    final int rows;
    final int cols;
    final long groupBytes;

    RowGroups(int rows, int cols, long groupBytes, Arena arena) {
        this.rows = rows;
        this.cols = cols;
        this.groupBytes = groupBytes;
        this.data = LargePages.allocate(arena, rows / ROWS * groupBytes);
    }

    /**
     * {@code data} ({@code rows x cols} in {@code format}) repacked into memory from {@code arena},
     * or null where there is no such layout for the format or the shape does not divide into groups.
     */
    public static RowGroups pack(Format format, MemorySegment data, int rows, int cols, Arena arena) {
        if (rows % ROWS != 0 || cols % format.blockSize() != 0 || !WIDE_VECTORS) {
            return null;
        }
        RowGroups packed = switch (format) {
            case Q4_0 q -> new Nibble4RowGroups(Nibble4RowGroups.Source.Q4_0, rows, cols, arena);
            case Q4_1 q -> new Nibble4RowGroups(Nibble4RowGroups.Source.Q4_1, rows, cols, arena);
            case Q4_K q -> new Nibble4RowGroups(Nibble4RowGroups.Source.Q4_K, rows, cols, arena);
            case Q5_0 q -> new Bit5RowGroups(Bit5RowGroups.Source.Q5_0, rows, cols, arena);
            case Q5_K q -> new Bit5RowGroups(Bit5RowGroups.Source.Q5_K, rows, cols, arena);
            case Q6_K q -> new Q6_KRowGroups(rows, cols, arena);
            case Q8_0 q -> new Q8_0RowGroups(rows, cols, arena);
            default -> null;
        };
        if (packed != null) {
            packed.packFrom(data, format.rowBytes(cols));
        }
        return packed;
    }

    /** Every group of the stored rows at {@code src}: 32 rows copied out, repacked by {@link #packGroup}, copied in. */
    private void packFrom(MemorySegment src, long rowBytes) {
        byte[] group = new byte[Math.toIntExact(ROWS * rowBytes)];
        byte[] out = new byte[Math.toIntExact(groupBytes)];
        for (int g = 0; g < groups(); g++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, g * ROWS * rowBytes, group, 0, group.length);
            packGroup(group, (int) rowBytes, out);
            MemorySegment.copy(out, 0, data, ValueLayout.JAVA_BYTE, g * groupBytes, out.length);
        }
    }

    /** One group's 32 stored rows ({@code group}, {@code rowBytes} each) into this layout ({@code out}). */
    abstract void packGroup(byte[] group, int rowBytes, byte[] out);

    /**
     * The 16-bit lane of a group's row {@code i}: rows 0..15 in the even lanes, 16..31 in the odd
     * ones, so that widening a vector's 16-bit sums to 32 bits is two shifts (the low halves of the
     * 32-bit lanes are rows 0..15 in order, the high halves rows 16..31).
     */
    static int lane(int i) {
        return i < 16 ? 2 * i : 2 * (i - 16) + 1;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    public final int groups() {
        return rows / ROWS;
    }

    /** Bytes of the repacked matrix. */
    public final long byteSize() {
        return data.byteSize();
    }

    /** Refuses activations quantized for another width. */
    final void check(Q8Activations x) {
        if (x.length() != cols) {
            throw new IllegalArgumentException("activations of " + x.length() + " elements for " + cols + " columns");
        }
    }

    /** {@code out[r] = W[r] · x} for the rows of groups {@code [start, end)}. */
    public abstract void multiply(Q8Activations x, float[] out, int start, int end);

    /** Row {@code r} decoded to floats, exactly as the stored format decodes it. */
    public abstract void decodeRow(int r, float[] dst, int dstOff);

    /**
     * The 32 rows of group {@code g} decoded as {@link #decodeRow} does, column by column:
     * {@code dst[c * 32 + i]} is row i's column c. For the batched product.
     */
    public abstract void decodeColumns(int g, float[] dst);
}
