package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class F16Test {

    /** The vector conversion the kernels use, over every one of the 65536 halves. */
    @Test
    void toFloatsConvertsEveryHalfAsTheJdkDoes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment halves = arena.allocate(2 * 65536);
            for (int h = 0; h < 65536; h++) {
                halves.set(F16.LE, 2L * h, (short) h);
            }
            int lanes = FloatVector.SPECIES_PREFERRED.length();
            float[] out = new float[lanes];
            for (int h = 0; h < 65536; h += lanes) {
                F16.toFloats(halves, 2L * h).intoArray(out, 0);
                for (int i = 0; i < lanes; i++) {
                    short half = (short) (h + i);
                    float expected = Float.float16ToFloat(half);
                    if (Float.isNaN(expected)) {
                        // A NaN keeps its sign and payload and is quiet, as vcvtph2ps makes it.
                        int bits = Float.floatToRawIntBits(out[i]);
                        assertTrue(Float.isNaN(out[i]), "half " + Integer.toHexString(h + i));
                        assertEquals((Float.floatToRawIntBits(expected) | 0x00400000), bits, "half " + Integer.toHexString(h + i));
                    } else {
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i]),
                                "half " + Integer.toHexString(h + i));
                    }
                }
            }
        }
    }

    @Test
    void decodeAndDotAgreeWithTheScalarReference() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 77;
            MemorySegment w = arena.allocate(2L * n);
            float[] x = new float[n];
            java.util.Random random = new java.util.Random(3);
            double expected = 0;
            for (int i = 0; i < n; i++) {
                short h = Float.floatToFloat16((float) random.nextGaussian());
                w.set(F16.LE, 2L * i, h);
                x[i] = (float) random.nextGaussian();
                expected += (double) Float.float16ToFloat(h) * x[i];
            }
            float[] decoded = new float[n];
            F16.INSTANCE.decode(w, 0, decoded, 0, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.float16ToFloat(w.get(F16.LE, 2L * i)), decoded[i]);
            }
            assertEquals(expected, F16.INSTANCE.dot(w, 0, x, 0, n), 1e-4 * Math.max(1, Math.abs(expected)));
        }
    }
}
