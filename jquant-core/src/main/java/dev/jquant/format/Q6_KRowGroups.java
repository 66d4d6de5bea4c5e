package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
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
 * {@link Q6_K} in groups of 32 rows: 6-bit codes {@code q}, {@code w = d sc (q - 32)} with an FP16
 * {@code d} per row and 256 columns and a signed 8-bit {@code sc} per row and 16 columns.
 *
 * <p>A group holds first its rows' headers, per 256 columns the 32 rows' FP16 {@code d} and then,
 * sub-block by sub-block, their {@code sc} (the 18 bytes a row that Q6_K stores), then for each 8
 * columns a "chain" of three 64-byte vectors {@code a, b, c} whose 16-bit lane {@code L} holds row
 * {@code L / 2} for even {@code L} and {@code 16 + L / 2} for odd {@code L}, the codes of its
 * columns {@code q0..q7} at bits:
 * <pre>{@code
 *        0..5   6..9              10..15
 *   a    q0     q6 & 15           q1
 *   b    q2     q7 & 15           q3
 *   c    q4     q6 >> 4, q7 >> 4  q5
 * }</pre>
 * Six codes of eight are then one mask or one shift away, the other two five operations; 6 bits a
 * weight, as stored.
 *
 * <p>The kernel multiplies a chain's codes by the columns' 8-bit activations and adds them in 16
 * bits, starting from {@code -32 sum xq}: the sum wraps, but ends on {@code sum (q - 32) xq}, whose
 * magnitude is at most {@code 8 * 32 * 127 < 2^15}, exactly. The lane order makes the widening to
 * 32 bits two shifts (the low halves of the 32-bit lanes are rows 0..15, the high halves rows
 * 16..31); a sub-block's two chains add in 32 bits and then, in float, take {@code d sc dx},
 * decoded one 256-column unit at a time.
 */
final class Q6_KRowGroups extends RowGroups {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final int UNIT = KQuants.QK_K;
    private static final int SUB = 16;
    private static final int CHAIN = 8;
    private static final int VECTOR_BYTES = 64;
    private static final int CHAIN_BYTES = 3 * VECTOR_BYTES;
    /** Bytes of one row's header per 256 columns: FP16 d and sixteen scales. */
    private static final int ROW_HEADER = 2 + UNIT / SUB;
    private static final int UNIT_HEADER = ROWS * ROW_HEADER;
    /** Per-thread scratch: per sub-block the 32 rows' {@code d sc dx}; per chain {@code -32 sum xq}. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(0));

    private record Scratch(float[] scales, short[] offsets) {
        Scratch(int cols) {
            this(new float[UNIT / SUB * ROWS], new short[cols / CHAIN]);
        }
    }

    private final int units;
    private final long headerBytes;

    Q6_KRowGroups(int rows, int cols, Arena arena) {
        super(rows, cols, (long) cols / UNIT * UNIT_HEADER + (long) cols / CHAIN * CHAIN_BYTES, arena);
        this.units = cols / UNIT;
        this.headerBytes = (long) units * UNIT_HEADER;
    }

    /** One group's 32 stored rows ({@code group}) into the layout above ({@code out}). */
    @Override
    void packGroup(byte[] group, int rowBytes, byte[] out) {
        int[] q = new int[CHAIN];
        for (int i = 0; i < ROWS; i++) {
            int lane = lane(i);
            for (int u = 0; u < units; u++) {
                int block = i * rowBytes + u * Q6_K.BLOCK_BYTES;
                int header = u * UNIT_HEADER;
                out[header + 2 * i] = group[block + Q6_K.D];
                out[header + 2 * i + 1] = group[block + Q6_K.D + 1];
                for (int j = 0; j < UNIT / SUB; j++) {
                    out[header + 2 * ROWS + j * ROWS + i] = group[block + Q6_K.SCALES + j];
                }
                for (int c = 0; c < UNIT; c += CHAIN) {
                    for (int t = 0; t < CHAIN; t++) {
                        q[t] = code(group, block, c + t);
                    }
                    int to = (int) headerBytes + (u * UNIT + c) / CHAIN * CHAIN_BYTES + 2 * lane;
                    putShort(out, to, q[0] | (q[6] & 15) << 6 | q[1] << 10);
                    putShort(out, to + VECTOR_BYTES, q[2] | (q[7] & 15) << 6 | q[3] << 10);
                    putShort(out, to + 2 * VECTOR_BYTES, q[4] | (q[6] >> 4) << 6 | (q[7] >> 4) << 8 | q[5] << 10);
                }
            }
        }
    }

    /** Code (0..63) of element {@code e} of the Q6_K block at {@code block}: see {@link Q6_K}'s layout. */
    private static int code(byte[] group, int block, int e) {
        int half = e / 128;
        int quarter = e % 128 / 32;
        int l = e % 32;
        int low = group[block + 64 * half + 32 * (quarter & 1) + l] & 0xFF;
        int high = group[block + Q6_K.QH + 32 * half + l] >>> (2 * quarter) & 3;
        return (quarter < 2 ? low & 15 : low >>> 4) | high << 4;
    }

