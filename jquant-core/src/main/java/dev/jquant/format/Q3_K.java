package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.KQuants.QK_K;

/**
 * ggml Q3_K, type 11: super-blocks of 256 weights in sixteen sub-blocks of 16. Layout: 32 bytes
 * {@code hmask} (bit k of byte l: high bit of element 32k + l, set meaning "no -4"), 64 bytes of
 * low 2-bit quants packed as in {@link Q2_K}, 12 bytes of 6-bit signed scales (low nibbles in bytes
 * 0..7, high 2-bit pairs in bytes 8..11), FP16 {@code d}. {@code w = d * (sc - 32) * (q - 4)}. Rows
 * must be a multiple of 256 elements.
 */
public final class Q3_K implements Format {
    public static final Q3_K INSTANCE = new Q3_K();
    static final int QS = QK_K / 8;
    static final int SCALES = QS + QK_K / 4;
    static final int D = SCALES + 12;
    static final int BLOCK_BYTES = D + 2;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q3_K() {
    }

    @Override public String name() { return "Q3_K"; }
    @Override public int typeId() { return 11; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    /**
     * The 6-bit scales (before the -32 offset) of sub-blocks 8 * half .. 8 * half + 7 from the 12
     * packed bytes at {@code at}, one per byte of the result: low nibbles from bytes 0..7 (low halves
     * for half 0, high halves for half 1), top two bits from bytes 8..11.
     */
    static long scales(MemorySegment s, long at, int half) {
        long low = s.get(LE_LONG, at) >>> (4 * half);
        long top = (s.get(Q5_0.QH, at + 8) & 0xffffffffL) >>> (4 * half);
        long high = (top & 0x03030303L) | (((top >>> 2) & 0x03030303L) << 32);
        return (low & 0x0F0F0F0F0F0F0F0FL) | (high << 4);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int y = dstOff + b * QK_K;
            float dAll = GgmlMath.getHalf(src, bo + D);
            int m = 1;
            for (int half = 0; half < 2; half++) {
                long sc = scales(src, bo + SCALES, half);
                int is = 0;
                long q = bo + QS + 32L * half;
                for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                    for (int part = 0; part < 2; part++) {
                        float dl = dAll * (KQuants.lane(sc, is++) - 32);
                        for (int l = 16 * part; l < 16 * part + 16; ++l) {
                            int low = (GgmlMath.getByte(src, q + l) >> shift) & 3;
                            int high = (GgmlMath.getByte(src, bo + l) & m) != 0 ? 0 : 4;
                            dst[y++] = dl * (low - high);
                        }
                    }
                }
            }
        }
    }

    /** ggml's quantize_row_q3_K_ref (what ggml_quantize_chunk runs without an importance matrix). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[QK_K];
        float[] scales = new float[QK_K / 16];
        int[] s = new int[12];
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * QK_K;
            long bo = offset + (long) b * BLOCK_BYTES;
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < QK_K / 16; ++j) {
                scales[j] = makeQ3Quants(16, 4, src, x + 16 * j, L, 16 * j);
                float scale = Math.abs(scales[j]);
                if (scale > amax) {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            Arrays.fill(s, 0);
            float d;
            if (maxScale != 0) {
                float iscale = -32.f / maxScale;
                for (int j = 0; j < QK_K / 16; ++j) {
                    // ggml stores nearest_int into an int8_t before clamping: keep the wrap-around
                    int l = Math.max(-32, Math.min(31, (byte) GgmlMath.nearestInt(iscale * scales[j]))) + 32;
                    if (j < 8) {
                        s[j] = l & 0xF;
                    } else {
                        s[j - 8] |= (l & 0xF) << 4;
                    }
                    l >>= 4;
                    s[j % 4 + 8] |= l << (2 * (j / 4));
                }
                d = GgmlMath.putHalf(dst, bo + D, 1 / iscale);
            } else {
                d = GgmlMath.putHalf(dst, bo + D, 0.f);
            }
            for (int i = 0; i < 12; i++) {
                GgmlMath.putByte(dst, bo + SCALES + i, s[i]);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                float dl = d * (KQuants.lane(scales(dst, bo + SCALES, j / 8), j % 8) - 32);
                if (dl == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = GgmlMath.nearestInt(src[x + 16 * j + ii] / dl);
                    L[16 * j + ii] = Math.max(-4, Math.min(3, l)) + 4;
                }
            }
            int[] hmask = new int[QK_K / 8];
            int m = 0;
            int hm = 1;
            for (int j = 0; j < QK_K; ++j) {
                if (L[j] > 3) {
                    hmask[m] |= hm;
                    L[j] -= 4;
                }
                if (++m == QK_K / 8) {
                    m = 0;
                    hm <<= 1;
                }
            }
            for (int i = 0; i < QK_K / 8; i++) {
                GgmlMath.putByte(dst, bo + i, hmask[i]);
            }
            Q2_K.packTwoBit(L, dst, bo + QS);
        }
    }

    /**
     * ggml's make_q3_quants with do_rmse: levels {@code L[lo..lo+n)} in 0..2*nmax-1 (offset by nmax),
     * refined a few rounds to maximise the x^2-weighted fit; returns the scale.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = GgmlMath.largestMagnitude(x, xo, n);
        if (Math.abs(max) < GgmlMath.GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                L[lo + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = GgmlMath.nearestInt(iscale * xi);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int nChanged = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * L[lo + i];
                if (slx > 0) {
                    float sl2 = suml2 - w * L[lo + i] * L[lo + i];
                    int newL = GgmlMath.nearestInt(xi * sl2 / slx);
                    newL = Math.max(-nmax, Math.min(nmax - 1, newL));
                    if (newL != L[lo + i]) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[lo + i] = newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (nChanged == 0) {
                break;
            }
        }
        for (int i = 0; i < n; ++i) {
            L[lo + i] += nmax;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /** Per 16-element sub-block: d * (sc - 32) * sum((q - 4 * !h) * x), the 3-bit q assembled in vector lanes. */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo + D);
            for (int half = 0; half < 2; half++) {
                long sc = scales(w, bo + SCALES, half);
                for (int j = 0; j < 8; j++) {
                    int k = j / 2;
                    int p = j % 2;
                    ByteVector qs = ByteVector.fromMemorySegment(B128, w, bo + QS + 32L * half + 16 * p,
                            ByteOrder.LITTLE_ENDIAN);
                    ByteVector hm = ByteVector.fromMemorySegment(B128, w, bo + 16 * p, ByteOrder.LITTLE_ENDIAN);
                    ByteVector low = BlockDot.shr(qs, 2 * k).and((byte) 3);
                    ByteVector high = BlockDot.shr(hm, 4 * half + k).and((byte) 1);
                    ByteVector q = low.sub((byte) 4).add(BlockDot.shlMasked(high, 2));
                    acc = BlockDot.fmaBytesAffine(q, d * (KQuants.lane(sc, j) - 32), 0f, x,
                            xOff + b * QK_K + 128 * half + 16 * j, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
