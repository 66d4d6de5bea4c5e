package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jquant.format.BlockDot.FS;

/**
 * FP4 (E2M1: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives) with an FP16 absmax scale per block of
 * 32 ({@code FP4_G32}, jquant type 1027) or 64 ({@code FP4_G64}, 1028) elements. A block is the FP16
 * scale {@code s} then the 4-bit codes in the {@link Nibbles} layout (code bits: sign, two exponent
 * bits, one mantissa bit, as in OCP E2M1 and {@link MXFP4}); {@code w = s * e2m1(q)}.
 *
 * <p>Encoding: {@code s = amax / 6} rounded up to FP16 (so no element falls outside the grid), each
 * element takes the nearest value (ties to the smaller magnitude, as ggml's MXFP4 quantizer does).
 * Non-finite elements are left out of amax; NaN encodes as 0, infinities as +-6s.
 *
 * <p>A row whose length is not a multiple of the block ends in a partial block, encoded as if
 * padded with zeros and stored whole: {@code rowBytes(n) = ceil(n / block) * blockBytes}.
 */
public final class FP4 implements Format {
    public static final FP4 G32 = new FP4(32, 1027);
    public static final FP4 G64 = new FP4(64, 1028);
    /** The largest E2M1 magnitude: a block's amax maps to it. */
    static final float MAX = 6;

    private final int block;
    private final int typeId;

    private FP4(int block, int typeId) {
        this.block = block;
        this.typeId = typeId;
    }

    @Override public String name() { return "FP4_G" + block; }
    @Override public int typeId() { return typeId; }
    @Override public int blockSize() { return block; }
    @Override public int blockBytes() { return 2 + block / 2; }

    @Override
    public long rowBytes(long n) {
        return Math.ceilDiv(n, block) * blockBytes();
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int start = 0; start < n; start += block, offset += blockBytes()) {
            float d = GgmlMath.getHalf(src, offset) * 0.5f; // KVALUES are E2M1 doubled
            for (int j = 0, len = Math.min(block, n - start); j < len; j++) {
                dst[dstOff + start + j] = MXFP4.KVALUES[Nibbles.get(src, offset + 2 + j / 32 * 16, j % 32)] * d;
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int[] q = new int[block];
        for (int start = 0; start < n; start += block, offset += blockBytes()) {
            int len = Math.min(block, n - start);
            float amax = 0;
            for (int j = 0; j < len; j++) {
                float a = Math.abs(src[srcOff + start + j]);
                if (amax < a && a != Float.POSITIVE_INFINITY) {
                    amax = a;
                }
            }
            float s = ScaleType.F16.roundUp(amax / MAX);
            GgmlMath.putHalf(dst, offset, s);
            float d = s * 0.5f;
            float top = MAX * s;
            for (int j = 0; j < block; j++) {
                // clamping sends infinities to the extreme codes; NaN stays NaN and takes code 0
                q[j] = j < len && d > 0 ? MXFP4.bestIndex(Math.max(-top, Math.min(top, src[srcOff + start + j])), d) : 0;
            }
            for (int g = 0; g < block; g += 32) {
                Nibbles.put(q, g, dst, offset + 2 + g / 2);
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int full = n / block;
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < full; b++) {
            long bo = offset + (long) b * blockBytes();
            FloatVector sum = FloatVector.zero(FS);
            for (int g = 0; g < block; g += 32) {
                sum = Nibbles.fmaByteTable(w, bo + 2 + g / 2, MXFP4.KVALUES_VECTOR, x, xOff + b * block + g, sum);
            }
            acc = sum.fma(FloatVector.broadcast(FS, GgmlMath.getHalf(w, bo) * 0.5f), acc);
        }
        float result = acc.reduceLanes(VectorOperators.ADD);
        int start = full * block;
        if (start < n) {
            long bo = offset + (long) full * blockBytes();
            float d = GgmlMath.getHalf(w, bo) * 0.5f;
            for (int j = 0; j < n - start; j++) {
                result += MXFP4.KVALUES[Nibbles.get(w, bo + 2 + j / 32 * 16, j % 32)] * d * x[xOff + start + j];
            }
        }
        return result;
    }
}
