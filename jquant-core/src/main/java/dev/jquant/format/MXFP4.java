package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;

/**
 * OCP microscaling MXFP4 as ggml stores it, GGUF type 39: blocks of 32 elements, one E8M0 byte
 * {@code e} (the shared exponent) then 16 bytes of E2M1 codes in the {@link Nibbles} layout;
 * {@code w = 2^(e - 127) * e2m1(q)}. ggml keeps the E2M1 values doubled ({@link #KVALUES}) and
 * halves the scale, {@code 2^(e - 128)}, which is the same number.
 *
 * <p>Encoding is ggml's quantize_row_mxfp4_ref: {@code e = floor(log2(amax)) - 2 + 127}, then each
 * element takes the code nearest to it (ties to the lower code index). Two additions where ggml's C
 * is undefined: {@code e} is clamped to 0..254 (blocks below 2^-125, infinities), and non-finite
 * elements are left out of the block maximum.
 *
 * <p>A row whose length is not a multiple of 32 ends in a partial block, encoded as if padded with
 * zeros and stored whole: {@code rowBytes(n) = ceil(n / 32) * 17}. llama.cpp itself only accepts
 * whole blocks; for those, files are byte-identical.
 */
public final class MXFP4 implements Format {
    public static final MXFP4 INSTANCE = new MXFP4();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 1 + BLOCK / 2;
    /** E2M1 values times two, indexed by the 4-bit code (sign in bit 3): ggml's kvalues_mxfp4. */
    static final byte[] KVALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    static final ByteVector KVALUES_VECTOR = ByteVector.fromArray(B128, KVALUES, 0);

    private MXFP4() {
    }

    @Override public String name() { return "MXFP4"; }
    @Override public int typeId() { return 39; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public long rowBytes(long n) {
        return Math.ceilDiv(n, BLOCK) * BLOCK_BYTES;
    }

    /** ggml's GGML_E8M0_TO_FP32_HALF: {@code 2^(e - 128)}, subnormal for e < 2. */
    static float halfScale(int e) {
        return Math.scalb(1.0f, e - 128);
    }

    /** ggml's best_index_mxfp4: the code whose value {@code KVALUES[i] * d} is nearest to x, the first on ties. */
    static int bestIndex(float x, float d) {
        int best = 0;
        float bestErr = Math.abs(KVALUES[0] * d - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(KVALUES[i] * d - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }

    /** The shared exponent of a block whose largest finite magnitude is {@code amax}. */
    static int exponent(float amax) {
        if (!(amax > 0)) {
            return 0;
        }
        // log2f rounded to float as C computes it, so amax just under a power of two floors as ggml's does
        float log2 = (float) (Math.log(amax) / Math.log(2));
        float e = (float) Math.floor(log2) - 2 + 127;
        return (int) Math.max(0, Math.min(254, e));
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int start = 0; start < n; start += BLOCK, offset += BLOCK_BYTES) {
            float d = halfScale(GgmlMath.getByte(src, offset));
            for (int j = 0, len = Math.min(BLOCK, n - start); j < len; j++) {
                dst[dstOff + start + j] = KVALUES[Nibbles.get(src, offset + 1, j)] * d;
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int[] q = new int[BLOCK];
        for (int start = 0; start < n; start += BLOCK, offset += BLOCK_BYTES) {
            int len = Math.min(BLOCK, n - start);
            float amax = 0;
            for (int j = 0; j < len; j++) {
                float a = Math.abs(src[srcOff + start + j]);
                if (amax < a && a != Float.POSITIVE_INFINITY) {
                    amax = a;
                }
            }
            int e = exponent(amax);
            float d = halfScale(e);
            GgmlMath.putByte(dst, offset, e);
            for (int j = 0; j < BLOCK; j++) {
                q[j] = j < len ? bestIndex(src[srcOff + start + j], d) : 0;
            }
            Nibbles.put(q, 0, dst, offset + 1);
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int full = n / BLOCK;
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < full; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            FloatVector sum = Nibbles.fmaByteTable(w, bo + 1, KVALUES_VECTOR, x, xOff + b * BLOCK, FloatVector.zero(FS));
            acc = sum.fma(FloatVector.broadcast(FS, halfScale(GgmlMath.getByte(w, bo))), acc);
        }
        float result = acc.reduceLanes(VectorOperators.ADD);
        int start = full * BLOCK;
        if (start < n) {
            long bo = offset + (long) full * BLOCK_BYTES;
            float d = halfScale(GgmlMath.getByte(w, bo));
            for (int j = 0; j < n - start; j++) {
                result += KVALUES[Nibbles.get(w, bo + 1, j)] * d * x[xOff + start + j];
            }
        }
        return result;
    }
}
