package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.BS;
import static dev.jquant.format.BlockDot.FS;

/**
 * 8-bit floats with an F32 scale per row: {@code FP8_E4M3} (jquant type 1029; OCP E4M3FN: bias 7,
 * no infinities, S.1111.111 is NaN, largest 448) and {@code FP8_E5M2} (1030; bias 15, IEEE-like
 * with infinities, largest 57344). A row is its F32 scale {@code s} then one byte per element;
 * {@code w = s * fp8(b)}. Rows must be decoded whole.
 *
 * <p>Per-channel scaling is what {@link #encode(float[], int, int, MemorySegment, long)} does:
 * {@code s = amax / largest} over the row's finite elements. Per-tensor scaling is the same layout
 * with one scale in every row: the caller computes it over the whole tensor and passes it to
 * {@link #encode(float[], int, int, float, MemorySegment, long)}. Elements are rounded to nearest
 * even; values beyond the largest finite saturate to it (E4M3FN has no infinity; E5M2 keeps
 * infinite inputs infinite), NaN stays NaN.
 */
public final class FP8 implements Format {
    public static final FP8 E4M3 = new FP8("FP8_E4M3", 1029, 4, 3);
    public static final FP8 E5M2 = new FP8("FP8_E5M2", 1030, 5, 2);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);

    private final String name;
    private final int typeId;
    private final int mantissaBits;
    private final int bias;
    /** Exponent of the smallest normal number. */
    private final int minExponent;
    private final float largest;
    private final int largestCode;
    private final float[] values = new float[256];

    private FP8(String name, int typeId, int exponentBits, int mantissaBits) {
        this.name = name;
        this.typeId = typeId;
        this.mantissaBits = mantissaBits;
        this.bias = (1 << (exponentBits - 1)) - 1;
        this.minExponent = 1 - bias;
        for (int b = 0; b < 256; b++) {
            values[b] = valueOf(b, exponentBits);
        }
        // E4M3FN: the all-ones pattern is NaN, one below it the largest; E5M2: the largest sits below infinity
        this.largestCode = exponentBits == 4 ? 0x7e : 0x7b;
        this.largest = values[largestCode];
    }

    private float valueOf(int b, int exponentBits) {
        int e = (b >>> mantissaBits) & ((1 << exponentBits) - 1);
        int m = b & ((1 << mantissaBits) - 1);
        float sign = (b & 0x80) != 0 ? -1 : 1;
        if (exponentBits == 4 && (b & 0x7f) == 0x7f) {
            return Float.NaN;
        }
        if (exponentBits == 5 && e == 31) {
            return m == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        }
        float mag = e == 0 ? Math.scalb((float) m, minExponent - mantissaBits)
                : Math.scalb((float) ((1 << mantissaBits) | m), e - bias - mantissaBits);
        return sign * mag;
    }

    @Override public String name() { return name; }
    @Override public int typeId() { return typeId; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 1; }

    @Override
    public long rowBytes(long n) {
        return n == 0 ? 0 : 4 + n;
    }

    /** The largest finite value: a row's amax maps to it. */
    public float largest() {
        return largest;
    }

    /** The value an FP8 byte stands for (no scale). */
    public float value(int bits) {
        return values[bits & 0xff];
    }

    /** The FP8 byte nearest to {@code v} (ties to even), saturating at the largest finite value. */
    public int bits(float v) {
        int sign = Float.floatToRawIntBits(v) >>> 31 << 7;
        if (Float.isNaN(v)) {
            return 0x7f;
        }
        double a = Math.abs((double) v);
        if (Double.isInfinite(a) && this == E5M2) {
            return sign | 0x7c;
        }
        if (a >= largest) {
            return sign | largestCode;
        }
        int e = Math.max(Math.getExponent(a), minExponent);
        // scaled so the mantissa's last bit is the unit; rint rounds ties to even
        long q = (long) Math.rint(Math.scalb(a, mantissaBits - e));
        if (e == minExponent && q < (1L << mantissaBits)) {
            return sign | (int) q; // subnormal (or zero)
        }
        if (q == 2L << mantissaBits) { // rounded up to the next power of two
            q >>= 1;
            e++;
        }
        int code = (e + bias) << mantissaBits | (int) (q - (1L << mantissaBits));
        return sign | Math.min(code, largestCode);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        if (n == 0) {
            return;
        }
        float s = src.get(F32_LE, offset);
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = s * values[GgmlMath.getByte(src, offset + 4 + i)];
        }
    }

    /** Per-channel: the row's own scale, amax / {@link #largest()}. */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float a = Math.abs(src[srcOff + i]);
            if (amax < a && a != Float.POSITIVE_INFINITY) {
                amax = a;
            }
        }
        encode(src, srcOff, n, amax / largest, dst, offset);
    }

    /** Encodes a row with a given scale, e.g. one per-tensor scale shared by every row. */
    public void encode(float[] src, int srcOff, int n, float scale, MemorySegment dst, long offset) {
        if (n == 0) {
            return;
        }
        dst.set(F32_LE, offset, scale);
        for (int i = 0; i < n; i++) {
            float v = scale != 0 ? src[srcOff + i] / scale : 0;
            GgmlMath.putByte(dst, offset + 4 + i, bits(v));
        }
    }

    /**
     * Converts bytes to floats lane-wise: the byte's exponent and mantissa bits are placed at the
     * bottom of an F32 exponent field and the result rescaled by {@code 2^(127 - bias)}, which is
     * exact for normal and subnormal FP8 alike; the all-ones exponent is patched to NaN/infinity.
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        if (n == 0) {
            return 0;
        }
        float s = w.get(F32_LE, offset);
        long codes = offset + 4;
        FloatVector rescale = FloatVector.broadcast(FS, Math.scalb(1f, 127 - bias));
        int shift = 23 - mantissaBits;
        int lanes = FS.length();
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (int upper = n - BS.length(); i <= upper; i += BS.length()) {
            ByteVector b = ByteVector.fromMemorySegment(BS, w, codes + i, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0, parts = BS.length() / lanes; p < parts; p++) {
                IntVector bits = (IntVector) b.convertShape(VectorOperators.B2I, IS, p);
                IntVector magnitude = bits.and(0x7f);
                FloatVector v = magnitude.lanewise(VectorOperators.LSHL, shift)
                        .or(bits.and(0x80).lanewise(VectorOperators.LSHL, 24))
                        .reinterpretAsFloats().mul(rescale);
                v = patchSpecials(bits, magnitude, v);
                acc = v.fma(FloatVector.fromArray(FS, x, xOff + i + p * lanes), acc);
            }
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += values[GgmlMath.getByte(w, codes + i)] * x[xOff + i];
        }
        return s * sum;
    }

    private FloatVector patchSpecials(IntVector bits, IntVector magnitude, FloatVector v) {
        if (this == E4M3) {
            VectorMask<Float> nan = magnitude.compare(VectorOperators.EQ, 0x7f).cast(FS);
            return v.blend(Float.NaN, nan);
        }
        VectorMask<Float> special = magnitude.compare(VectorOperators.GE, 0x7c).cast(FS);
        if (!special.anyTrue()) {
            return v;
        }
        // infinity or NaN with the byte's sign: F32's all-ones exponent with the FP8 mantissa bits
        FloatVector inf = bits.and(0x80).lanewise(VectorOperators.LSHL, 24).or(0x7f800000)
                .or(bits.and(0x03).lanewise(VectorOperators.LSHL, 21)).reinterpretAsFloats();
        return v.blend(inf, special);
    }
}
