package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** IEEE 754 half precision, ggml type 1. */
public final class F16 implements Format {
    public static final F16 INSTANCE = new F16();
    static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 256;

    private F16() {
    }

    @Override public String name() { return "F16"; }
    @Override public int typeId() { return 1; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 2; }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(src.get(LE, offset + 2L * i));
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        for (int i = 0; i < n; i++) {
            dst.set(LE, offset + 2L * i, Float.floatToFloat16(src[srcOff + i]));
        }
    }

    /** Converts a chunk at a time to floats (a hardware instruction per element), then a vector FMA loop. */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        float[] buf = new float[Math.min(CHUNK, n)];
        FloatVector acc = FloatVector.zero(S);
        float tail = 0;
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            decode(w, offset + 2L * start, buf, 0, len);
            int i = 0;
            for (int upper = S.loopBound(len); i < upper; i += S.length()) {
                acc = FloatVector.fromArray(S, buf, i).fma(FloatVector.fromArray(S, x, xOff + start + i), acc);
            }
            for (; i < len; i++) {
                tail += buf[i] * x[xOff + start + i];
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) + tail;
    }
}
