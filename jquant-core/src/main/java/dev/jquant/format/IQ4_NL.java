package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;

/**
 * ggml IQ4_NL, type 20: blocks of 32 weights, an FP16 scale {@code d} then 16 bytes of nibbles laid
 * out as in {@link Q4_0}; each nibble indexes a fixed non-linear table of 16 levels,
 * {@code w = d * KVALUES[q]}. Rows must be a multiple of 32 elements.
 */
public final class IQ4_NL implements Format {
    public static final IQ4_NL INSTANCE = new IQ4_NL();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK / 2;
    /** The 16 levels (ggml's kvalues_iq4nl), shared with {@link IQ4_XS}. */
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** ggml's quantize_iq4_nl / quantize_iq4_xs search 2 * NTRY + 1 scales around the first guess. */
    private static final int NTRY = 7;
    private static final ByteVector KVALUES_VECTOR = ByteVector.fromArray(B128, KVALUES, 0);

    private IQ4_NL() {
    }

    @Override public String name() { return "IQ4_NL"; }
    @Override public int typeId() { return 20; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            decodeNibbles(src, bo + 2, GgmlMath.getHalf(src, bo), dst, dstOff + b * BLOCK);
        }
    }

    /** 16 bytes of nibbles at {@code qs}: element j from the low, j+16 from the high nibble of byte j. */
    static void decodeNibbles(MemorySegment src, long qs, float d, float[] dst, int y) {
        for (int j = 0; j < 16; ++j) {
            int q = GgmlMath.getByte(src, qs + j);
            dst[y + j] = d * KVALUES[q & 0xf];
            dst[y + j + 16] = d * KVALUES[q >> 4];
        }
    }

    /**
     * What ggml_quantize_chunk runs without an importance matrix: quantize_iq4_nl, i.e.
     * quantize_row_iq4_nl_impl with ntry 7 (not quantize_row_iq4_nl_ref, which skips the search).
     */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[BLOCK];
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * BLOCK;
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = blockScale(src, x, L, 0);
            GgmlMath.putHalf(dst, bo, d);
            float id = d != 0 ? 1 / d : 0;
            for (int j = 0; j < BLOCK; ++j) {
                L[j] = bestIndex(id * src[x + j]);
            }
            packNibbles(L, 0, dst, bo + 2);
        }
    }

    /** ggml's best_index_int8 over {@link #KVALUES}: the level nearest to {@code x} (ties to the upper). */
    static int bestIndex(float x) {
        if (x <= KVALUES[0]) {
            return 0;
        }
        if (x >= KVALUES[15]) {
            return 15;
        }
        int ml = 0;
        int mu = 15;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < KVALUES[mav]) {
                mu = mav;
            } else {
                ml = mav;
            }
        }
        return x - KVALUES[mu - 1] < KVALUES[mu] - x ? mu - 1 : mu;
    }

    /**
     * The per-32-block search of ggml's quantize_row_iq4_nl_impl without importance weights (x^2
     * weighting, ntry 7): the scale of {@code x[xo..xo+32)}, 0 for an all-zero block; fills
     * {@code L[lo..lo+32)} with the first guess's levels unless the block is all zero.
     */
    static float blockScale(float[] x, int xo, int[] L, int lo) {
        float max = GgmlMath.largestMagnitude(x, xo, BLOCK);
        if (Math.abs(max) < GgmlMath.GROUP_MAX_EPS) {
            return 0;
        }
        float d = -max / KVALUES[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < BLOCK; ++j) {
            float xj = x[xo + j];
            int l = bestIndex(id * xj);
            L[lo + j] = l;
            float q = KVALUES[l];
            float w = xj * xj;
            sumqx += w * q * xj;
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -NTRY; itry <= NTRY; ++itry) {
            id = (itry + KVALUES[0]) / max;
            sumqx = 0;
            sumq2 = 0;
            for (int j = 0; j < BLOCK; ++j) {
                float xj = x[xo + j];
                float q = KVALUES[bestIndex(id * xj)];
                float w = xj * xj;
                sumqx += w * q * xj;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /** Packs levels {@code L[lo..lo+32)} into 16 bytes at {@code qs}, as {@link #decodeNibbles} reads them. */
    static void packNibbles(int[] L, int lo, MemorySegment dst, long qs) {
        for (int j = 0; j < 16; ++j) {
            GgmlMath.putByte(dst, qs + j, L[lo + j] | (L[lo + 16 + j] << 4));
        }
    }

    /** {@code acc + sum_k KVALUES[q_k] * x_k} for the 32 elements whose nibbles are the 16 bytes at {@code qs}. */
    static FloatVector fmaNibbles(MemorySegment w, long qs, float[] x, int xo, FloatVector acc) {
        ByteVector q = ByteVector.fromMemorySegment(B128, w, qs, ByteOrder.LITTLE_ENDIAN);
        acc = BlockDot.fmaBytes(q.and((byte) 0xF).selectFrom(KVALUES_VECTOR), x, xo, acc);
        return BlockDot.fmaBytes(BlockDot.highNibbles(q).selectFrom(KVALUES_VECTOR), x, xo + 16, acc);
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            FloatVector sum = fmaNibbles(w, bo + 2, x, xOff + b * BLOCK, FloatVector.zero(FS));
            acc = sum.fma(FloatVector.broadcast(FS, GgmlMath.getHalf(w, bo)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
