package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.BlockDot.IS;

/**
 * ggml Q4_0, type 2: blocks of 32 weights, an FP16 scale {@code d} then 16 bytes of nibbles (byte j
 * holds element j in its low and element j+16 in its high nibble); {@code w = d * (q - 8)}.
 * Rows must be a multiple of 32 elements.
 */
public final class Q4_0 implements Format {
    public static final Q4_0 INSTANCE = new Q4_0();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK / 2;

    private Q4_0() {
    }

    @Override public String name() { return "Q4_0"; }
    @Override public int typeId() { return 2; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int yo = dstOff + b * BLOCK;
            float d = GgmlMath.getHalf(src, bo);
            ByteVector q = ByteVector.fromMemorySegment(B128, src, bo + 2, ByteOrder.LITTLE_ENDIAN);
            BlockDot.storeBytes(q.and((byte) 0x0F).sub((byte) 8), d, dst, yo);
            BlockDot.storeBytes(BlockDot.highNibbles(q).sub((byte) 8), d, dst, yo + BLOCK / 2);
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int yo = dstOff + b * BLOCK;
            float d = GgmlMath.getHalf(src, bo);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = GgmlMath.getByte(src, bo + 2 + j);
                dst[yo + j] = ((q & 0x0F) - 8) * d;
                dst[yo + j + BLOCK / 2] = ((q >>> 4) - 8) * d;
            }
        }
    }

    /** ggml's quantize_row_q4_0_ref: d = (the value of largest magnitude) / -8, q = min(15, (int) (x / d + 8.5)). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            int xo = srcOff + b * BLOCK;
            long bo = offset + (long) b * BLOCK_BYTES;
            float max = GgmlMath.largestMagnitude(src, xo, BLOCK);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            GgmlMath.putHalf(dst, bo, d);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q0 = Math.min(15, (byte) (int) (src[xo + j] * id + 8.5f));
                int q1 = Math.min(15, (byte) (int) (src[xo + BLOCK / 2 + j] * id + 8.5f));
                GgmlMath.putByte(dst, bo + 2 + j, (q0 & 0xff) | (q1 << 4));
            }
        }
    }

    /**
     * Two accumulators over alternate blocks, so consecutive blocks' FMAs do not wait on each other,
     * swapped each block so that the loop has one copy of the block kernel: ~5% faster than the
     * unrolled pair of calls, and a smaller graph for C2.
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            FloatVector sum = blockDot(w, offset + (long) b * BLOCK_BYTES, x, xOff + b * BLOCK, acc0);
            acc0 = acc1;
            acc1 = sum;
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** {@code acc + d * sum((q - 8) * x)} for the block at {@code bo}. */
    private static FloatVector blockDot(MemorySegment w, long bo, float[] x, int xo, FloatVector acc) {
        ByteVector q = ByteVector.fromMemorySegment(B128, w, bo + 2, ByteOrder.LITTLE_ENDIAN);
        FloatVector sum = BlockDot.fmaBytes(q.and((byte) 0x0F).sub((byte) 8), x, xo, FloatVector.zero(FS));
        sum = BlockDot.fmaBytes(BlockDot.highNibbles(q).sub((byte) 8), x, xo + BLOCK / 2, sum);
        return sum.fma(FloatVector.broadcast(FS, GgmlMath.getHalf(w, bo)), acc);
    }

    /** Activations as Q8_0, as ggml multiplies Q4_0. */
    @Override
    public Format activationFormat() {
        return Q8_0.INSTANCE;
    }

    /** Per block: d_w * d_x * sum((q_w - 8) * q_x) in integers. */
    @Override
    public float dotQuantized(MemorySegment w, long offset, MemorySegment xq, long xqOffset, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            long xb = xqOffset + (long) b * Q8_0.BLOCK_BYTES;
            ByteVector q = ByteVector.fromMemorySegment(B128, w, bo + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector xLo = ByteVector.fromMemorySegment(B128, xq, xb + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector xHi = ByteVector.fromMemorySegment(B128, xq, xb + 2 + BLOCK / 2, ByteOrder.LITTLE_ENDIAN);
            IntVector sum = BlockDot.mulAddBytes(q.and((byte) 0x0F).sub((byte) 8), xLo, IntVector.zero(IS));
            sum = BlockDot.mulAddBytes(BlockDot.highNibbles(q).sub((byte) 8), xHi, sum);
            acc = BlockDot.fmaInts(sum, GgmlMath.getHalf(w, bo) * GgmlMath.getHalf(xq, xb), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
