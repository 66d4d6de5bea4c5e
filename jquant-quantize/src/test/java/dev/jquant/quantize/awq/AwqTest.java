package dev.jquant.quantize.awq;

import dev.jquant.quantize.WeightGrid;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.rtn.UniformGrid;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

class AwqTest {

    /** Activations where two channels are 30x larger than the rest, as in large LLMs. */
    @Test
    void scalesProtectTheSalientChannelsAndReduceOutputError() {
        int rows = 32;
        int cols = 64;
        int tokens = 128;
        Random rnd = new Random(1);
        float[] x = new float[tokens * cols];
        float[] meanAbs = new float[cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                float v = (float) rnd.nextGaussian() * (c == 5 || c == 40 ? 30 : 1);
                x[t * cols + c] = v;
                meanAbs[c] += Math.abs(v) / tokens;
            }
        }
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        WeightGrid grid = new UniformGrid(3, 32, false, new RangeObserver.MinMax());
        Awq.Linear l = new Awq.Linear(w, rows, cols, grid);
        float[] s = Awq.searchScales(new Awq.Linear[]{l}, meanAbs, x, tokens, 20);
        assertTrue(s[5] > 2 * s[0] && s[40] > 2 * s[0], "salient channels scaled up: " + s[5] + ", " + s[40] + " vs " + s[0]);

        double plain = Awq.outputError(w, Awq.roundToGrid(w, rows, cols, grid), rows, cols, x, tokens);
        float[] scaled = Awq.scaleColumns(w, rows, cols, s, false);
        float[] effective = Awq.scaleColumns(Awq.roundToGrid(scaled, rows, cols, grid), rows, cols, s, true);
        double awq = Awq.outputError(w, effective, rows, cols, x, tokens);
        assertTrue(awq < 0.7 * plain, "AWQ " + awq + " vs RTN " + plain);

        float[] clipped = Awq.clip(new Awq.Linear(w, rows, cols, grid), x, tokens, 20, 0.5);
        double clippedErr = Awq.outputError(w, Awq.roundToGrid(clipped, rows, cols, grid), rows, cols, x, tokens);
        assertTrue(clippedErr <= plain, "clipping never makes the sampled outputs worse: " + clippedErr + " vs " + plain);
    }
}
