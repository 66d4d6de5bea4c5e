package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** IEEE 754 single precision, ggml type 0. */
public final class F32 implements Format {
    public static final F32 INSTANCE = new F32();
    static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private F32() {
    }

    @Override public String name() { return "F32"; }
    @Override public int typeId() { return 0; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 4; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        MemorySegment.copy(src, LE, offset, dst, dstOff, n);
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        MemorySegment.copy(src, srcOff, dst, LE, offset, n);
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        int step = S.length();
        for (; i + step <= upper - step; i += 2 * step) {
            acc0 = FloatVector.fromMemorySegment(S, w, offset + 4L * i, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(S, x, xOff + i), acc0);
            acc1 = FloatVector.fromMemorySegment(S, w, offset + 4L * (i + step), ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(S, x, xOff + i + step), acc1);
        }
        for (; i < upper; i += step) {
            acc0 = FloatVector.fromMemorySegment(S, w, offset + 4L * i, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(S, x, xOff + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(LE, offset + 4L * i) * x[xOff + i];
        }
        return sum;
    }
}
