package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.KQuants.QK_K;

/**
 * ggml Q2_K, type 10: super-blocks of 256 weights in sixteen sub-blocks of 16. Layout: 16 bytes of
 * sub-block scales (low nibble) and mins (high nibble), 64 bytes of 2-bit quants (byte l of 32-byte
 * group g holds elements l, l+32, l+64, l+96 of half g at bit 0, 2, 4, 6), FP16 {@code d}, FP16
 * {@code dmin}. {@code w = d * sc * q - dmin * m}. Rows must be a multiple of 256 elements.
 */
public final class Q2_K implements Format {
    public static final Q2_K INSTANCE = new Q2_K();
    static final int QS = QK_K / 16;
    static final int D = QS + QK_K / 4;
    static final int BLOCK_BYTES = D + 4;

    private Q2_K() {
    }

    @Override public String name() { return "Q2_K"; }
    @Override public int typeId() { return 10; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int y = dstOff + b * QK_K;
            float d = GgmlMath.getHalf(src, bo + D);
            float min = GgmlMath.getHalf(src, bo + D + 2);
            int is = 0;
            for (int half = 0; half < 2; half++) {
                long q = bo + QS + 32L * half;
                for (int shift = 0; shift < 8; shift += 2) {
                    for (int part = 0; part < 2; part++) {
                        int sc = GgmlMath.getByte(src, bo + is++);
                        float dl = d * (sc & 0xF);
                        float ml = min * (sc >> 4);
                        for (int l = 0; l < 16; ++l) {
                            dst[y++] = dl * ((GgmlMath.getByte(src, q + 16 * part + l) >> shift) & 3) - ml;
                        }
                    }
                }
            }
        }
    }

    /** ggml's quantize_row_q2_K_ref (what ggml_quantize_chunk runs without an importance matrix). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        final float q4scale = 15.f;
        int[] L = new int[QK_K];
        float[] weights = new float[16];
        float[] mins = new float[QK_K / 16];
        float[] scales = new float[QK_K / 16];
        int[] sc = new int[QK_K / 16];
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * QK_K;
            long bo = offset + (long) b * BLOCK_BYTES;
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                for (int l = 0; l < 16; ++l) {
                    weights[l] = Math.abs(src[x + 16 * j + l]);
                }
                scales[j] = KQuants.makeQkx2Quants(16, 3, src, x + 16 * j, weights, L, 16 * j, mins, j,
                        -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }
            float d;
            if (maxScale > 0) {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    sc[j] = GgmlMath.nearestInt(iscale * scales[j]) & 0xff;
                }
                d = GgmlMath.putHalf(dst, bo + D, maxScale / q4scale);
            } else {
                Arrays.fill(sc, 0);
                d = GgmlMath.putHalf(dst, bo + D, 0.f);
            }
            float dmin;
            if (maxMin > 0) {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < QK_K / 16; ++j) {
                    sc[j] = (sc[j] | (GgmlMath.nearestInt(iscale * mins[j]) << 4)) & 0xff;
                }
                dmin = GgmlMath.putHalf(dst, bo + D + 2, maxMin / q4scale);
            } else {
                dmin = GgmlMath.putHalf(dst, bo + D + 2, 0.f);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                GgmlMath.putByte(dst, bo + j, sc[j]);
                float dl = d * (sc[j] & 0xF);
                if (dl == 0) {
                    continue;
                }
                float dm = dmin * (sc[j] >> 4);
                for (int ii = 0; ii < 16; ++ii) {
                    int l = GgmlMath.nearestInt((src[x + 16 * j + ii] + dm) / dl);
                    L[16 * j + ii] = Math.max(0, Math.min(3, l));
                }
            }
            packTwoBit(L, dst, bo + QS);
        }
    }

    /** ggml's 2-bit packing of 256 levels, shared with Q3_K: byte l of group g holds L[128g + l + 32k] at bit 2k. */
    static void packTwoBit(int[] L, MemorySegment dst, long qs) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                GgmlMath.putByte(dst, qs + j / 4 + l,
                        L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
    }

    /** Per 16-element sub-block: sum((d * sc * q - dmin * m) * x), four sub-blocks from each 16 bytes of quants. */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo + D);
            float negMin = -GgmlMath.getHalf(w, bo + D + 2);
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 2; p++) {
                    ByteVector qs = ByteVector.fromMemorySegment(B128, w, bo + QS + 32L * half + 16 * p,
                            ByteOrder.LITTLE_ENDIAN);
                    for (int k = 0; k < 4; k++) {
                        int sub = 8 * half + 2 * k + p;
                        int sc = GgmlMath.getByte(w, bo + sub);
                        ByteVector q = BlockDot.shr(qs, 2 * k).and((byte) 3);
                        acc = BlockDot.fmaBytesAffine(q, d * (sc & 0xF), negMin * (sc >> 4), x,
                                xOff + b * QK_K + 16 * sub, acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
