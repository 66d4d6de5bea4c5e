package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;

/**
 * ggml Q4_1, type 3: blocks of 32 weights, FP16 scale {@code d} and minimum {@code m}, then 16
 * bytes of nibbles laid out as in {@link Q4_0}; {@code w = d * q + m}. Rows must be a multiple of 32.
 */
public final class Q4_1 implements Format {
    public static final Q4_1 INSTANCE = new Q4_1();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 4 + BLOCK / 2;

    private Q4_1() {
    }

    @Override public String name() { return "Q4_1"; }
    @Override public int typeId() { return 3; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int yo = dstOff + b * BLOCK;
            float d = GgmlMath.getHalf(src, bo);
            float m = GgmlMath.getHalf(src, bo + 2);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = GgmlMath.getByte(src, bo + 4 + j);
                dst[yo + j] = (q & 0x0F) * d + m;
                dst[yo + j + BLOCK / 2] = (q >>> 4) * d + m;
            }
        }
    }

    /** ggml's quantize_row_q4_1_ref: d = (max - min) / 15, q = min(15, (int) ((x - min) / d + 0.5)). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            int xo = srcOff + b * BLOCK;
            long bo = offset + (long) b * BLOCK_BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < BLOCK; j++) {
                float v = src[xo + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            GgmlMath.putHalf(dst, bo, d);
            GgmlMath.putHalf(dst, bo + 2, min);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q0 = Math.min(15, (byte) (int) ((src[xo + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (byte) (int) ((src[xo + BLOCK / 2 + j] - min) * id + 0.5f));
                GgmlMath.putByte(dst, bo + 4 + j, (q0 & 0xff) | (q1 << 4));
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
            float d = GgmlMath.getHalf(w, bo);
            float m = GgmlMath.getHalf(w, bo + 2);
            ByteVector q = ByteVector.fromMemorySegment(B128, w, bo + 4, ByteOrder.LITTLE_ENDIAN);
            acc = BlockDot.fmaBytesAffine(q.and((byte) 0x0F), d, m, x, xo, acc);
            acc = BlockDot.fmaBytesAffine(BlockDot.highNibbles(q), d, m, x, xo + BLOCK / 2, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
