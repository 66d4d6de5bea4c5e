package dev.jquant.kernel;

import dev.jquant.format.F16;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every format's vector kernels (decode, dot, the tiled matrix-matrix product) against their
 * scalar specifications ({@link Format#decodeScalar}, {@link Format#dotScalar},
 * {@link MatMul#matmulScalar}), on odd shapes and thread counts.
 */
class KernelReferenceTest {

    static List<Format> formats() {
        return Formats.all().stream().filter(f -> f != dev.jquant.format.Q8_K.INSTANCE).toList();
    }

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** Columns: odd multiples of the block size (and odd lengths where any length is allowed). */
    private static int oddCols(Format f, Random rnd) {
        int bs = f.blockSize();
        if (bs == 1) {
            return 1 + rnd.nextInt(600);
        }
        int blocks = 1 + 2 * rnd.nextInt(3);
        return bs * blocks + (acceptsAnyLength(f) ? rnd.nextInt(bs) : 0);
    }

    private static boolean acceptsAnyLength(Format f) {
        try {
            f.rowBytes(f.blockSize() + 1);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void vectorDecodeEqualsTheScalarDecodeBitForBit(Format f) {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 20; trial++) {
                int cols = oddCols(f, rnd);
                int rows = 3;
                MemorySegment seg = encodeRandom(f, rows, cols, rnd, arena);
                for (int r = 0; r < rows; r++) {
                    float[] a = new float[cols + 5];
                    float[] b = new float[cols + 5];
                    f.decode(seg, r * f.rowBytes(cols), a, 5, cols);
                    f.decodeScalar(seg, r * f.rowBytes(cols), b, 5, cols);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]),
                                f.name() + " cols=" + cols + " element " + i + ": " + b[i] + " vs " + a[i]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void tiledMatmulAndMatvecEqualTheScalarProductForAnyThreadCount(Format f) {
        if (Int8MatMul.handles(f)) {
            return; // runs as W8A8 (activations quantized), tested against its own reference in Int8MatMulTest
        }
        Random rnd = new Random(12);
        try (Arena arena = Arena.ofShared()) {
            for (int threads = 1; threads <= 3; threads++) {
                Parallel.setThreads(threads);
                for (int tokens : new int[] {1, 2, 5, 9}) {
                    int cols = oddCols(f, rnd);
                    int rows = 1 + rnd.nextInt(41);
                    MemorySegment seg = encodeRandom(f, rows, cols, rnd, arena);
                    Tensor t = new Tensor("w", f, new long[] {rows, cols}, seg);
                    float[] x = gaussian(rnd, tokens * cols);
                    float[] expected = new float[tokens * rows];
                    float[] actual = new float[tokens * rows];
                    MatMul.matmulScalar(t, x, tokens, expected);
                    MatMul.matmul(t, x, tokens, actual);
                    float[] row = new float[cols];
                    for (int k = 0; k < tokens; k++) {
                        for (int r = 0; r < rows; r++) {
                            f.decodeScalar(seg, r * t.rowBytes(), row, 0, cols);
                            double scale = 0;
                            for (int i = 0; i < cols; i++) {
                                scale += Math.abs(row[i] * x[k * cols + i]);
                            }
                            assertEquals(expected[k * rows + r], actual[k * rows + r], 2e-5 * scale + 1e-6,
                                    f.name() + " " + rows + "x" + cols + " tokens=" + tokens + " threads=" + threads
                                            + " token " + k + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void tilesSpanManyRowsAndTokenTails() {
        // rows over several tiles, a row count not a multiple of 4, a token count not a multiple of 4
        Random rnd = new Random(13);
        Format f = Formats.byName("Q4_0");
        int cols = 96;
        int rows = MatMul.tileRows(cols) * 2 + 7;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = encodeRandom(f, rows, cols, rnd, arena);
            Tensor t = new Tensor("w", f, new long[] {rows, cols}, seg);
            int tokens = 11;
            float[] x = gaussian(rnd, tokens * cols);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            MatMul.matmulScalar(t, x, tokens, expected);
            MatMul.matmul(t, x, tokens, actual);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
            }
        }
    }

    @Test
    void attentionEqualsTheScalarReferenceForPromptsAndSingleTokens() {
        Random rnd = new Random(14);
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (int hd : new int[] {16, 32, 48, 64, 6}) {
                for (int[] pn : new int[][] {{0, 1}, {0, 9}, {5, 37}, {40, 1}, {3, 70}}) {
                    int heads = 8;
                    int kvHeads = 2;
                    int position = pn[0];
                    int n = pn[1];
                    int len = position + n;
                    float[] q = gaussian(rnd, n * heads * hd);
                    float[] k = gaussian(rnd, len * kvHeads * hd);
                    float[] v = gaussian(rnd, len * kvHeads * hd);
                    float[] expected = new float[q.length];
                    float[] actual = new float[q.length];
                    Attention.causalScalar(q, k, v, heads, kvHeads, hd, position, n, expected);
                    Attention.causal(q, k, v, heads, kvHeads, hd, position, n, actual);
                    for (int i = 0; i < q.length; i++) {
                        assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])),
                                "hd=" + hd + " position=" + position + " n=" + n + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void halfConversionIsExactForEveryBitPattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2 * 65536 + 2);
            for (int h = 0; h < 65536; h++) {
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L + 2L * h, (short) h);
            }
            float[] out = new float[65536];
            F16.INSTANCE.decode(seg, 2, out, 0, 65536);
            for (int h = 0; h < 65536; h++) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat((short) h)), Float.floatToRawIntBits(out[h]),
                        "half 0x" + Integer.toHexString(h));
            }
        }
    }

    private static MemorySegment encodeRandom(Format f, int rows, int cols, Random rnd, Arena arena) {
        long rowBytes = f.rowBytes(cols);
        MemorySegment seg = arena.allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r++) {
            float[] v = gaussian(rnd, cols);
            if (r % 2 == 1) {
                v[rnd.nextInt(cols)] *= 30; // an outlier
            }
            f.encode(v, 0, cols, seg, r * rowBytes);
        }
        return seg;
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
