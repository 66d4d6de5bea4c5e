package dev.jquant.format;

import dev.jquant.JQuantException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The scalar arithmetic ggml's reference quantizers are built from, reproduced bit for bit. ggml
 * computes in single precision without fused multiply-add, which is exactly Java's float
 * semantics, so the quantizers are written in float with C's evaluation order.
 */
final class GgmlMath {
    /** Groups whose largest magnitude is below this are treated as all zero (ggml's GROUP_MAX_EPS). */
    static final float GROUP_MAX_EPS = 1e-15f;

    private GgmlMath() {
    }

    /**
     * ggml's nearest_int: adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits
     * (round half to even). Kept literal so out-of-range inputs (NaN, huge) give ggml's garbage, not an error.
     */
    /**
     * The element of {@code x[from..from+n)} with the largest magnitude, sign kept (the first one on
     * ties): the reference quantizers of the symmetric types derive their scale from it.
     */
    static float largestMagnitude(float[] x, int from, int n) {
        float amax = 0;
        float max = 0;
        for (int i = from; i < from + n; i++) {
            float ax = Math.abs(x[i]);
            if (ax > amax) {
                amax = ax;
                max = x[i];
            }
        }
        return max;
    }

    static int nearestInt(float f) {
        float val = f + 12582912.f;
        return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
    }

    /** C's roundf: halves round away from zero (Math.round rounds them up). Exact in double for floats. */
    static float roundf(float f) {
        return (float) Math.copySign(Math.floor(Math.abs((double) f) + 0.5), f);
    }

    /** ggml's FP32 to FP16: round to nearest even, and every NaN becomes the quiet NaN 0x7E00 with its sign. */
    static short toHalf(float f) {
        if (Float.isNaN(f)) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7e00);
        }
        return Float.floatToFloat16(f);
    }

    static float getHalf(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(F16.LE, offset));
    }

    /** Stores {@code f} as FP16 and returns the value it became, as ggml's quantizers re-read it. */
    static float putHalf(MemorySegment s, long offset, float f) {
        short h = toHalf(f);
        s.set(F16.LE, offset, h);
        return Float.float16ToFloat(h);
    }

    static int getByte(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xff;
    }

    static void putByte(MemorySegment s, long offset, int b) {
        s.set(ValueLayout.JAVA_BYTE, offset, (byte) b);
    }

    /** Number of blocks in a row of {@code n} elements; a clear error when {@code n} is not a whole number of blocks. */
    static int blocks(Format format, int n) {
        if (n < 0 || n % format.blockSize() != 0) {
            throw new JQuantException(format.name() + ": a row of " + n + " elements is not a whole number of "
                    + format.blockSize() + "-element blocks");
        }
        return n / format.blockSize();
    }
}
