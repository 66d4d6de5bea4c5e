package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.BlockDot.IS;
import static dev.jquant.format.KQuants.QK_K;

/**
 * ggml Q6_K, type 14: super-blocks of 256 weights in sixteen sub-blocks of 16. Layout: 128 bytes
 * {@code ql} (low nibbles), 64 bytes {@code qh} (high 2-bit pairs), 16 signed 8-bit sub-block
 * scales, FP16 {@code d}. Each 128-element half uses 64 bytes of ql and 32 of qh: element l, l+32,
 * l+64, l+96 take ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibble and bits 0, 2, 4, 6 of
 * qh[l]. {@code w = d * sc * (q - 32)}. Rows must be a multiple of 256 elements.
 */
public final class Q6_K implements Format {
    public static final Q6_K INSTANCE = new Q6_K();
    static final int QH = QK_K / 2;
    static final int SCALES = QH + QK_K / 4;
    static final int D = SCALES + QK_K / 16;
    static final int BLOCK_BYTES = D + 2;
    /** A constant (FS.length() is not one to C2), so the lane indexes below fold after unrolling. */
    private static final int LANES = FS.length();

    private Q6_K() {
    }

    @Override public String name() { return "Q6_K"; }
    @Override public int typeId() { return 14; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(src, bo + D);
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 2; p++) {
                    ByteVector ql0 = load(src, bo + 64L * half + 16 * p);
                    ByteVector ql1 = load(src, bo + 64L * half + 32 + 16 * p);
                    ByteVector qh = load(src, bo + QH + 32L * half + 16 * p);
                    for (int k = 0; k < 4; k++) {
                        int sub = 8 * half + 2 * k + p;
                        BlockDot.storeBytes(quants(ql0, ql1, qh, k), d * src.get(ValueLayout.JAVA_BYTE, bo + SCALES + sub),
                                dst, dstOff + b * QK_K + 16 * sub);
                    }
                }
            }
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(src, bo + D);
            for (int half = 0; half < 2; half++) {
                long ql = bo + 64L * half;
                long qh = bo + QH + 32L * half;
                long sc = bo + SCALES + 8L * half;
                int y = dstOff + b * QK_K + 128 * half;
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int lo0 = GgmlMath.getByte(src, ql + l);
                    int lo1 = GgmlMath.getByte(src, ql + l + 32);
                    int h = GgmlMath.getByte(src, qh + l);
                    int q1 = ((lo0 & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((lo1 & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * src.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                    dst[y + l + 32] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                    dst[y + l + 64] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                    dst[y + l + 96] = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
                }
            }
        }
    }

    /** ggml's quantize_row_q6_K_ref (what ggml_quantize_chunk runs without an importance matrix). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[QK_K];
        float[] scales = new float[QK_K / 16];
        int[] sc = new int[QK_K / 16];
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * QK_K;
            long bo = offset + (long) b * BLOCK_BYTES;
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                float scale = makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib);
                scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GgmlMath.GROUP_MAX_EPS) {
                dst.asSlice(bo, BLOCK_BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            float d = GgmlMath.putHalf(dst, bo + D, 1 / iscale);
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                sc[ib] = (byte) Math.min(127, GgmlMath.nearestInt(iscale * scales[ib]));
                GgmlMath.putByte(dst, bo + SCALES + ib, sc[ib]);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                float dl = d * sc[j];
                if (dl == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = GgmlMath.nearestInt(src[x + 16 * j + ii] / dl);
                    L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            for (int half = 0; half < 2; half++) {
                int j = 128 * half;
                long ql = bo + 64L * half;
                long qh = bo + QH + 32L * half;
                for (int l = 0; l < 32; ++l) {
                    int l0 = L[j + l];
                    int l1 = L[j + l + 32];
                    int l2 = L[j + l + 64];
                    int l3 = L[j + l + 96];
                    GgmlMath.putByte(dst, ql + l, (l0 & 0xF) | ((l2 & 0xF) << 4));
                    GgmlMath.putByte(dst, ql + l + 32, (l1 & 0xF) | ((l3 & 0xF) << 4));
                    GgmlMath.putByte(dst, qh + l, (l0 >> 4) | ((l1 >> 4) << 2) | ((l2 >> 4) << 4) | ((l3 >> 4) << 6));
                }
            }
        }
    }

    /**
     * ggml's make_qx_quants with rmse_type 1 and no importance weights: levels {@code L[lo..lo+n)}
     * in 0..2*nmax-1 (offset by nmax) for the best of 19 candidate scales under x^2-weighted error;
     * returns the scale.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
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
            int l = Math.max(-nmax, Math.min(nmax - 1, GgmlMath.nearestInt(iscale * xi)));
            L[lo + i] = l + nmax;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, GgmlMath.nearestInt(iscale * xi)));
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = GgmlMath.nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * The 16 signed quants (q - 32) of group {@code k} (elements 32k + 16p .. +16 of a half) from the
     * 16 bytes of ql at offset 16p ({@code ql0}) and 32 + 16p ({@code ql1}) and of qh at 16p. Shift
     * counts, not a switch on k: after unrolling they are constants, and parsed once this is a fraction
     * of a four-way switch's graph, which keeps {@link #dot} under C2's inlining node budget.
     */
    private static ByteVector quants(ByteVector ql0, ByteVector ql1, ByteVector qh, int k) {
        ByteVector lo = BlockDot.shr((k & 1) == 0 ? ql0 : ql1, 4 * (k >> 1)).and((byte) 0xF);
        return lo.or(BlockDot.shlMasked(BlockDot.shr(qh, 2 * k).and((byte) 0x03), 4)).sub((byte) 32);
    }

    private static ByteVector load(MemorySegment w, long at) {
        return ByteVector.fromMemorySegment(B128, w, at, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Per 16-element sub-block: d * sc * sum(q * x). The eight scales of each 128-element half are
     * converted together, once, and each sub-block's scale is a lane of that vector, taken by one
     * permute: ~40% faster (matvec) than a scalar load, int-to-float convert and broadcast per sub-block.
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo + D);
            for (int half = 0; half < 2; half++) {
                ByteVector sc = ByteVector.fromMemorySegment(ByteVector.SPECIES_64, w, bo + SCALES + 8L * half,
                        ByteOrder.LITTLE_ENDIAN);
                FloatVector scales0 = ((FloatVector) sc.convertShape(VectorOperators.B2F, FS, 0)).mul(d);
                // narrower than 8 floats (NEON): the last four scales are a second vector
                FloatVector scales1 = LANES < 8 ? ((FloatVector) sc.convertShape(VectorOperators.B2F, FS, 1)).mul(d) : scales0;
                for (int p = 0; p < 2; p++) {
                    ByteVector ql0 = load(w, bo + 64L * half + 16 * p);
                    ByteVector ql1 = load(w, bo + 64L * half + 32 + 16 * p);
                    ByteVector qh = load(w, bo + QH + 32L * half + 16 * p);
                    for (int k = 0; k < 4; k++) {
                        int s = 2 * k + p;
                        FloatVector sum = BlockDot.fmaBytes(quants(ql0, ql1, qh, k), x, xOff + b * QK_K + 128 * half + 16 * s,
                                FloatVector.zero(FS));
                        acc = sum.fma(BlockDot.broadcastLane(s < LANES ? scales0 : scales1, s % LANES), acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Activations as Q8_K, as ggml multiplies Q6_K. */
    @Override
    public Format activationFormat() {
        return Q8_K.INSTANCE;
    }

    /** Per 16-element sub-block: d_x * d * sc * sum(q * q_x) in integers. */
    @Override
    public float dotQuantized(MemorySegment w, long offset, MemorySegment xq, long xqOffset, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            long xb = xqOffset + (long) b * Q8_K.BLOCK_BYTES;
            float d = Q8_K.scale(xq, xb) * GgmlMath.getHalf(w, bo + D);
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < 2; p++) {
                    ByteVector ql0 = load(w, bo + 64L * half + 16 * p);
                    ByteVector ql1 = load(w, bo + 64L * half + 32 + 16 * p);
                    ByteVector qh = load(w, bo + QH + 32L * half + 16 * p);
                    for (int k = 0; k < 4; k++) {
                        int sub = 8 * half + 2 * k + p;
                        IntVector sum = BlockDot.mulAddBytes(quants(ql0, ql1, qh, k),
                                load(xq, xb + Q8_K.QS + 16L * sub), IntVector.zero(IS));
                        acc = BlockDot.fmaInts(sum, d * w.get(ValueLayout.JAVA_BYTE, bo + SCALES + sub), acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
