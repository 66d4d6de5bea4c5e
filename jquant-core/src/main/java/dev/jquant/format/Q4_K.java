package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;
import static dev.jquant.format.BlockDot.IS;
import static dev.jquant.format.KQuants.QK_K;
import static dev.jquant.format.KQuants.SCALE_BYTES;

/**
 * ggml Q4_K, type 12: super-blocks of 256 weights in eight sub-blocks of 32. Layout: FP16
 * {@code d}, FP16 {@code dmin}, 12 bytes of 6-bit sub-block scales and mins (see
 * {@link KQuants#scalesK4}), 128 bytes of nibbles: each 32-byte group holds sub-block 2i in its
 * low and sub-block 2i+1 in its high nibbles. {@code w = d * sc * q - dmin * m}. Rows must be a
 * multiple of 256 elements.
 */
public final class Q4_K implements Format {
    public static final Q4_K INSTANCE = new Q4_K();
    static final int QS = 4 + SCALE_BYTES;
    static final int BLOCK_BYTES = QS + QK_K / 2;

    private Q4_K() {
    }

    @Override public String name() { return "Q4_K"; }
    @Override public int typeId() { return 12; }
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
            for (int j = 0; j < QK_K / 64; j++) {
                float d1 = d * KQuants.lane(sc, 2 * j);
                float m1 = -(min * KQuants.lane(mn, 2 * j));
                float d2 = d * KQuants.lane(sc, 2 * j + 1);
                float m2 = -(min * KQuants.lane(mn, 2 * j + 1));
                for (int p = 0; p < 32; p += 16) {
                    ByteVector q = ByteVector.fromMemorySegment(B128, src, bo + QS + 32L * j + p, ByteOrder.LITTLE_ENDIAN);
                    BlockDot.storeBytesAffine(q.and((byte) 0xF), d1, m1, dst, y + 64 * j + p);
                    BlockDot.storeBytesAffine(BlockDot.highNibbles(q), d2, m2, dst, y + 64 * j + 32 + p);
                }
            }
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            int y = dstOff + b * QK_K;
            float d = GgmlMath.getHalf(src, bo);
            float min = GgmlMath.getHalf(src, bo + 2);
            long sc = KQuants.scalesK4(src, bo + 4);
            long mn = KQuants.minsK4(src, bo + 4);
            for (int j = 0; j < QK_K / 64; j++) {
                float d1 = d * KQuants.lane(sc, 2 * j);
                float m1 = min * KQuants.lane(mn, 2 * j);
                float d2 = d * KQuants.lane(sc, 2 * j + 1);
                float m2 = min * KQuants.lane(mn, 2 * j + 1);
                long q = bo + QS + 32L * j;
                for (int l = 0; l < 32; ++l) {
                    dst[y++] = d1 * (GgmlMath.getByte(src, q + l) & 0xF) - m1;
                }
                for (int l = 0; l < 32; ++l) {
                    dst[y++] = d2 * (GgmlMath.getByte(src, q + l) >> 4) - m2;
                }
            }
        }
    }

    /** ggml's quantize_row_q4_K_ref (what ggml_quantize_chunk runs without an importance matrix). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        int[] L = new int[QK_K];
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            KQuants.quantizeScaleMinBlock(src, srcOff + b * QK_K, 15, -1.f, 20, L, dst, bo);
            for (int j = 0; j < QK_K / 64; j++) {
                for (int l = 0; l < 32; ++l) {
                    GgmlMath.putByte(dst, bo + QS + 32L * j + l, L[64 * j + l] | (L[64 * j + l + 32] << 4));
                }
            }
        }
    }

    /**
     * Per 32-element sub-block the weights are the affine function {@code (d * sc) * q - dmin * m}
     * of the nibbles: one convert, one FMA for the weight and one for the product per 16 elements,
     * two accumulators for the low and high sub-block of each 32-byte group. The eight scales and
     * the eight mins are converted to floats by vector, once per super-block, into a small scratch
     * array the sub-blocks read back (~7% faster than a scalar extract and convert per sub-block; a
     * lane permute per sub-block instead made the graph too big for C2 to inline the helpers).
     * Narrower than 8 lanes (NEON) it stays scalar; LANES folds, so only one branch is compiled.
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        float[] sm = new float[2 * LANES]; // scales from 0, mins from LANES
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = GgmlMath.getHalf(w, bo);
            float negMin = -GgmlMath.getHalf(w, bo + 2);
            long sc = KQuants.scalesK4(w, bo + 4);
            long mn = KQuants.minsK4(w, bo + 4);
            if (LANES >= 8) {
                ((FloatVector) LongVector.broadcast(LongVector.SPECIES_128, sc).reinterpretAsBytes()
                        .convertShape(VectorOperators.B2F, FS, 0)).mul(d).intoArray(sm, 0);
                ((FloatVector) LongVector.broadcast(LongVector.SPECIES_128, mn).reinterpretAsBytes()
                        .convertShape(VectorOperators.B2F, FS, 0)).mul(negMin).intoArray(sm, LANES);
            }
            for (int j = 0; j < QK_K / 64; j++) {
                int xo = xOff + b * QK_K + 64 * j;
                float d1 = LANES >= 8 ? sm[2 * j] : d * KQuants.lane(sc, 2 * j);
                float m1 = LANES >= 8 ? sm[LANES + 2 * j] : negMin * KQuants.lane(mn, 2 * j);
                float d2 = LANES >= 8 ? sm[2 * j + 1] : d * KQuants.lane(sc, 2 * j + 1);
                float m2 = LANES >= 8 ? sm[LANES + 2 * j + 1] : negMin * KQuants.lane(mn, 2 * j + 1);
                for (int p = 0; p < 32; p += 16) {
                    ByteVector q = ByteVector.fromMemorySegment(B128, w, bo + QS + 32L * j + p, ByteOrder.LITTLE_ENDIAN);
                    acc0 = BlockDot.fmaBytesAffine(q.and((byte) 0xF), d1, m1, x, xo + p, acc0);
                    acc1 = BlockDot.fmaBytesAffine(BlockDot.highNibbles(q), d2, m2, x, xo + 32 + p, acc1);
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** A constant to C2, unlike FS.length(), so the branches on it fold while parsing. */
    private static final int LANES = FS.length();

    /** Activations as Q8_K, as ggml multiplies Q4_K. */
    @Override
    public Format activationFormat() {
        return Q8_K.INSTANCE;
    }

    /** Per sub-block: d_x * (d * sc * sum(q * q_x) - dmin * m * sum(q_x)), the sums of q_x being Q8_K's bsums. */
    @Override
    public float dotQuantized(MemorySegment w, long offset, MemorySegment xq, long xqOffset, int n) {
        int nb = GgmlMath.blocks(this, n);
        FloatVector acc = FloatVector.zero(FS);
        float minTerms = 0;
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            long xb = xqOffset + (long) b * Q8_K.BLOCK_BYTES;
            float dx = Q8_K.scale(xq, xb);
            float d = dx * GgmlMath.getHalf(w, bo);
            long sc = KQuants.scalesK4(w, bo + 4);
            long mn = KQuants.minsK4(w, bo + 4);
            int mins = 0;
            for (int j = 0; j < QK_K / 64; j++) {
                IntVector lo = IntVector.zero(IS);
                IntVector hi = IntVector.zero(IS);
                for (int p = 0; p < 32; p += 16) {
                    ByteVector q = ByteVector.fromMemorySegment(B128, w, bo + QS + 32L * j + p, ByteOrder.LITTLE_ENDIAN);
                    long xo = xb + Q8_K.QS + 64L * j + p;
                    lo = BlockDot.mulAddBytes(q.and((byte) 0xF), ByteVector.fromMemorySegment(B128, xq, xo,
                            ByteOrder.LITTLE_ENDIAN), lo);
                    hi = BlockDot.mulAddBytes(BlockDot.highNibbles(q), ByteVector.fromMemorySegment(B128, xq,
                            xo + 32, ByteOrder.LITTLE_ENDIAN), hi);
                }
                acc = BlockDot.fmaInts(lo, d * KQuants.lane(sc, 2 * j), acc);
                acc = BlockDot.fmaInts(hi, d * KQuants.lane(sc, 2 * j + 1), acc);
                mins += KQuants.lane(mn, 2 * j) * (Q8_K.bsum(xq, xb, 4 * j) + Q8_K.bsum(xq, xb, 4 * j + 1))
                        + KQuants.lane(mn, 2 * j + 1) * (Q8_K.bsum(xq, xb, 4 * j + 2) + Q8_K.bsum(xq, xb, 4 * j + 3));
            }
            minTerms += dx * GgmlMath.getHalf(w, bo + 2) * mins;
        }
        return acc.reduceLanes(VectorOperators.ADD) - minTerms;
    }
}
