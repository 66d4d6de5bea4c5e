package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** bfloat16 (the top half of an F32), ggml type 30. Encoding rounds to nearest even, as ggml does. */
public final class BF16 implements Format {
    public static final BF16 INSTANCE = new BF16();
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED.withShape(
            jdk.incubator.vector.VectorShape.forBitSize(FloatVector.SPECIES_PREFERRED.vectorBitSize() / 2));

    private BF16() {
    }

    @Override public String name() { return "BF16"; }
    @Override public int typeId() { return 30; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 2; }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64); // quiet NaN
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int step = FS.length();
        int i = 0;
        for (int upper = FS.loopBound(n); i < upper; i += step) {
            ShortVector s = ShortVector.fromMemorySegment(SS, src, offset + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) s.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] = toFloat(src.get(LE, offset + 2L * i));
        }
    }

    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = toFloat(src.get(LE, offset + 2L * i));
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        for (int i = 0; i < n; i++) {
            dst.set(LE, offset + 2L * i, fromFloat(src[srcOff + i]));
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(FS);
        int step = FS.length();
        int i = 0;
        for (int upper = FS.loopBound(n); i < upper; i += step) {
            ShortVector s = ShortVector.fromMemorySegment(SS, w, offset + 2L * i, ByteOrder.LITTLE_ENDIAN);
            IntVector bits = (IntVector) s.convertShape(VectorOperators.S2I, IS, 0);
            FloatVector wv = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = wv.fma(FloatVector.fromArray(FS, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += toFloat(w.get(LE, offset + 2L * i)) * x[xOff + i];
        }
        return sum;
    }
}
