package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The 5-bit formats whose every 32 columns map codes affinely, {@code w = S q - M} (Q5_0:
 * {@code S = d, M = 16 d}; Q5_K: {@code S = d sc, M = dmin m} per sub-block), in groups of 32 rows.
 *
 * <p>A group holds first its rows' block headers (see {@link Source}), then for each 16 columns a
 * "chain" of five 64-byte vectors whose 16-bit lane {@code L} holds row {@code L / 2} for even
 * {@code L} and {@code 16 + L / 2} for odd {@code L}; vector {@code v} holds the codes of the chain's
 * columns {@code 3v}, {@code 3v + 1} and {@code 3v + 2} at bits 0..4, 6..10 and 11..15, and bit
 * {@code v} of column 15's code at bit 5: fifteen codes one or two operations away, 5 bits a weight.
 * The headers take what Q5_0 stores; Q5_K's, unpacked as Q4_K's are in {@link Nibble4RowGroups}, 4
 * bytes a row more per 256 columns (2.3% of the weight).
 *
 * <p>The kernel multiplies a chain's codes by the columns' 8-bit activations and adds them in 16
 * bits, starting from {@code -16 sum xq}: the sum wraps, but ends on {@code sum (q - 16) xq}, whose
 * magnitude is at most {@code 16 * 16 * 127 < 2^15}, exactly. As in {@link Q6_KRowGroups}, a block's
 * two chains then widen to 32 bits with shifts; then per block, in float,
 * {@code S dx sum((q - 16) xq) - (M - 16 S) dx sum(xq)}, with {@code S} and {@code M} decoded once
 * per group ({@code M - 16 S} is 0 for Q5_0).
 */
final class Bit5RowGroups extends RowGroups {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final int BLOCK = 32;
    private static final int CHAIN = 16;
    private static final int VECTORS = 5;
    private static final int VECTOR_BYTES = 64;
    private static final int CHAIN_BYTES = VECTORS * VECTOR_BYTES;
    /** Per-thread scratch: {@code S} and {@code M} of one group, block by block, 32 rows each; per chain {@code -16 sum xq}. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(0));

    private record Scratch(float[] s, float[] m, short[] offsets) {
        Scratch(int cols) {
            this(new float[cols / BLOCK * ROWS], new float[cols / BLOCK * ROWS], new short[cols / CHAIN]);
        }
    }

    /** How a stored format lays out a block and its header; each packs a group's headers its own way. */
    enum Source {
        /** Header: the 32 rows' FP16 {@code d}. */
        Q5_0(dev.jquant.format.Q5_0.INSTANCE, 2) {
            /** ggml's order: element j's low bits in byte j (j < 16) or j - 16's high nibble, its fifth bit in bit j of qh. */
            @Override
            int code(byte[] group, int block, int e) {
                int low = group[block + 6 + e % 16] & 0xFF;
                return (e < 16 ? low & 15 : low >>> 4) | (group[block + 2 + e / 8] >>> e % 8 & 1) << 4;
            }

            /** Q4_0's header: the 32 rows' FP16 {@code d}, with which Q5_0's blocks begin too. */
            @Override
            void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at) {
                Nibble4RowGroups.Source.Q4_0.packHeader(rows, rowBytes, block, out, at);
            }

            @Override
            void affine(MemorySegment header, long at, int units, float[] s, float[] m) {
                Nibble4RowGroups.Source.scaleAndMultiple(header, at, units, 16, s, m);
            }

            /** ggml's {@code (q - 16) * d}: the same value as {@code d q - 16 d}, but -0.0 where q is 16 and d negative. */
            @Override
            float weight(float s, float m, int q) {
                return (q - 16) * s;
            }
        },
        /** Header: as {@link Nibble4RowGroups.Source#Q4_K}'s, whose blocks begin as Q5_K's do. */
        Q5_K(dev.jquant.format.Q5_K.INSTANCE, Nibble4RowGroups.Source.Q4_K.headerBytes) {
            /** Q4_K's nibble order; the fifth bit of element e in bit e / 32 of qh byte e % 32. */
            @Override
            int code(byte[] group, int block, int e) {
                int low = group[block + dev.jquant.format.Q5_K.QS + 32 * (e / 64) + e % 32] & 0xFF;
                int high = group[block + dev.jquant.format.Q5_K.QH + e % 32] >>> (e / 32) & 1;
                return ((e & 32) == 0 ? low & 15 : low >>> 4) | high << 4;
            }

            @Override
            void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at) {
                Nibble4RowGroups.Source.Q4_K.packHeader(rows, rowBytes, block, out, at);
            }

