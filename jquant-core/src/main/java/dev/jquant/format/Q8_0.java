package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.BS;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.BlockDot.IS;

/**
 * ggml Q8_0, type 8: blocks of 32 weights, an FP16 scale {@code d} then 32 signed bytes;
 * {@code w = d * q}. Rows must be a multiple of 32 elements.
 */
public final class Q8_0 implements Format {
    public static final Q8_0 INSTANCE = new Q8_0();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK;

    private Q8_0() {
    }

    @Override public String name() { return "Q8_0"; }
    @Override public int typeId() { return 8; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(src, bo);
            for (int j = 0; j < BLOCK; j += B128.length()) {
                BlockDot.storeBytes(ByteVector.fromMemorySegment(B128, src, bo + 2 + j, ByteOrder.LITTLE_ENDIAN), d,
                        dst, dstOff + b * BLOCK + j);
            }
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(src, bo);
            for (int j = 0; j < BLOCK; j++) {
                dst[dstOff + b * BLOCK + j] = src.get(ValueLayout.JAVA_BYTE, bo + 2 + j) * d;
            }
        }
    }

    /** ggml's quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            int xo = srcOff + b * BLOCK;
            long bo = offset + (long) b * BLOCK_BYTES;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(src[xo + j]));
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            GgmlMath.putHalf(dst, bo, d);
            for (int j = 0; j < BLOCK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, bo + 2 + j, (byte) (int) GgmlMath.roundf(src[xo + j] * id));
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int xo = xOff + b * BLOCK;
            FloatVector sum = FloatVector.zero(FS);
            for (int j = 0; j < BLOCK; j += BS.length()) {
                sum = BlockDot.fmaBytes(ByteVector.fromMemorySegment(BS, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN),
                        x, xo + j, sum);
            }
            acc = sum.fma(FloatVector.broadcast(FS, GgmlMath.getHalf(w, bo)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public Format activationFormat() {
        return this;
    }

    /** Per block: d_w * d_x * sum(q_w * q_x) in integers. */
    @Override
    public float dotQuantized(MemorySegment w, long offset, MemorySegment xq, long xqOffset, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            long xb = xqOffset + (long) b * BLOCK_BYTES;
            IntVector sum = IntVector.zero(IS);
            for (int j = 0; j < BLOCK; j += B128.length()) {
                sum = BlockDot.mulAddBytes(ByteVector.fromMemorySegment(B128, w, bo + 2 + j, ByteOrder.LITTLE_ENDIAN),
                        ByteVector.fromMemorySegment(B128, xq, xb + 2 + j, ByteOrder.LITTLE_ENDIAN), sum);
            }
            acc = BlockDot.fmaInts(sum, GgmlMath.getHalf(w, bo) * GgmlMath.getHalf(xq, xb), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
