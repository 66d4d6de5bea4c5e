package dev.jquant.kernel;

import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Vector kernels of the float formats against their scalar specifications, on odd shapes. */
class FloatKernelsTest {
    private static final List<Format> FORMATS = List.of(F32.INSTANCE, F16.INSTANCE, BF16.INSTANCE);

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void dotEqualsTheScalarDotForOddLengthsAndOffsets() {
        Random rnd = new Random(1);
        try (Arena arena = Arena.ofConfined()) {
            for (Format f : FORMATS) {
                for (int trial = 0; trial < 200; trial++) {
                    int n = 1 + rnd.nextInt(700);
                    int rowOffset = rnd.nextInt(5);
                    float[] w = gaussian(rnd, n + rowOffset);
                    float[] x = gaussian(rnd, n + 3);
                    MemorySegment seg = arena.allocate(f.rowBytes(n + rowOffset) + 8);
                    f.encode(w, 0, n + rowOffset, seg, 0);
                    long off = f.rowBytes(rowOffset);
                    float expected = f.dotScalar(seg, off, x, 3, n);
                    float actual = f.dot(seg, off, x, 3, n);
                    assertEquals(expected, actual, 1e-5 * sumAbs(w, x, rowOffset, n) + 1e-6, f.name() + " n=" + n);
                }
            }
        }
    }

    @Test
    void matmulEqualsAPlainTripleLoopForAnyThreadCount() {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofShared()) {
            for (int threads = 1; threads <= 3; threads++) {
                Parallel.setThreads(threads);
                for (Format f : FORMATS) {
                    int rows = 1 + rnd.nextInt(67);
                    int cols = 1 + rnd.nextInt(173);
                    int tokens = 1 + rnd.nextInt(9);
                    float[] w = gaussian(rnd, rows * cols);
                    MemorySegment seg = arena.allocate(f.rowBytes((long) rows * cols));
                    f.encode(w, 0, rows * cols, seg, 0);
                    Tensor t = new Tensor("w", f, new long[] {rows, cols}, seg);
                    float[] decoded = t.toFloats();
                    float[] x = gaussian(rnd, tokens * cols);
                    float[] out = new float[tokens * rows];
                    MatMul.matmul(t, x, tokens, out);
                    for (int k = 0; k < tokens; k++) {
                        for (int r = 0; r < rows; r++) {
                            double expected = 0;
                            double scale = 0;
                            for (int i = 0; i < cols; i++) {
                                expected += (double) decoded[r * cols + i] * x[k * cols + i];
                                scale += Math.abs(decoded[r * cols + i] * x[k * cols + i]);
                            }
                            assertEquals(expected, out[k * rows + r], 1e-5 * scale + 1e-6,
                                    f.name() + " " + rows + "x" + cols + " token " + k + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void halfAndBfloatRoundTripWithinTheirPrecision() {
        Random rnd = new Random(3);
        float[] v = gaussian(rnd, 1000);
        try (Arena arena = Arena.ofConfined()) {
            for (Format f : List.of(F16.INSTANCE, BF16.INSTANCE)) {
                MemorySegment seg = arena.allocate(f.rowBytes(v.length));
                f.encode(v, 0, v.length, seg, 0);
                float[] back = new float[v.length];
                f.decode(seg, 0, back, 0, v.length);
                double relStep = f == F16.INSTANCE ? 0x1p-11 : 0x1p-8; // half a unit in the last place
                for (int i = 0; i < v.length; i++) {
                    assertEquals(v[i], back[i], Math.abs(v[i]) * relStep + 1e-7, f.name() + " element " + i);
                }
            }
        }
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static double sumAbs(float[] w, float[] x, int wOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs(w[wOff + i] * x[3 + i]);
        }
        return s;
    }
}