            @Override
            void affine(MemorySegment header, long at, int units, float[] s, float[] m) {
                Nibble4RowGroups.Source.Q4_K.affine(header, at, units, s, m);
            }
        };

        final Format format;
        /** Bytes of one row's packed header per stored block. */
        final int headerBytes;

        Source(Format format, int headerBytes) {
            this.format = format;
            this.headerBytes = headerBytes;
        }

        /** Elements per stored block. */
        int unit() {
            return format.blockSize();
        }

        /** Code (0..31) of element {@code e} of the stored block at {@code group[block..]}. */
        abstract int code(byte[] group, int block, int e);

        /**
         * The headers of the stored block at byte {@code block} of each of 32 rows (row i at
         * {@code i * rowBytes}) into {@code out[at..at + 32 * headerBytes)}.
         */
        abstract void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at);

        /**
         * {@code S} and {@code M} of every 32-column block of a group from its {@code units} packed
         * headers at {@code at}, into {@code s} and {@code m}: block by block, 32 rows each.
         */
        abstract void affine(MemorySegment header, long at, int units, float[] s, float[] m);

        /** The weight of code {@code q} as the stored format decodes it, rounded after each operation. */
        float weight(float s, float m, int q) {
            return s * q - m;
        }
    }

    private final Source source;
    private final int blocks;
    private final int units;
    private final long headerBytes;

    Bit5RowGroups(Source source, int rows, int cols, Arena arena) {
        long headerBytes = (long) cols / source.unit() * ROWS * source.headerBytes;
        super(rows, cols, headerBytes + (long) cols / CHAIN * CHAIN_BYTES, arena);
        this.source = source;
        this.blocks = cols / BLOCK;
        this.units = cols / source.unit();
        this.headerBytes = headerBytes;
    }

    @Override
    void packGroup(byte[] group, int rowBytes, byte[] out) {
        MemorySegment groupSegment = MemorySegment.ofArray(group);
        int unit = source.unit();
        int blockBytes = source.format.blockBytes();
        for (int u = 0; u < units; u++) {
            source.packHeader(groupSegment, rowBytes, (long) u * blockBytes, out, u * ROWS * source.headerBytes);
        }
        int[] q = new int[CHAIN];
        for (int i = 0; i < ROWS; i++) {
            int lane = lane(i);
            for (int u = 0; u < units; u++) {
                int block = i * rowBytes + u * blockBytes;
                for (int c = 0; c < unit; c += CHAIN) {
                    for (int t = 0; t < CHAIN; t++) {
                        q[t] = source.code(group, block, c + t);
                    }
                    int to = (int) headerBytes + (u * unit + c) / CHAIN * CHAIN_BYTES + 2 * lane;
                    for (int v = 0; v < VECTORS; v++) {
                        int bits = q[3 * v] | (q[15] >>> v & 1) << 5 | q[3 * v + 1] << 6 | q[3 * v + 2] << 11;
                        out[to + v * VECTOR_BYTES] = (byte) bits;
                        out[to + v * VECTOR_BYTES + 1] = (byte) (bits >>> 8);
                    }
                }
            }
        }
    }


    @Override
    public void multiply(Q8Activations x, float[] out, int start, int end) {
        check(x);
        Scratch scratch = scratch();
        short[] offsets = scratch.offsets;
        x.scaledSums(CHAIN, -16, offsets);
        for (int g = start; g < end; g++) {
            long at = g * groupBytes;
            source.affine(data, at, units, scratch.s, scratch.m);
            multiplyGroup(data, at + headerBytes, blocks, x.quants, x.scales, x.sums, offsets, scratch.s, scratch.m, out, g * ROWS);
        }
    }

    /** This thread's scratch, large enough for this matrix. */
    private Scratch scratch() {
        Scratch scratch = SCRATCH.get();
        if (scratch.offsets.length < cols / CHAIN) {
            scratch = new Scratch(cols);
            SCRATCH.set(scratch);
        }
        return scratch;
    }

    /** The 32 rows of the group whose chains start at {@code q}, see the class comment. */
    private static void multiplyGroup(MemorySegment data, long q, int blocks, short[] xq, float[] xScales, int[] xSums,
                                      short[] offsets, float[] s, float[] m, float[] out, int r0) {
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
            float d = xScales[b];
            FloatVector offset = FloatVector.broadcast(F512, -d * xSums[b]);
            int at = b * ROWS;
            FloatVector lowS = FloatVector.fromArray(F512, s, at);
            FloatVector highS = FloatVector.fromArray(F512, s, at + 16);
            low = ((FloatVector) lowSums.convert(VectorOperators.I2F, 0)).fma(lowS.mul(d), low);
            low = FloatVector.fromArray(F512, m, at).sub(lowS.mul(16)).fma(offset, low);
            high = ((FloatVector) highSums.convert(VectorOperators.I2F, 0)).fma(highS.mul(d), high);
            high = FloatVector.fromArray(F512, m, at + 16).sub(highS.mul(16)).fma(offset, high);
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
     * {@code S q - M} rounded after the multiply and after the subtraction, as {@link #decodeRow}.
     */
    @Override
    public void decodeColumns(int g, float[] dst) {
        long at = g * groupBytes;
        Scratch scratch = scratch();
        float[] s = scratch.s;
        float[] m = scratch.m;
        source.affine(data, at, units, s, m);
        long q = at + headerBytes;
        for (int b = 0; b < blocks; b++) {
            FloatVector lowScale = FloatVector.fromArray(F512, s, b * ROWS);
            FloatVector highScale = FloatVector.fromArray(F512, s, b * ROWS + 16);
            FloatVector lowOffset = FloatVector.fromArray(F512, m, b * ROWS);
            FloatVector highOffset = FloatVector.fromArray(F512, m, b * ROWS + 16);
            for (int k = 0; k < BLOCK / CHAIN; k++, q += CHAIN_BYTES) {
                IntVector last = IntVector.zero(I512);
                for (int t = 0; t < CHAIN - 1; t++) {
                    IntVector v = IntVector.fromMemorySegment(I512, data, q + (long) (t / 3) * VECTOR_BYTES, ByteOrder.LITTLE_ENDIAN);
                    IntVector codes = v.lanewise(VectorOperators.LSHR, SHIFTS[t % 3]).and(31 * 0x10001);
                    int to = (b * BLOCK + k * CHAIN + t) * ROWS;
                    ((FloatVector) codes.and(0xFFFF).convert(VectorOperators.I2F, 0)).mul(lowScale).sub(lowOffset).intoArray(dst, to);
                    ((FloatVector) codes.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0))
                            .mul(highScale).sub(highOffset).intoArray(dst, to + 16);
                    if (t % 3 == 0) {
                        int bit = t / 3;
                        last = last.or(v.lanewise(VectorOperators.LSHR, 5 - bit).and((1 << bit) * 0x10001));
                    }
                }
                int to = (b * BLOCK + k * CHAIN + CHAIN - 1) * ROWS;
                ((FloatVector) last.and(0xFFFF).convert(VectorOperators.I2F, 0)).mul(lowScale).sub(lowOffset).intoArray(dst, to);
                ((FloatVector) last.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0))
                        .mul(highScale).sub(highOffset).intoArray(dst, to + 16);
            }
        }
    }

    /** Row {@code r} as the stored format decodes it. */
    @Override
    public void decodeRow(int r, float[] dst, int dstOff) {
        long at = (long) (r / ROWS) * groupBytes;
        int i = r % ROWS;
        int lane = lane(i);
        float[] s = new float[blocks * ROWS];
        float[] m = new float[blocks * ROWS];
        source.affine(data, at, units, s, m);
        int[] q = new int[CHAIN];
        for (int k = 0; k < cols / CHAIN; k++) {
            long chain = at + headerBytes + (long) k * CHAIN_BYTES + 2L * lane;
            q[15] = 0;
            for (int v = 0; v < VECTORS; v++) {
                int bits = data.get(F16.LE, chain + (long) v * VECTOR_BYTES) & 0xFFFF;
                q[3 * v] = bits & 31;
                q[3 * v + 1] = bits >>> 6 & 31;
                q[3 * v + 2] = bits >>> 11;
                q[15] |= (bits >>> 5 & 1) << v;
            }
            int b = k * CHAIN / BLOCK;
            for (int t = 0; t < CHAIN; t++) {
                dst[dstOff + k * CHAIN + t] = source.weight(s[b * ROWS + i], m[b * ROWS + i], q[t]);
            }
        }
    }
}
