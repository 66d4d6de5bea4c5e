package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.KQuants.QK_K;

/**
 * ggml IQ4_XS, type 23: super-blocks of 256 weights in eight sub-blocks of 32 using the
 * {@link IQ4_NL} levels. Layout: FP16 {@code d}, uint16 {@code scales_h} (2 high bits per sub-block),
 * 4 bytes {@code scales_l} (a low nibble per sub-block), then 16 bytes of nibbles per sub-block laid
 * out as in IQ4_NL. {@code w = d * (ls - 32) * KVALUES[q]}. Rows must be a multiple of 256 elements.
 */
public final class IQ4_XS implements Format {
    public static final IQ4_XS INSTANCE = new IQ4_XS();
    static final int SCALES_H = 2;
    static final int SCALES_L = 4;
    static final int QS = SCALES_L + QK_K / 64;
    static final int BLOCK_BYTES = QS + QK_K / 2;

    private IQ4_XS() {
    }

    @Override public String name() { return "IQ4_XS"; }
    @Override public int typeId() { return 23; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    /** The 6-bit scale (before the -32 offset) of sub-block {@code ib}. */
    static int subScale(MemorySegment s, long bo, int ib) {
        int scalesH = s.get(F16.LE, bo + SCALES_H) & 0xffff;
        return ((GgmlMath.getByte(s, bo + SCALES_L + ib / 2) >> (4 * (ib % 2))) & 0xf)
                | (((scalesH >> (2 * ib)) & 3) << 4);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(src, bo);
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                float dl = d * (subScale(src, bo, ib) - 32);
                IQ4_NL.decodeNibbles(src, bo + QS + 16L * ib, dl, dst, dstOff + b * QK_K + 32 * ib);
            }
        }
    }

    /** What ggml_quantize_chunk runs without an importance matrix: quantize_iq4_xs (ntry 7). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[QK_K];
        float[] scales = new float[QK_K / 32];
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * QK_K;
            long bo = offset + (long) b * BLOCK_BYTES;
            float maxScale = 0;
            float amaxScale = 0;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                scales[ib] = IQ4_NL.blockScale(src, x + 32 * ib, L, 32 * ib);
                float absD = Math.abs(scales[ib]);
                if (absD > amaxScale) {
                    amaxScale = absD;
                    maxScale = scales[ib];
                }
            }
            float d = -maxScale / 32;
            GgmlMath.putHalf(dst, bo, d);
            float id = d != 0 ? 1 / d : 0.f;
            int scalesH = 0;
            int[] scalesL = new int[QK_K / 64];
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int l = Math.max(-32, Math.min(31, GgmlMath.nearestInt(id * scales[ib])));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < 32; ++j) {
                    L[32 * ib + j] = IQ4_NL.bestIndex(idl * src[x + 32 * ib + j]);
                }
                l += 32;
                scalesL[ib / 2] |= (l & 0xf) << (4 * (ib % 2));
                scalesH |= (l >> 4) << (2 * (ib % 8));
            }
            dst.set(F16.LE, bo + SCALES_H, (short) scalesH);
            for (int i = 0; i < QK_K / 64; i++) {
                GgmlMath.putByte(dst, bo + SCALES_L + i, scalesL[i]);
            }
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                IQ4_NL.packNibbles(L, 32 * ib, dst, bo + QS + 16L * ib);
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo);
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                FloatVector sum = IQ4_NL.fmaNibbles(w, bo + QS + 16L * ib, x, xOff + b * QK_K + 32 * ib,
                        FloatVector.zero(FS));
                acc = sum.fma(FloatVector.broadcast(FS, d * (subScale(w, bo, ib) - 32)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