    private static void putShort(byte[] out, int at, int value) {
        out[at] = (byte) value;
        out[at + 1] = (byte) (value >>> 8);
    }


    @Override
    public void multiply(Q8Activations x, float[] out, int start, int end) {
        check(x);
        Scratch scratch = SCRATCH.get();
        if (scratch.offsets.length < cols / CHAIN) {
            scratch = new Scratch(cols);
            SCRATCH.set(scratch);
        }
        short[] offsets = scratch.offsets;
        x.scaledSums(CHAIN, -32, offsets);
        for (int g = start; g < end; g++) {
            long at = g * groupBytes;
            // One 256-column unit at a time: its scales (2 KiB of floats) stay in L1 beside the weights.
            for (int u = 0; u < units; u++) {
                scales(data, at, u, x.scales, scratch.scales);
                multiplyUnit(data, at + headerBytes + (long) u * (UNIT / CHAIN) * CHAIN_BYTES, u, x.quants, offsets,
                        scratch.scales, out, g * ROWS, u == 0);
            }
        }
    }

    /**
     * {@code d sc dx} of every sub-block of unit {@code u} of the group at {@code at}, sub-block by
     * sub-block, 32 rows each, sixteen rows per vector; {@code d sc} is exact in float, so only the
     * product with the activations' block scale {@code dx} rounds.
     */
    private static void scales(MemorySegment data, long at, int u, float[] xScales, float[] s) {
        long h = at + (long) u * UNIT_HEADER;
        for (int half = 0; half < 2; half++) {
            FloatVector d = F16.toFloats(data, h + 32L * half);
            for (int j = 0; j < UNIT / SUB; j++) {
                FloatVector sc = (FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data,
                        h + 2 * ROWS + j * ROWS + 16 * half, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F512, 0);
                float dx = xScales[(u * UNIT + j * SUB) / Q8Activations.BLOCK];
                sc.mul(d).mul(dx).intoArray(s, j * ROWS + 16 * half);
            }
        }
    }

