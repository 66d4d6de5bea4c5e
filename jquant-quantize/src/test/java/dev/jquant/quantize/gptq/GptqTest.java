package dev.jquant.quantize.gptq;

import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.quantize.FormatGrid;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.WeightGrid;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.rtn.UniformGrid;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptqTest {

    /** Inputs with strongly correlated channels (a few latent factors plus noise), as real activations have. */
    static float[] correlatedInputs(int tokens, int cols, long seed) {
        Random rnd = new Random(seed);
        int factors = 4;
        float[][] mix = new float[factors][cols];
        for (float[] m : mix) {
            for (int c = 0; c < cols; c++) {
                m[c] = (float) rnd.nextGaussian();
            }
        }
        float[] x = new float[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            double[] z = rnd.doubles(factors).map(v -> rnd.nextGaussian()).toArray();
            for (int c = 0; c < cols; c++) {
                double v = 0.3 * rnd.nextGaussian();
                for (int k = 0; k < factors; k++) {
                    v += z[k] * mix[k][c];
                }
                x[t * cols + c] = (float) v;
            }
        }
        return x;
    }

    static double[] hessian(float[] x, int tokens, int cols) {
        double[] h = new double[cols * cols];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < cols; i++) {
                for (int j = 0; j < cols; j++) {
                    h[i * cols + j] += (double) x[t * cols + i] * x[t * cols + j] / tokens;
                }
            }
        }
        return h;
    }

    static float[] randomWeights(int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() / Math.sqrt(cols));
        }
        return w;
    }

    /** Σ ((W - Q) x_t)² over the inputs. */
    static double outputError(float[] w, float[] q, int rows, int cols, float[] x, int tokens) {
        double e = 0;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double d = 0;
                for (int c = 0; c < cols; c++) {
                    d += (w[r * cols + c] - q[r * cols + c]) * x[t * cols + c];
                }
                e += d * d;
            }
        }
        return e;
    }

    static float[] rtn(float[] w, int rows, int cols, WeightGrid grid) {
        GridEncoder enc = grid.encoder(w, rows, cols);
        float[] q = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c0 = 0; c0 < cols; c0 += enc.group()) {
                enc.fit(r, java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols), c0);
                for (int c = c0; c < Math.min(cols, c0 + enc.group()); c++) {
                    q[r * cols + c] = enc.round(r, c, w[r * cols + c]);
                }
            }
        }
        return q;
    }

    /** Sizes below, at and across the blocked factorisation's panel width (and not multiples of it or of a vector). */
    @ParameterizedTest
    @ValueSource(ints = {37, 96, 301})
    void upperFactorOfTheInverseSatisfiesItsDefinition(int n) {
        double[] h = hessian(correlatedInputs(200, n, 1), 200, n);
        for (int i = 0; i < n; i++) {
            h[i * n + i] += 0.01;
        }
        float[] u = Cholesky.upperOfInverse(h.clone(), n);
        // M = UᵀU, then (M H) = I
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double v = 0;
                for (int r = 0; r <= Math.min(i, k); r++) {
                    v += (double) u[r * n + i] * u[r * n + k];
                }
                m[i * n + k] = v;
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) {
                    v += m[i * n + k] * h[k * n + j];
                }
                assertEquals(i == j ? 1 : 0, v, 2e-3, n + ": (" + i + "," + j + ")");
            }
            assertTrue(u[i * n + i] > 0, "positive diagonal");
            for (int j = 0; j < i; j++) {
                assertEquals(0f, u[i * n + j], "upper triangular");
            }
        }
    }

    /** The same Hessian gives the same factor bit for bit, before and after the JIT compiles the kernels. */
    @Test
    void theFactorIsBitReproducible() {
        int n = 700;
        float[] x = correlatedInputs(300, n, 4);
        double[] h = new double[n * n];
        for (int t = 0; t < 300; t++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    h[i * n + j] += (double) x[t * n + i] * x[t * n + j];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            h[i * n + i] += 0.01;
        }
        float[] first = Cholesky.upperOfInverse(h.clone(), n);
        for (int round = 0; round < 10; round++) {
            assertArrayEquals(first, Cholesky.upperOfInverse(h.clone(), n), 0f, "round " + round);
        }
    }

    @Test
    void aMatrixThatIsNotPositiveDefiniteIsRefusedAndLeftAsItWas() {
        int n = 150;
        double[] h = hessian(correlatedInputs(200, n, 2), 200, n);
        h[19 * n + 19] = -1; // no Cholesky factor; found in the second panel (the order is reversed)
        double[] copy = h.clone();
        assertEquals(null, Cholesky.upperOfInverse(h, n));
        assertArrayEquals(copy, h, 0.0);
    }

    @Test
    void withUncorrelatedInputsGptqIsRoundToNearest() {
        int rows = 16;
        int cols = 64;
        double[] identity = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            identity[i * cols + i] = 1;
        }
        float[] w = randomWeights(rows, cols, 3);
        WeightGrid grid = new UniformGrid(4, 32, false, new RangeObserver.MinMax());
        Gptq.Result r = Gptq.quantize(w, rows, cols, identity, grid.encoder(w, rows, cols), GptqOptions.DEFAULTS);
        assertArrayEquals(rtn(w, rows, cols, grid), r.quantized(), 0f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"int4 g32", "int3 g128 sym", "int4 per-channel", "Q4_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    void gptqMovesOutputsLessThanRoundToNearest(String target) {
        int rows = 24;
        int cols = 256;
        int tokens = 512;
        float[] x = correlatedInputs(tokens, cols, 5);
        double[] h = hessian(x, tokens, cols);
        float[] w = randomWeights(rows, cols, 6);
        WeightGrid grid = switch (target) {
            case "int4 g32" -> new UniformGrid(4, 32, false, new RangeObserver.MinMax());
            case "int3 g128 sym" -> new UniformGrid(3, 128, true, new RangeObserver.MinMax());
            case "int4 per-channel" -> new UniformGrid(4, UniformGrid.PER_CHANNEL, false, new RangeObserver.MinMax());
            default -> new FormatGrid(Formats.byName(target));
        };
        double rtn = outputError(w, rtn(w, rows, cols, grid), rows, cols, x, tokens);
        for (GptqOptions o : new GptqOptions[]{GptqOptions.DEFAULTS, new GptqOptions(0.01, 128, true, false),
                new GptqOptions(0.01, 64, false, true)}) {
            GridEncoder enc = grid.encoder(w, rows, cols);
            Gptq.Result r = Gptq.quantize(w, rows, cols, h, enc, o);
            double gptq = outputError(w, r.quantized(), rows, cols, x, tokens);
            assertTrue(gptq < 0.8 * rtn, target + " " + o + ": GPTQ " + gptq + " vs RTN " + rtn);
            // what is stored is exactly what GPTQ computed
            try (Arena arena = Arena.ofConfined()) {
                Tensor t = enc.finish("w", arena);
                assertArrayEquals(r.quantized(), t.toFloats(), 0f, target + " stored values");
            }
        }
    }

    @Test
    void kQuantTargetsAreStandardBlocks() {
        int rows = 8;
        int cols = 512;
        float[] x = correlatedInputs(256, cols, 8);
        float[] w = randomWeights(rows, cols, 9);
        Format q4k = Formats.byName("Q4_K");
        GridEncoder enc = new FormatGrid(q4k).encoder(w, rows, cols);
        Gptq.Result r = Gptq.quantize(w, rows, cols, hessian(x, 256, cols), enc, GptqOptions.DEFAULTS);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = enc.finish("w", arena);
            assertEquals(q4k, t.format());
            assertEquals(rows * q4k.rowBytes(cols), t.byteSize());
            float[] decoded = t.toFloats();
            assertArrayEquals(r.quantized(), decoded, 0f);
            // and the kernels multiply it like any Q4_K tensor
            float[] v = java.util.Arrays.copyOfRange(x, 0, cols);
            double expected = 0;
            for (int c = 0; c < cols; c++) {
                expected += decoded[c] * v[c];
            }
            assertEquals(expected, t.dotRow(0, v, 0), 1e-3 * Math.abs(expected) + 1e-3);
        }
    }
}
