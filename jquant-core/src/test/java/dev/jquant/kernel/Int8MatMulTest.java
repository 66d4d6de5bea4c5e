package dev.jquant.kernel;

import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Int8MatMulTest {

    @Test
    void vectorDotEqualsTheScalarSpecificationAtEveryLength() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, 7, 15, 16, 17, 31, 64, 100, 172, 4096}) {
                MemorySegment w = arena.allocate(n);
                byte[] x = new byte[n + 3];
                for (int i = 0; i < n; i++) {
                    w.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
                }
                for (int i = 0; i < x.length; i++) {
                    x[i] = (byte) (rnd.nextInt(255) - 127);
                }
                assertEquals(Int8MatMul.dotScalar(w, 0, x, 3, n), Int8MatMul.dot(w, 0, x, 3, n), "n=" + n);
            }
        }
    }

    /** Exact integer arithmetic: the product equals s_w * s_x * sum(c_w * c_x) computed independently. */
    @Test
    void productIsTheIntegerProductOfTheCodes() {
        Random rnd = new Random(5);
        int rows = 9;
        int cols = 100;
        int tokens = 3;
        float[] w = gaussian(rnd, rows * cols, 0.2);
        float[] x = gaussian(rnd, tokens * cols, 1.5);
        try (Arena arena = Arena.ofShared()) {
            Tensor t = int8(w, rows, cols, arena);
            float[] out = new float[tokens * rows];
            Int8MatMul.matmul(t, x, tokens, out, Int8MatMul.DYNAMIC);
            float[] decoded = t.toFloats();
            for (int tok = 0; tok < tokens; tok++) {
                float amax = 0;
                for (int i = 0; i < cols; i++) {
                    amax = Math.max(amax, Math.abs(x[tok * cols + i]));
                }
                float sx = amax / 127;
                for (int r = 0; r < rows; r++) {
                    double exact = 0;
                    double quantized = 0;
                    for (int i = 0; i < cols; i++) {
                        exact += (double) w[r * cols + i] * x[tok * cols + i];
                        quantized += (double) decoded[r * cols + i] * Math.round(x[tok * cols + i] / sx) * sx;
                    }
                    assertEquals(quantized, out[tok * rows + r], 1e-4, "token " + tok + " row " + r);
                    // int8 x int8 of Gaussians: the error has sd about 1% of sqrt(cols) * sd(w) * sd(x); allow 5%
                    assertEquals(exact, out[tok * rows + r], 0.05 * Math.sqrt(cols) * 0.2 * 1.5);
                }
            }
        }
    }

    /** A static scale saturates values beyond 127 steps; a dynamic one never does. */
    @Test
    void staticScaleSaturates() {
        float[] x = {1f, -2f, 10f, 0.5f};
        Int8MatMul.Activations a = Int8MatMul.quantize(x, 1, 4, 2f / 127);
        assertEquals(127, a.codes()[2]);
        assertEquals(-127, a.codes()[1]);
        assertEquals(64, a.codes()[0]);
        Int8MatMul.Activations d = Int8MatMul.quantize(x, 1, 4, Int8MatMul.DYNAMIC);
        assertEquals(127, d.codes()[2]);
        assertEquals(10f / 127, d.scales()[0], 1e-9);
        assertTrue(d.codes()[3] == 6, "0.5 / (10/127) = 6.35 rounds to 6");
    }

    /** MatMul sends INT8_ROW_SYM_F32 weights to the integer kernel for one token and for many. */
    @Test
    void matMulDispatchesInt8Weights() {
        Random rnd = new Random(8);
        float[] w = gaussian(rnd, 5 * 40, 1);
        float[] x = gaussian(rnd, 2 * 40, 1);
        try (Arena arena = Arena.ofShared()) {
            Tensor t = int8(w, 5, 40, arena);
            float[] viaMatMul = new float[10];
            float[] direct = new float[10];
            MatMul.matmul(t, x, 2, viaMatMul);
            Int8MatMul.matmul(t, x, 2, direct, Int8MatMul.DYNAMIC);
            org.junit.jupiter.api.Assertions.assertArrayEquals(direct, viaMatMul);
            float[] one = new float[5];
            MatMul.matvec(t, x, one);
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(direct, 5), one);
        }
    }

    static Tensor int8(float[] w, int rows, int cols, Arena arena) {
        long rb = Int8MatMul.WEIGHTS.rowBytes(cols);
        MemorySegment seg = arena.allocate(rb * rows);
        for (int r = 0; r < rows; r++) {
            Int8MatMul.WEIGHTS.encode(w, r * cols, cols, seg, r * rb);
        }
        return new Tensor("w", Int8MatMul.WEIGHTS, new long[] {rows, cols}, seg);
    }

    static float[] gaussian(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        return v;
    }
}
