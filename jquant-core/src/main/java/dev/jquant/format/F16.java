package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * IEEE 754 half precision, ggml type 1. The dot product converts a vector of halves at a time with
 * integer lane operations (see {@link #toFloats}), exactly as {@link Float#float16ToFloat}; decoding
 * is a plain loop that C2 auto-vectorises (HalfConversionBench).
 */
public final class F16 implements Format {
    public static final F16 INSTANCE = new F16();
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    private static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.max(64, FS.vectorBitSize() / 2)));
    /** 2^112: moves a half's exponent (bias 15) to a float's (bias 127); also scales subnormal halves right. */
    private static final float EXP_ADJUST = 0x1p112f;

    private F16() {
    }

    @Override public String name() { return "F16"; }
    @Override public int typeId() { return 1; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 2; }

    /** The plain loop: C2 vectorises {@code Float.float16ToFloat} over it (vcvtph2ps), faster than {@link #toFloats}. */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src.get(LE, offset + 2L * i));
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src.get(LE, offset + 2L * i));
        }
    }

    /**
     * {@link #FS}{@code .length()} halves at byte {@code at} as floats. The half's exponent and
     * mantissa, shifted into a float's place, read as a float 2^-112 times the value (normal and
     * subnormal halves alike), so one multiply fixes the scale; infinities and NaNs (exponent 31) get
     * the float's all-ones exponent instead (NaNs quieted, as
     * Float.float16ToFloat does); the sign is or-ed back in.
     */
    static FloatVector toFloats(MemorySegment src, long at) {
        ShortVector h = ShortVector.fromMemorySegment(SS, src, at, ByteOrder.LITTLE_ENDIAN);
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, IS, 0);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector em = bits.and(0x7fff);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        FloatVector finite = shifted.reinterpretAsFloats().mul(EXP_ADJUST);
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7c00);
        VectorMask<Integer> nan = em.compare(VectorOperators.GT, 0x7c00);
        IntVector value = finite.reinterpretAsInts().blend(shifted.or(0x7f800000), special).or(
                IntVector.zero(IS).blend(0x00400000, nan));
        return value.or(sign).reinterpretAsFloats();
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        for (int i = 0; i < n; i++) {
            dst.set(LE, offset + 2L * i, Float.floatToFloat16(src[srcOff + i]));
        }
    }

    /** Converts a vector of halves at a time (see {@link #toFloats}) and multiplies with two accumulators. */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        int step = FS.length();
        int i = 0;
        int upper = FS.loopBound(n);
        for (; i + step < upper; i += 2 * step) {
            acc0 = toFloats(w, offset + 2L * i).fma(FloatVector.fromArray(FS, x, xOff + i), acc0);
            acc1 = toFloats(w, offset + 2L * (i + step)).fma(FloatVector.fromArray(FS, x, xOff + i + step), acc1);
        }
        for (; i < upper; i += step) {
            acc0 = toFloats(w, offset + 2L * i).fma(FloatVector.fromArray(FS, x, xOff + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Float.float16ToFloat(w.get(LE, offset + 2L * i)) * x[xOff + i];
        }
        return sum;
    }
}