    /**
     * Adds to the 32 rows at {@code out[r0..]} (sets them, for the {@code first} unit) the product of
     * unit {@code u} of the group, whose chains start at {@code q}; see the class comment.
     */
    private static void multiplyUnit(MemorySegment data, long q, int u, short[] xq, short[] offsets, float[] s,
                                     float[] out, int r0, boolean first) {
        FloatVector low = first ? FloatVector.zero(F512) : FloatVector.fromArray(F512, out, r0);
        FloatVector high = first ? FloatVector.zero(F512) : FloatVector.fromArray(F512, out, r0 + 16);
        int j0 = u * (UNIT / SUB);
        for (int j = 0; j < UNIT / SUB; j++) {
            IntVector lowSums = IntVector.zero(I512);
            IntVector highSums = IntVector.zero(I512);
            // A loop, not two calls: one inlined copy of the chain keeps C2 under its node budget.
            for (int k = 2 * (j0 + j); k < 2 * (j0 + j) + 2; k++, q += CHAIN_BYTES) {
                IntVector sums = chain(data, q, xq, CHAIN * k, offsets[k]).reinterpretAsInts();
                lowSums = lowSums.add(sums.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                highSums = highSums.add(sums.lanewise(VectorOperators.ASHR, 16));
            }
            low = ((FloatVector) lowSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, ROWS * j), low);
            high = ((FloatVector) highSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, ROWS * j + 16), high);
        }
        low.intoArray(out, r0);
        high.intoArray(out, r0 + 16);
    }

    /**
     * {@code sum (q_t - 32) xq[xo + t]} per 16-bit lane over the eight columns of the chain at
     * {@code at}, given {@code offset = -32 sum xq[xo + t]}.
     */
    private static ShortVector chain(MemorySegment w, long at, short[] xq, int xo, short offset) {
        ShortVector a = ShortVector.fromMemorySegment(S512, w, at, ByteOrder.LITTLE_ENDIAN);
        ShortVector b = ShortVector.fromMemorySegment(S512, w, at + VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
        ShortVector c = ShortVector.fromMemorySegment(S512, w, at + 2 * VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
        ShortVector acc = ShortVector.broadcast(S512, offset);
        acc = acc.add(a.and((short) 63).mul(xq[xo]));
        acc = acc.add(a.lanewise(VectorOperators.LSHR, 10).mul(xq[xo + 1]));
        acc = acc.add(b.and((short) 63).mul(xq[xo + 2]));
        acc = acc.add(b.lanewise(VectorOperators.LSHR, 10).mul(xq[xo + 3]));
        acc = acc.add(c.and((short) 63).mul(xq[xo + 4]));
        acc = acc.add(c.lanewise(VectorOperators.LSHR, 10).mul(xq[xo + 5]));
        acc = acc.add(a.lanewise(VectorOperators.LSHR, 6).and((short) 15)
                .or(c.lanewise(VectorOperators.LSHR, 2).and((short) 0x30)).mul(xq[xo + 6]));
        return acc.add(b.lanewise(VectorOperators.LSHR, 6).and((short) 15)
                .or(c.lanewise(VectorOperators.LSHR, 4).and((short) 0x30)).mul(xq[xo + 7]));
    }

    /**
     * Per code of a chain (see the class comment): the vector holding its low bits ({@code a, b, c}:
     * 0, 1, 2), their shift and mask, then the shift and mask of its bits in {@code c} (none for six).
     */
    private static final int[] LOW_VECTOR = {0, 0, 1, 1, 2, 2, 0, 1};
    private static final int[] LOW_SHIFT = {0, 10, 0, 10, 0, 10, 6, 6};
    private static final int[] LOW_MASK = {63, 63, 63, 63, 63, 63, 15, 15};
    private static final int[] HIGH_SHIFT = {0, 0, 0, 0, 0, 0, 2, 4};
    private static final int[] HIGH_MASK = {0, 0, 0, 0, 0, 0, 0x30, 0x30};

    /**
     * A chain's 32-bit lane i holds row i's codes in its low half and row 16 + i's in its high half,
     * so each column is a few shifts and masks away from two vectors of rows in order; then
     * {@code (d sc) (q - 32)} as {@link #decodeRow}.
     */
    @Override
    public void decodeColumns(int g, float[] dst) {
        long at = g * groupBytes;
        long q = at + headerBytes;
        for (int u = 0; u < units; u++) {
            long h = at + (long) u * UNIT_HEADER;
            FloatVector lowD = F16.toFloats(data, h);
            FloatVector highD = F16.toFloats(data, h + 32);
            for (int j = 0; j < UNIT / SUB; j++) {
                long sc = h + 2 * ROWS + j * ROWS;
                FloatVector lowScale = ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, sc,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F512, 0)).mul(lowD);
                FloatVector highScale = ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, sc + 16,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F512, 0)).mul(highD);
                for (int k = 0; k < SUB / CHAIN; k++, q += CHAIN_BYTES) {
                    IntVector c = IntVector.fromMemorySegment(I512, data, q + 2 * VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
                    for (int t = 0; t < CHAIN; t++) {
                        IntVector codes = IntVector.fromMemorySegment(I512, data, q + LOW_VECTOR[t] * VECTOR_BYTES,
                                        ByteOrder.LITTLE_ENDIAN)
                                .lanewise(VectorOperators.LSHR, LOW_SHIFT[t]).and(LOW_MASK[t] * 0x10001)
                                .or(c.lanewise(VectorOperators.LSHR, HIGH_SHIFT[t]).and(HIGH_MASK[t] * 0x10001));
                        int to = (u * UNIT + j * SUB + k * CHAIN + t) * ROWS;
                        ((FloatVector) codes.and(0xFFFF).sub(32).convert(VectorOperators.I2F, 0)).mul(lowScale).intoArray(dst, to);
                        ((FloatVector) codes.lanewise(VectorOperators.LSHR, 16).sub(32).convert(VectorOperators.I2F, 0))
                                .mul(highScale).intoArray(dst, to + 16);
                    }
                }
            }
        }
    }

    /** Row {@code r} as {@link Q6_K} decodes it: {@code (d sc) (q - 32)}, the product {@code d sc} exact. */
    @Override
    public void decodeRow(int r, float[] dst, int dstOff) {
        long at = (long) (r / ROWS) * groupBytes;
        int i = r % ROWS;
        int lane = lane(i);
        for (int u = 0; u < units; u++) {
            long h = at + (long) u * UNIT_HEADER;
            float d = Float.float16ToFloat(data.get(F16.LE, h + 2L * i));
            for (int k = 0; k < UNIT / CHAIN; k++) {
                long chain = at + headerBytes + (long) (u * UNIT / CHAIN + k) * CHAIN_BYTES + 2L * lane;
                int a = data.get(F16.LE, chain) & 0xFFFF;
                int b = data.get(F16.LE, chain + VECTOR_BYTES) & 0xFFFF;
                int c = data.get(F16.LE, chain + 2 * VECTOR_BYTES) & 0xFFFF;
                int[] q = {a & 63, a >>> 10, b & 63, b >>> 10, c & 63, c >>> 10,
                        a >>> 6 & 15 | c >>> 2 & 0x30, b >>> 6 & 15 | c >>> 4 & 0x30};
                float ds = d * data.get(ValueLayout.JAVA_BYTE, h + 2 * ROWS + (long) (k * CHAIN / SUB) * ROWS + i);
                for (int t = 0; t < CHAIN; t++) {
                    dst[dstOff + u * UNIT + k * CHAIN + t] = ds * (q[t] - 32);
                }
            }
        }
    }
}
