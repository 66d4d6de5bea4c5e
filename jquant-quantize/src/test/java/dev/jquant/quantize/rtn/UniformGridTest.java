package dev.jquant.quantize.rtn;

import dev.jquant.format.IntFormat;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UniformGridTest {

    @ParameterizedTest
    @CsvSource({"4,32,true", "4,32,false", "3,0,false", "8,-1,true", "2,64,false", "4,48,false"})
    void roundToNearestErrsByAtMostHalfAStepAndIsStoredExactly(int bits, int group, boolean sym) {
        int rows = 6;
        int cols = 172; // not a multiple of the groups: a partial last group
        Random rnd = new Random(bits * 100L + group);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() + (sym ? 0 : 0.7));
        }
        UniformGrid grid = new UniformGrid(bits, group, sym, new RangeObserver.MinMax());
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Rtn.quantize("w", w, rows, cols, grid, arena);
            assertTrue(t.format() instanceof IntFormat);
            assertEquals(grid.storage(), t.format());
            float[] q = t.toFloats();
            int g = group > 0 ? group : cols;
            float tensorLo = 0;
            float tensorHi = 0;
            for (float x : w) {
                tensorLo = Math.min(tensorLo, x);
                tensorHi = Math.max(tensorHi, x);
            }
            for (int r = 0; r < rows; r++) {
                for (int c0 = 0; c0 < cols; c0 += g) {
                    int c1 = Math.min(cols, c0 + g);
                    float lo = 0;
                    float hi = 0;
                    for (int c = c0; c < c1; c++) {
                        lo = Math.min(lo, w[r * cols + c]);
                        hi = Math.max(hi, w[r * cols + c]);
                    }
                    if (group == UniformGrid.PER_TENSOR) {
                        lo = tensorLo;
                        hi = tensorHi;
                    }
                    double step = sym ? Math.max(-lo, hi) / ((1 << (bits - 1)) - 1) : (hi - lo) / ((1 << bits) - 1);
                    for (int c = c0; c < c1; c++) {
                        int i = r * cols + c;
                        assertTrue(Math.abs(w[i] - q[i]) <= step * 0.5 * 1.002 + 1e-6,
                                "element " + i + ": " + w[i] + " -> " + q[i] + ", step " + step);
                    }
                }
            }
        }
    }
}
