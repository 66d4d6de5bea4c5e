package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * {@link Q5_0} in groups of 32 rows: 5-bit codes {@code q}, {@code w = d (q - 16)} with an FP16
 * {@code d} per row and 32 columns.
 *
 * <p>A group holds first its rows' {@code d}, block by block, 32 rows each, then for each 16 columns
 * a "chain" of five 64-byte vectors whose 16-bit lane {@code L} holds row {@code L / 2} for even
 * {@code L} and {@code 16 + L / 2} for odd {@code L}; vector {@code v} holds the codes of the chain's
 * columns {@code 3v}, {@code 3v + 1} and {@code 3v + 2} at bits 0..4, 6..10 and 11..15, and bit
 * {@code v} of column 15's code at bit 5: fifteen codes one or two operations away, 5.5 bits a
 * weight with the header, as stored.
 *
 * <p>The kernel multiplies a chain's codes by the columns' 8-bit activations and adds them in 16
 * bits, starting from {@code -16 sum xq}: the sum wraps, but ends on {@code sum (q - 16) xq}, whose
 * magnitude is at most {@code 16 * 16 * 127 < 2^15}, exactly. As in {@link Q6_KRowGroups}, a block's
 * two chains then widen to 32 bits with shifts and take {@code d dx} in float.
 */
