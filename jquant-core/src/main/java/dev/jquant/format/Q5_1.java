package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.Q5_0.QH;

/**
 * ggml Q5_1, type 7: blocks of 32 weights, FP16 scale {@code d} and minimum {@code m}, then the
 * high bits {@code qh} and nibbles laid out as in {@link Q5_0}; {@code w = d * q + m}. Rows must be
 * a multiple of 32 elements.
 */
public final class Q5_1 implements Format {
    public static final Q5_1 INSTANCE = new Q5_1();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 4 + 4 + BLOCK / 2;

    private Q5_1() {
    }

    @Override public String name() { return "Q5_1"; }
    @Override public int typeId() { return 7; }
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
            int qh = src.get(QH, bo + 4);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = GgmlMath.getByte(src, bo + 8 + j);
                int h0 = ((qh >>> j) << 4) & 0x10;
                int h1 = (qh >>> (j + 12)) & 0x10;
                dst[yo + j] = ((q & 0x0F) | h0) * d + m;
                dst[yo + j + BLOCK / 2] = ((q >>> 4) | h1) * d + m;
            }
        }
    }

    /** ggml's quantize_row_q5_1_ref: d = (max - min) / 31, q = (uint8) ((x - min) / d + 0.5). */
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
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            GgmlMath.putHalf(dst, bo, d);
            GgmlMath.putHalf(dst, bo + 2, min);
            int qh = 0;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q0 = (int) ((src[xo + j] - min) * id + 0.5f) & 0xff;
                int q1 = (int) ((src[xo + BLOCK / 2 + j] - min) * id + 0.5f) & 0xff;
                GgmlMath.putByte(dst, bo + 8 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + BLOCK / 2);
            }
            dst.set(QH, bo + 4, qh);
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
            ByteVector head = ByteVector.fromMemorySegment(B128, w, bo + 4, ByteOrder.LITTLE_ENDIAN);
            ByteVector qs = ByteVector.fromMemorySegment(B128, w, bo + 8, ByteOrder.LITTLE_ENDIAN);
            acc = BlockDot.fmaBytesAffine(Q5_0.withFifthBit(qs.and((byte) 0x0F), head, Q5_0.LOW_HALF), d, m, x, xo, acc);
            acc = BlockDot.fmaBytesAffine(Q5_0.withFifthBit(BlockDot.highNibbles(qs), head, Q5_0.HIGH_HALF),
                    d, m, x, xo + BLOCK / 2, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
