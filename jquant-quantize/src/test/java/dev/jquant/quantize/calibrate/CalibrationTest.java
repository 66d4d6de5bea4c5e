package dev.jquant.quantize.calibrate;

import dev.jquant.format.F32;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CalibrationTest {

    @Test
    void statisticsMatchTheInputsComputedByHand() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config("llama"), F32.INSTANCE, 1, arena);
            int[] tokens = new Random(2).ints(400, 0, c.config().vocabSize()).toArray();
            CalibrationSet set = CalibrationSet.sample(tokens, 0, tokens.length, 3, 16, 9, 1, "test");
            Calibrator cal = Calibrator.run(new Transformer(c), set, true, 20);
            // replay the same samples, capturing block 1's down-projection inputs directly
            List<float[]> rows = new ArrayList<>();
            var session = new Transformer(c).newSession(16);
            int ffn = c.config().ffnDim();
            session.observeLinearInputs((layer, tensor, input, n) -> {
                if (layer == 1 && tensor.equals(TensorNames.FFN_DOWN)) {
                    for (int t = 0; t < n; t++) {
                        rows.add(java.util.Arrays.copyOfRange(input, t * ffn, (t + 1) * ffn));
                    }
                }
            });
            for (int[] s : set.samples()) {
                session.rewind(0);
                session.prefill(s);
            }
            ChannelStats st = cal.stats(1, TensorNames.FFN_DOWN);
            assertEquals(48, st.rows());
            assertEquals(20, st.keptRows());
            double[] h = st.hessian();
            for (int i = 0; i < ffn; i += 7) {
                double absSum = 0;
                float max = Float.NEGATIVE_INFINITY;
                for (float[] r : rows) {
                    absSum += Math.abs(r[i]);
                    max = Math.max(max, r[i]);
                }
                assertEquals(absSum / 48, st.meanAbs()[i], 1e-5);
                assertEquals(max, st.max()[i]);
                for (int j = 0; j < ffn; j += 11) {
                    double expected = 0;
                    for (float[] r : rows) {
                        expected += (double) r[i] * r[j] / 48;
                    }
                    assertEquals(expected, h[i * ffn + j], 1e-5 * (1 + Math.abs(expected)));
                }
            }
            assertArrayEquals(rows.get(0), java.util.Arrays.copyOf(st.keptInputs(), ffn));
            assertTrue(cal.stats(1, TensorNames.ATTN_V) == cal.stats(1, TensorNames.ATTN_Q), "q/k/v share their input");
        }
    }

    @Test
    void samplingIsSeededAndStartsWithBos() {
        int[] tokens = java.util.stream.IntStream.range(0, 1000).toArray();
        CalibrationSet a = CalibrationSet.sample(tokens, 100, 600, 4, 32, 5, 1, "t");
        CalibrationSet b = CalibrationSet.sample(tokens, 100, 600, 4, 32, 5, 1, "t");
        CalibrationSet other = CalibrationSet.sample(tokens, 100, 600, 4, 32, 6, 1, "t");
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(a.samples().get(i), b.samples().get(i));
            int[] s = a.samples().get(i);
            assertEquals(1, s[0]);
            assertTrue(s[1] > 100 && s[31] < 600, "inside the slice");
        }
        assertNotEquals(a.samples().get(0)[1], other.samples().get(0)[1]);
    }

    @Test
    void observersClipHeavyTailsAndMinMaxDoesNot() {
        Random rnd = new Random(4);
        float[] v = new float[4096];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        v[17] = 40f; // one outlier
        Histogram h = new Histogram(2048);
        h.add(v, 0, v.length);
        assertEquals(40f, h.max());
        Range minMax = new RangeObserver.MinMax().range(h, 256);
        assertEquals(40f, minMax.hi());
        Range p = new RangeObserver.Percentile(99.9).range(h, 256);
        assertTrue(p.hi() > 2.5 && p.hi() < 4.5, "99.9th percentile of N(0,1) ~ 3.1: " + p);
        Range entropy = new RangeObserver.Entropy().range(h, 256);
        assertTrue(entropy.hi() < 20 && entropy.hi() > 2, "entropy calibration clips the outlier: " + entropy);
        // on raw values the MSE search clips when few levels make the outlier's range too coarse
        Range mse = new RangeObserver.Mse(20).range(v, 0, v.length, 16);
        assertTrue(mse.hi() < 40f, "MSE shrinks the range: " + mse);
        double errMse = 0;
        double errMinMax = 0;
        for (float x : v) {
            errMse += Math.pow(x - RangeObserver.fakeQuant(x, mse, 16), 2);
            errMinMax += Math.pow(x - RangeObserver.fakeQuant(x, new Range(v[0] < 0 ? -40 : -40, 40), 16), 2);
        }
        assertTrue(errMse < errMinMax);
        assertEquals(h.quantile(0.5), 0f, 0.1f);
        assertTrue(RangeObserver.parse("percentile:99") instanceof RangeObserver.Percentile(double pc) && pc == 99);
    }
}