final class Q5_0RowGroups implements RowGroups {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = Q5_0.BLOCK;
    private static final int CHAIN = 16;
    private static final int VECTORS = 5;
    private static final int VECTOR_BYTES = 64;
    private static final int CHAIN_BYTES = VECTORS * VECTOR_BYTES;
    private static final int BLOCK_HEADER = 2 * ROWS;
    /** Per-thread scratch: per block the 32 rows' {@code d dx}; per chain {@code -16 sum xq}. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(0));

    private record Scratch(float[] scales, short[] offsets) {
        Scratch(int cols) {
            this(new float[cols / BLOCK * ROWS], new short[cols / CHAIN]);
        }
    }

    private final MemorySegment data;
    private final int rows;
    private final int cols;
    private final int blocks;
    private final long headerBytes;
    private final long groupBytes;

    private Q5_0RowGroups(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        this.headerBytes = (long) blocks * BLOCK_HEADER;
        this.groupBytes = headerBytes + (long) cols / CHAIN * CHAIN_BYTES;
    }

    static Q5_0RowGroups pack(MemorySegment src, int rows, int cols, Arena arena) {
        long groupBytes = (long) cols / BLOCK * BLOCK_HEADER + (long) cols / CHAIN * CHAIN_BYTES;
        Q5_0RowGroups packed = new Q5_0RowGroups(arena.allocate(rows / ROWS * groupBytes, 64), rows, cols);
        int rowBytes = Math.toIntExact(Q5_0.INSTANCE.rowBytes(cols));
        byte[] group = new byte[ROWS * rowBytes];
        byte[] out = new byte[Math.toIntExact(groupBytes)];
        for (int g = 0; g < rows / ROWS; g++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) g * ROWS * rowBytes, group, 0, group.length);
            packed.packGroup(group, rowBytes, out);
            MemorySegment.copy(out, 0, packed.data, ValueLayout.JAVA_BYTE, g * groupBytes, out.length);
        }
        return packed;
    }

    /** One group's 32 stored rows ({@code group}) into the layout above ({@code out}). */
    private void packGroup(byte[] group, int rowBytes, byte[] out) {
        int[] q = new int[CHAIN];
        for (int i = 0; i < ROWS; i++) {
            int lane = i < 16 ? 2 * i : 2 * (i - 16) + 1;
            for (int b = 0; b < blocks; b++) {
                int block = i * rowBytes + b * Q5_0.BLOCK_BYTES;
                out[b * BLOCK_HEADER + 2 * i] = group[block];
                out[b * BLOCK_HEADER + 2 * i + 1] = group[block + 1];
                int qh = (group[block + 2] & 0xFF) | (group[block + 3] & 0xFF) << 8 | (group[block + 4] & 0xFF) << 16
                        | (group[block + 5] & 0xFF) << 24;
                for (int h = 0; h < BLOCK / CHAIN; h++) {
                    for (int t = 0; t < CHAIN; t++) {
                        int e = CHAIN * h + t;
                        int low = group[block + 6 + e % 16] & 0xFF;
                        q[t] = (e < 16 ? low & 15 : low >>> 4) | (qh >>> e & 1) << 4;
                    }
                    int to = (int) headerBytes + (b * BLOCK / CHAIN + h) * CHAIN_BYTES + 2 * lane;
                    for (int v = 0; v < VECTORS; v++) {
                        int bits = q[3 * v] | (q[15] >>> v & 1) << 5 | q[3 * v + 1] << 6 | q[3 * v + 2] << 11;
                        out[to + v * VECTOR_BYTES] = (byte) bits;
                        out[to + v * VECTOR_BYTES + 1] = (byte) (bits >>> 8);
                    }
                }
            }
        }
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    @Override public long byteSize() { return data.byteSize(); }

    @Override
    public void multiply(Q8Activations x, float[] out, int start, int end) {
        if (x.length() != cols) {
            throw new IllegalArgumentException("activations of " + x.length() + " elements for " + cols + " columns");
        }
        Scratch scratch = SCRATCH.get();
        if (scratch.offsets.length < cols / CHAIN) {
            scratch = new Scratch(cols);
            SCRATCH.set(scratch);
        }
        short[] offsets = scratch.offsets;
        for (int k = 0; k < cols / CHAIN; k++) {
            int sum = 0;
            for (int t = 0; t < CHAIN; t++) {
                sum += x.quants[CHAIN * k + t];
            }
            offsets[k] = (short) (-16 * sum);
        }
        for (int g = start; g < end; g++) {
            long at = g * groupBytes;
            scales(data, at, blocks, x.scales, scratch.scales);
            multiplyGroup(data, at + headerBytes, blocks, x.quants, offsets, scratch.scales, out, g * ROWS);
        }
    }

    /** {@code d dx} of every block of the group at {@code at}, block by block, 32 rows each. */
    private static void scales(MemorySegment data, long at, int blocks, float[] xScales, float[] s) {
        for (int b = 0; b < blocks; b++) {
            for (int half = 0; half < 2; half++) {
                F16.toFloats(data, at + (long) b * BLOCK_HEADER + 32 * half).mul(xScales[b]).intoArray(s, b * ROWS + 16 * half);
            }
        }
    }

    /** The 32 rows of the group whose chains start at {@code q}, see the class comment. */
    private static void multiplyGroup(MemorySegment data, long q, int blocks, short[] xq, short[] offsets, float[] s,
                                      float[] out, int r0) {
        FloatVector low = FloatVector.zero(F512);
        FloatVector high = FloatVector.zero(F512);
        for (int b = 0; b < blocks; b++) {
            IntVector lowSums = IntVector.zero(I512);
            IntVector highSums = IntVector.zero(I512);
            // A loop, not two calls: one inlined copy of the chain keeps C2 under its node budget.
            for (int k = 2 * b; k < 2 * b + 2; k++, q += CHAIN_BYTES) {
                IntVector sums = chain(data, q, xq, CHAIN * k, offsets[k]).reinterpretAsInts();
                lowSums = lowSums.add(sums.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                highSums = highSums.add(sums.lanewise(VectorOperators.ASHR, 16));
            }
            low = ((FloatVector) lowSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, ROWS * b), low);
            high = ((FloatVector) highSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, ROWS * b + 16), high);
        }
        low.intoArray(out, r0);
        high.intoArray(out, r0 + 16);
    }

