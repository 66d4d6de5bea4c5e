package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;

/**
 * ggml Q5_0, type 6: blocks of 32 weights, an FP16 scale {@code d}, 4 bytes {@code qh} holding the
 * fifth bit of element j in bit j (little-endian), then 16 bytes of low nibbles laid out as in
 * {@link Q4_0}; {@code w = d * (q - 16)}. Rows must be a multiple of 32 elements.
 */
public final class Q5_0 implements Format {
    public static final Q5_0 INSTANCE = new Q5_0();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + 4 + BLOCK / 2;
    static final ValueLayout.OfInt QH = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Lane l picks byte l / 8 of qh, for elements 0..15 ... */
    static final VectorShuffle<Byte> LOW_HALF = VectorShuffle.fromOp(B128, l -> l / 8);
    /** ... or byte 2 + l / 8, for elements 16..31. */
    static final VectorShuffle<Byte> HIGH_HALF = VectorShuffle.fromOp(B128, l -> 2 + l / 8);
    /** Lane l selects bit l % 8 of its byte. */
    private static final ByteVector BIT_MASKS = ByteVector.fromArray(B128,
            new byte[] {1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128}, 0);

    private Q5_0() {
    }

    @Override public String name() { return "Q5_0"; }
    @Override public int typeId() { return 6; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int yo = dstOff + b * BLOCK;
            float d = GgmlMath.getHalf(src, bo);
            int qh = src.get(QH, bo + 2);
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = GgmlMath.getByte(src, bo + 6 + j);
                int h0 = ((qh >>> j) << 4) & 0x10;
                int h1 = (qh >>> (j + 12)) & 0x10;
                dst[yo + j] = (((q & 0x0F) | h0) - 16) * d;
                dst[yo + j + BLOCK / 2] = (((q >>> 4) | h1) - 16) * d;
            }
        }
    }

    /** ggml's quantize_row_q5_0_ref: d = (the value of largest magnitude) / -16, q = min(31, (int) (x / d + 16.5)). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            int xo = srcOff + b * BLOCK;
            long bo = offset + (long) b * BLOCK_BYTES;
            float max = GgmlMath.largestMagnitude(src, xo, BLOCK);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            GgmlMath.putHalf(dst, bo, d);
            int qh = 0;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q0 = Math.min(31, (byte) (int) (src[xo + j] * id + 16.5f)) & 0xff;
                int q1 = Math.min(31, (byte) (int) (src[xo + BLOCK / 2 + j] * id + 16.5f)) & 0xff;
                GgmlMath.putByte(dst, bo + 6 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + BLOCK / 2);
            }
            dst.set(QH, bo + 2, qh);
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int xo = xOff + b * BLOCK;
            ByteVector head = ByteVector.fromMemorySegment(B128, w, bo + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector qs = ByteVector.fromMemorySegment(B128, w, bo + 6, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = withFifthBit(qs.and((byte) 0x0F), head, LOW_HALF).sub((byte) 16);
            ByteVector hi = withFifthBit(BlockDot.highNibbles(qs), head, HIGH_HALF).sub((byte) 16);
            FloatVector sum = BlockDot.fmaBytes(lo, x, xo, FloatVector.zero(FS));
            sum = BlockDot.fmaBytes(hi, x, xo + BLOCK / 2, sum);
            acc = sum.fma(FloatVector.broadcast(FS, GgmlMath.getHalf(w, bo)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Sets bit 4 of each lane of {@code nibbles} whose element has its bit set in qh, the first 4
     * bytes of {@code head} read as a little-endian bit string; {@code half} picks elements 0..15 or 16..31.
     */
    static ByteVector withFifthBit(ByteVector nibbles, ByteVector head, VectorShuffle<Byte> half) {
        VectorMask<Byte> set = head.rearrange(half).and(BIT_MASKS).compare(VectorOperators.NE, 0);
        return nibbles.lanewise(VectorOperators.OR, (byte) 0x10, set);
    }
}
