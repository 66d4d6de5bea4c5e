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
 * {@link Q8_0} ({@code w = d q}, 8-bit codes) in groups of 32 rows. A group holds first its rows'
 * FP16 scales (block by block, 32 rows each), then for each 32-column block sixteen 64-byte "pairs":
 * 16-bit lane {@code L} of pair {@code p} holds the codes of columns {@code 2p} (low byte) and
 * {@code 2p + 1} (high byte) of row {@code L / 2} for even {@code L} and {@code 16 + L / 2} for odd
 * {@code L}, as in {@link Nibble4RowGroups}.
 *
 * <p>The kernel sign-extends each byte of a pair to 16 bits with shifts, multiplies by the column's
 * 8-bit activation and adds the two columns in 16 bits (2 x 127 x 127 < 2^15), then widens to
 * 32-bit sums with two shifts (low halves rows 0..15, high halves rows 16..31) every pair.
 */
final class Q8_0RowGroups extends RowGroups {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final int BLOCK = 32;
    private static final int PAIR_BYTES = 64;
    private static final int QUANT_BYTES = 16 * PAIR_BYTES;
    private static final int SCALE_BYTES = 2 * ROWS;
    /** Per-thread decoded scales of one group. */
    private static final ThreadLocal<float[]> SCALES = ThreadLocal.withInitial(() -> new float[0]);

    private final int blocks;
    private final long headerBytes;

    Q8_0RowGroups(int rows, int cols, Arena arena) {
        super(rows, cols, (long) cols / BLOCK * (SCALE_BYTES + QUANT_BYTES), arena);
        this.blocks = cols / BLOCK;
        this.headerBytes = (long) blocks * SCALE_BYTES;
    }

    @Override
    void packGroup(byte[] group, int rowBytes, byte[] out) {
        for (int i = 0; i < ROWS; i++) {
            int lane = lane(i);
            for (int b = 0; b < blocks; b++) {
                int at = i * rowBytes + b * Q8_0.BLOCK_BYTES;
                out[b * SCALE_BYTES + 2 * i] = group[at];
                out[b * SCALE_BYTES + 2 * i + 1] = group[at + 1];
                for (int c = 0; c < BLOCK; c++) {
                    out[(int) headerBytes + b * QUANT_BYTES + (c / 2) * PAIR_BYTES + 2 * lane + (c & 1)] = group[at + 2 + c];
                }
            }
        }
    }


    @Override
    public void multiply(Q8Activations x, float[] out, int start, int end) {
        check(x);
        float[] scales = scales();
        for (int g = start; g < end; g++) {
            long at = g * groupBytes;
            decodeScales(at, scales);
            multiplyGroup(data, at + headerBytes, blocks, x.quants, x.scales, scales, out, g * ROWS);
        }
    }

    private float[] scales() {
        float[] scales = SCALES.get();
        if (scales.length < blocks * ROWS) {
            scales = new float[blocks * ROWS];
            SCALES.set(scales);
        }
        return scales;
    }

    private void decodeScales(long at, float[] scales) {
        F16.INSTANCE.decode(data, at, scales, 0, blocks * ROWS);
    }

    /** The 32 rows of the group whose pairs start at {@code q}, see the class comment. */
    private static void multiplyGroup(MemorySegment data, long q, int blocks, short[] xq, float[] xScales, float[] scales,
                                      float[] out, int r0) {
        FloatVector low = FloatVector.zero(F512);
        FloatVector high = FloatVector.zero(F512);
        for (int b = 0; b < blocks; b++) {
            IntVector lowSums = IntVector.zero(I512);
            IntVector highSums = IntVector.zero(I512);
            for (int p = 0; p < 16; p++, q += PAIR_BYTES) {
                ShortVector v = ShortVector.fromMemorySegment(S512, data, q, ByteOrder.LITTLE_ENDIAN);
                ShortVector even = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector odd = v.lanewise(VectorOperators.ASHR, 8);
                IntVector sums = even.mul(xq[b * BLOCK + 2 * p]).add(odd.mul(xq[b * BLOCK + 2 * p + 1])).reinterpretAsInts();
                lowSums = lowSums.add(sums.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                highSums = highSums.add(sums.lanewise(VectorOperators.ASHR, 16));
            }
            float d = xScales[b];
            low = ((FloatVector) lowSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, scales, b * ROWS).mul(d), low);
            high = ((FloatVector) highSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, scales, b * ROWS + 16).mul(d), high);
        }
        low.intoArray(out, r0);
        high.intoArray(out, r0 + 16);
    }

    @Override
    public void decodeRow(int r, float[] dst, int dstOff) {
        long at = (long) (r / ROWS) * groupBytes;
        int i = r % ROWS;
        int lane = lane(i);
        for (int b = 0; b < blocks; b++) {
            float d = GgmlMath.getHalf(data, at + (long) b * SCALE_BYTES + 2L * i);
            for (int c = 0; c < BLOCK; c++) {
                byte code = data.get(ValueLayout.JAVA_BYTE, at + headerBytes + (long) b * QUANT_BYTES + (c / 2) * PAIR_BYTES + 2L * lane + (c & 1));
                dst[dstOff + b * BLOCK + c] = code * d;
            }
        }
    }

    /**
     * A pair's 32-bit lane i holds row i's two codes in its low half and row 16 + i's in its high
     * half: four shifts give each column's two vectors of rows in order; then {@code q d}.
     */
    @Override
    public void decodeColumns(int g, float[] dst) {
        long at = g * groupBytes;
        float[] scales = scales();
        decodeScales(at, scales);
        long q = at + headerBytes;
        for (int b = 0; b < blocks; b++) {
            FloatVector lowScale = FloatVector.fromArray(F512, scales, b * ROWS);
            FloatVector highScale = FloatVector.fromArray(F512, scales, b * ROWS + 16);
            for (int p = 0; p < 16; p++, q += PAIR_BYTES) {
                IntVector v = IntVector.fromMemorySegment(I512, data, q, ByteOrder.LITTLE_ENDIAN);
                for (int c = 0; c < 2; c++) {
                    int to = (b * BLOCK + 2 * p + c) * ROWS;
                    signedByte(v, c).mul(lowScale).intoArray(dst, to);
                    signedByte(v, 2 + c).mul(highScale).intoArray(dst, to + 16);
                }
            }
        }
    }

    /** Byte {@code k} of each 32-bit lane, sign-extended, as floats. */
    private static FloatVector signedByte(IntVector v, int k) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 24 - 8 * k).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
    }
}