    /**
     * {@code sum (q_t - 16) xq[xo + t]} per 16-bit lane over the sixteen columns of the chain at
     * {@code at}, given {@code offset = -16 sum xq[xo + t]}.
     */
    private static ShortVector chain(MemorySegment w, long at, short[] xq, int xo, short offset) {
        ShortVector acc = ShortVector.broadcast(S512, offset);
        ShortVector last = ShortVector.zero(S512);
        for (int v = 0; v < VECTORS; v++) {
            ShortVector codes = ShortVector.fromMemorySegment(S512, w, at + (long) v * VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
            acc = acc.add(codes.and((short) 31).mul(xq[xo + 3 * v]))
                    .add(codes.lanewise(VectorOperators.LSHR, 6).and((short) 31).mul(xq[xo + 3 * v + 1]))
                    .add(codes.lanewise(VectorOperators.LSHR, 11).mul(xq[xo + 3 * v + 2]));
            last = last.or(codes.lanewise(VectorOperators.LSHR, 5 - v).and((short) (1 << v)));
        }
        return acc.add(last.mul(xq[xo + 15]));
    }

    /** Shift of the chain's code {@code t % 3} in each of its vectors (column 15's bits are gathered apart). */
    private static final int[] SHIFTS = {0, 6, 11};

    /**
     * A chain's 32-bit lane i holds row i's codes in its low half and row 16 + i's in its high half,
     * so each column is a shift and a mask away from two vectors of rows in order; then
     * {@code (q - 16) d} as {@link #decodeRow}.
     */
    @Override
    public void decodeColumns(int g, float[] dst) {
        long at = g * groupBytes;
        long q = at + headerBytes;
        for (int b = 0; b < blocks; b++) {
            FloatVector lowD = F16.toFloats(data, at + (long) b * BLOCK_HEADER);
            FloatVector highD = F16.toFloats(data, at + (long) b * BLOCK_HEADER + 32);
            for (int k = 0; k < BLOCK / CHAIN; k++, q += CHAIN_BYTES) {
                IntVector last = IntVector.zero(I512);
                for (int t = 0; t < CHAIN - 1; t++) {
                    IntVector v = IntVector.fromMemorySegment(I512, data, q + (long) (t / 3) * VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
                    IntVector codes = v.lanewise(VectorOperators.LSHR, SHIFTS[t % 3]).and(31 * 0x10001);
                    int to = (b * BLOCK + k * CHAIN + t) * ROWS;
                    ((FloatVector) codes.and(0xFFFF).sub(16).convert(VectorOperators.I2F, 0)).mul(lowD).intoArray(dst, to);
                    ((FloatVector) codes.lanewise(VectorOperators.LSHR, 16).sub(16).convert(VectorOperators.I2F, 0))
                            .mul(highD).intoArray(dst, to + 16);
                    if (t % 3 == 0) {
                        int bit = t / 3;
                        last = last.or(v.lanewise(VectorOperators.LSHR, 5 - bit).and((1 << bit) * 0x10001));
                    }
                }
                int to = (b * BLOCK + k * CHAIN + CHAIN - 1) * ROWS;
                ((FloatVector) last.and(0xFFFF).sub(16).convert(VectorOperators.I2F, 0)).mul(lowD).intoArray(dst, to);
                ((FloatVector) last.lanewise(VectorOperators.LSHR, 16).sub(16).convert(VectorOperators.I2F, 0))
                        .mul(highD).intoArray(dst, to + 16);
            }
        }
    }

    /** Row {@code r} as {@link Q5_0} decodes it: {@code (q - 16) d}. */
    @Override
    public void decodeRow(int r, float[] dst, int dstOff) {
        long at = (long) (r / ROWS) * groupBytes;
        int i = r % ROWS;
        int lane = i < 16 ? 2 * i : 2 * (i - 16) + 1;
        int[] q = new int[CHAIN];
        for (int k = 0; k < cols / CHAIN; k++) {
            long chain = at + headerBytes + (long) k * CHAIN_BYTES + 2L * lane;
            q[15] = 0;
            for (int v = 0; v < VECTORS; v++) {
                int bits = data.get(LE16, chain + (long) v * VECTOR_BYTES) & 0xFFFF;
                q[3 * v] = bits & 31;
                q[3 * v + 1] = bits >>> 6 & 31;
                q[3 * v + 2] = bits >>> 11;
                q[15] |= (bits >>> 5 & 1) << v;
            }
            float d = Float.float16ToFloat(data.get(LE16, at + (long) (k * CHAIN / BLOCK) * BLOCK_HEADER + 2L * i));
            for (int t = 0; t < CHAIN; t++) {
                dst[dstOff + k * CHAIN + t] = (q[t] - 16) * d;
            }
        }
    }
}
