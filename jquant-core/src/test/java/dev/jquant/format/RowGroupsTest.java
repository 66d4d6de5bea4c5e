package dev.jquant.format;

import dev.jquant.kernel.MatMul;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The repacked decode layouts against the formats they repack, on seeded random weights. */
class RowGroupsTest {
    private final Arena arena = Arena.ofAuto();

    static List<Format> packable() {
        return List.of(Q4_0.INSTANCE, Q4_1.INSTANCE, Q4_K.INSTANCE, Q5_0.INSTANCE, Q5_K.INSTANCE, Q6_K.INSTANCE, Q8_0.INSTANCE);
    }

    @BeforeEach
    void needsWideVectors() {
        assumeTrue(RowGroups.WIDE_VECTORS, "row groups are used on CPUs with 512-bit vectors only");
    }

    /** {@code rows x cols} random weights in {@code format}, with an outlier column and an all-zero row. */
    private Tensor weights(Format format, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian() * 0.05f;
        }
        for (int r = 0; r < rows; r++) {
            values[r * cols + 3] *= 40;
        }
        Arrays.fill(values, 5 * cols, 6 * cols, 0f);
        long rowBytes = format.rowBytes(cols);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r++) {
            format.encode(values, r * cols, cols, data, r * rowBytes);
        }
        return new Tensor("w", format, new long[] {rows, cols}, data);
    }

    private static float[] activations(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 37 == 0 ? 20 : 1);
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("packable")
    void rowsDecodeExactlyAsTheStoredFormat(Format format) {
        Tensor plain = weights(format, 96, 512, 1);
        Tensor packed = plain.withRowGroups(arena);
        assertNotNull(packed.rowGroups());
        float[] expected = new float[512];
        float[] actual = new float[512];
        float[] columns = new float[32 * 512];
        packed.rowGroups().decodeColumns(2, columns);
        for (int r = 0; r < 96; r++) {
            plain.decodeRow(r, expected, 0);
            packed.decodeRow(r, actual, 0);
            assertArrayEquals(expected, actual, "row " + r);
            for (int c = 0; r >= 64 && c < 512; c++) {
                assertEquals(expected[c], columns[c * 32 + r - 64], 0f, "row " + r + " column " + c + " of its group (-0.0 == 0.0)");
            }
        }
    }

    /**
     * The kernel sums integer products exactly, so it equals the dot product of the decoded weights
     * with the dequantized activations up to float rounding of the per-block terms.
     */
    @ParameterizedTest
    @MethodSource("packable")
    void multiplyIsTheProductWithQuantizedActivations(Format format) {
        int rows = 64;
        int cols = format.blockSize() == 256 ? 768 : 800; // several chunks of decoded scales, the last one short
        Tensor plain = weights(format, rows, cols, 2);
        RowGroups groups = plain.withRowGroups(arena).rowGroups();
        float[] x = activations(cols, 3);
        Q8Activations xq = Q8Activations.quantize(x, cols);
        float[] out = new float[rows];
        groups.multiply(xq, out, 0, groups.groups());
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            plain.decodeRow(r, w, 0);
            double exact = 0;
            double magnitude = 0;
            double quantizationBound = 0;
            double withFloats = 0;
            for (int j = 0; j < cols; j++) {
                double xj = xq.quants[j] * (double) xq.scales[j / 32];
                exact += w[j] * xj;
                magnitude += Math.abs(w[j] * xj);
                withFloats += w[j] * (double) x[j];
                quantizationBound += Math.abs(w[j]) * xq.scales[j / 32] / 2;
            }
            assertEquals(exact, out[r], 1e-5 * magnitude + 1e-30, "row " + r);
            assertTrue(Math.abs(withFloats - out[r]) <= quantizationBound * 1.001 + 1e-6,
                    "row " + r + ": " + out[r] + " vs float product " + withFloats + ", bound " + quantizationBound);
        }
    }

    static List<Format> sixteenBitBound() {
        return List.of(Q4_0.INSTANCE, Q4_1.INSTANCE, Q4_K.INSTANCE, Q5_0.INSTANCE, Q5_K.INSTANCE, Q6_K.INSTANCE);
    }

    /**
     * Blocks of random bytes (every code; for Q6_K scales down to -128), the first row all code 0
     * and the second all the highest code, against activations quantized to +127 then -127: row 0's
     * chain sums reach the 16-bit bound, 16 * 15 * 127 (Q4_0, Q4_1, Q4_K), 16 * 16 * 127 (Q5_0,
     * Q5_K) or 8 * 32 * 127 (Q6_K), of either sign.
     */
    @ParameterizedTest
    @MethodSource("sixteenBitBound")
    void sumsAtTheSixteenBitBoundStayExact(Format format) {
        int rows = 32;
        int cols = 512;
        long rowBytes = format.rowBytes(cols);
        // where the codes and the FP16 scales (d; d and dmin) lie in a block
        long codesAt = format == Q6_K.INSTANCE ? 0 : format == Q5_K.INSTANCE ? Q5_K.QH
                : format == Q4_K.INSTANCE ? Q4_K.QS : format == Q4_1.INSTANCE ? 4 : 2;
        long codesEnd = format == Q6_K.INSTANCE ? Q6_K.SCALES : format.blockBytes();
        List<Long> halves = format == Q6_K.INSTANCE ? List.of((long) Q6_K.D)
                : format == Q5_K.INSTANCE || format == Q4_K.INSTANCE || format == Q4_1.INSTANCE ? List.of(0L, 2L) : List.of(0L);
        MemorySegment data = arena.allocate(rows * rowBytes, 64);
        Random rnd = new Random(10);
        for (long i = 0; i < data.byteSize(); i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / format.blockSize(); b++) {
                long block = r * rowBytes + (long) b * format.blockBytes();
                if (r < 2) {
                    data.asSlice(block + codesAt, codesEnd - codesAt).fill(r == 0 ? 0 : (byte) 0xFF);
                }
                for (long half : halves) {
                    GgmlMath.putHalf(data, block + half, (float) Math.scalb(1 + rnd.nextFloat(), -12 - rnd.nextInt(4)));
                }
            }
        }
        Tensor plain = new Tensor("w", format, new long[] {rows, cols}, data);
        RowGroups groups = plain.withRowGroups(arena).rowGroups();
        float[] x = new float[cols];
        for (int j = 0; j < cols; j++) {
            x[j] = j < cols / 2 ? 1 : -1;
        }
        Q8Activations xq = Q8Activations.quantize(x, cols);
        float[] out = new float[rows];
        groups.multiply(xq, out, 0, 1);
        float[] w = new float[cols];
        for (int r = 0; r < rows; r++) {
            plain.decodeRow(r, w, 0);
            double exact = 0;
            double magnitude = 0;
            for (int j = 0; j < cols; j++) {
                exact += w[j] * (xq.quants[j] * (double) xq.scales[j / 32]);
                magnitude += Math.abs(w[j] * xq.quants[j] * (double) xq.scales[j / 32]);
            }
            assertEquals(exact, out[r], 1e-5 * magnitude, "row " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("packable")
    void multiplyWritesOnlyItsGroups(Format format) {
        Tensor packed = weights(format, 96, 256, 4).withRowGroups(arena);
        float[] out = new float[96];
        Arrays.fill(out, Float.NaN);
        packed.rowGroups().multiply(Q8Activations.quantize(activations(256, 5), 256), out, 1, 2);
        for (int r = 0; r < 96; r++) {
            assertEquals(r >= 32 && r < 64, !Float.isNaN(out[r]), "row " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("packable")
    void matvecRunsOnTheRowGroups(Format format) {
        Tensor packed = weights(format, 128, 1024, 6).withRowGroups(arena);
        float[] x = activations(1024, 7);
        float[] expected = new float[128];
        float[] actual = new float[128];
        packed.rowGroups().multiply(Q8Activations.quantize(x, 1024), expected, 0, 4);
        MatMul.matvec(packed, x, actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shapesThatDoNotFillGroupsAndOtherFormatsStayAsStored() {
        Tensor ragged = weights(Q4_0.INSTANCE, 40, 64, 8);
        assertSame(ragged, ragged.withRowGroups(arena));
        Tensor other = weights(IQ4_NL.INSTANCE, 64, 256, 9);
        assertSame(other, other.withRowGroups(arena));
        assertNull(RowGroups.pack(Q4_0.INSTANCE, ragged.data(), 40, 64, arena));
    }

    @Test
    void activationsRoundToNearestEvenWithBlockSums() {
        float[] x = new float[64];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = 3.5f;
        x[3] = -2.5f;
        x[4] = -126.6f;
        x[32] = -0.5f;
        Q8Activations q = Q8Activations.quantize(x, 64);
        assertEquals(1f, q.scales[0]);
        assertEquals(List.of(127, 2, 4, -2, -127), List.of((int) q.quants[0], (int) q.quants[1], (int) q.quants[2],
                (int) q.quants[3], (int) q.quants[4]));
        assertEquals(127 + 2 + 4 - 2 - 127, q.sums[0]);
        assertEquals(0.5f / 127, q.scales[1]);
        assertEquals(-127, q.quants[32]);
        assertEquals(-127, q.sums[1]);
    }
}
