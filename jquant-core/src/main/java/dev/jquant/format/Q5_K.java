package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.KQuants.QK_K;
import static dev.jquant.format.KQuants.SCALE_BYTES;

/**
 * ggml Q5_K, type 13: super-blocks of 256 weights in eight sub-blocks of 32. Layout: FP16
 * {@code d}, FP16 {@code dmin}, 12 bytes of 6-bit scales and mins as in {@link Q4_K}, 32 bytes
 * {@code qh} (bit 2i and 2i+1 of byte l: fifth bit of element l of sub-blocks 2i and 2i+1), then
 * 128 bytes of low nibbles laid out as in {@link Q4_K}. {@code w = d * sc * q - dmin * m}. Rows must
 * be a multiple of 256 elements.
 */
public final class Q5_K implements Format {
    public static final Q5_K INSTANCE = new Q5_K();
    static final int QH = 4 + SCALE_BYTES;
    static final int QS = QH + QK_K / 8;
    static final int BLOCK_BYTES = QS + QK_K / 2;

    private Q5_K() {
    }

    @Override public String name() { return "Q5_K"; }
    @Override public int typeId() { return 13; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int y = dstOff + b * QK_K;
            float d = GgmlMath.getHalf(src, bo);
            float min = GgmlMath.getHalf(src, bo + 2);
            long sc = KQuants.scalesK4(src, bo + 4);
            long mn = KQuants.minsK4(src, bo + 4);
            int u1 = 1;
            int u2 = 2;
            for (int j = 0; j < QK_K / 64; j++) {
                float d1 = d * KQuants.lane(sc, 2 * j);
                float m1 = min * KQuants.lane(mn, 2 * j);
                float d2 = d * KQuants.lane(sc, 2 * j + 1);
                float m2 = min * KQuants.lane(mn, 2 * j + 1);
                long ql = bo + QS + 32L * j;
                for (int l = 0; l < 32; ++l) {
                    int h = (GgmlMath.getByte(src, bo + QH + l) & u1) != 0 ? 16 : 0;
                    dst[y++] = d1 * ((GgmlMath.getByte(src, ql + l) & 0xF) + h) - m1;
                }
                for (int l = 0; l < 32; ++l) {
                    int h = (GgmlMath.getByte(src, bo + QH + l) & u2) != 0 ? 16 : 0;
                    dst[y++] = d2 * ((GgmlMath.getByte(src, ql + l) >> 4) + h) - m2;
                }
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /** ggml's quantize_row_q5_K_ref (what ggml_quantize_chunk runs without an importance matrix). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[QK_K];
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            KQuants.quantizeScaleMinBlock(src, srcOff + b * QK_K, 31, -0.5f, 15, L, dst, bo);
            int[] qh = new int[QK_K / 8];
            int m1 = 1;
            int m2 = 2;
            for (int j = 0; j < QK_K / 64; j++) {
                for (int l = 0; l < 32; ++l) {
                    int l1 = L[64 * j + l];
                    if (l1 > 15) {
                        l1 -= 16;
                        qh[l] |= m1;
                    }
                    int l2 = L[64 * j + l + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        qh[l] |= m2;
                    }
                    GgmlMath.putByte(dst, bo + QS + 32L * j + l, l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
            for (int l = 0; l < QK_K / 8; l++) {
                GgmlMath.putByte(dst, bo + QH + l, qh[l]);
            }
        }
    }

    /** Per 32-element sub-block: sum((d * sc * q - dmin * m) * x), the fifth bit merged in vector lanes. */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo);
            float negMin = -GgmlMath.getHalf(w, bo + 2);
            long sc = KQuants.scalesK4(w, bo + 4);
            long mn = KQuants.minsK4(w, bo + 4);
            for (int p = 0; p < 2; p++) {
                ByteVector qh = ByteVector.fromMemorySegment(B128, w, bo + QH + 16 * p, ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < QK_K / 64; j++) {
                    ByteVector ql = ByteVector.fromMemorySegment(B128, w, bo + QS + 32L * j + 16 * p,
                            ByteOrder.LITTLE_ENDIAN);
                    ByteVector lo = ql.and((byte) 0xF)
                            .or(BlockDot.shlMasked(BlockDot.shr(qh, 2 * j).and((byte) 1), 4));
                    ByteVector hi = BlockDot.highNibbles(ql)
                            .or(BlockDot.shlMasked(BlockDot.shr(qh, 2 * j + 1).and((byte) 1), 4));
                    int xo = xOff + b * QK_K + 64 * j + 16 * p;
                    acc = BlockDot.fmaBytesAffine(lo, d * KQuants.lane(sc, 2 * j), negMin * KQuants.lane(mn, 2 * j),
                            x, xo, acc);
                    acc = BlockDot.fmaBytesAffine(hi, d * KQuants.lane(sc, 2 * j + 1),
                            negMin * KQuants.lane(mn, 2 * j + 1), x, xo + 32, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
