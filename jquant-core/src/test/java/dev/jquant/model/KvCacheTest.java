package dev.jquant.model;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.testing.SharedData;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantized KV caches: logits close to the F32 cache's, in the order of the formats' precision, and their sizes. */
class KvCacheTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 13, 299, 400, 271, 290, 301, 50, 60, 70, 80};

    /** Largest logit difference from the F32 cache over a prefill then three decode steps. */
    private static double worstDifference(Checkpoint c, KvCacheType type) {
        Session exact = new Transformer(c).newSession(PROMPT.length + 3);
        Session tested = new Transformer(c, type).newSession(PROMPT.length + 3);
        int[] prompt = java.util.Arrays.stream(PROMPT).map(t -> t % c.config().vocabSize()).toArray();
        double worst = maxDiff(exact.prefill(prompt), tested.prefill(prompt));
        for (int step = 0; step < 3; step++) {
            worst = Math.max(worst, maxDiff(new float[][] {exact.forward(7 + step)}, new float[][] {tested.forward(7 + step)}));
        }
        return worst;
    }

    private static double maxDiff(float[][] a, float[][] b) {
        double worst = 0;
        for (int t = 0; t < a.length; t++) {
            for (int v = 0; v < a[t].length; v++) {
                worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
            }
        }
        return worst;
    }

    @Test
    void stories260kLogitsStayCloseInPrecisionOrder() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            double f16 = worstDifference(c, KvCacheType.F16);
            double q8 = worstDifference(c, KvCacheType.Q8_0);
            double q4 = worstDifference(c, KvCacheType.Q4_0);
            System.out.printf("stories260K KV cache, largest logit difference: f16 %.4f, q8_0 %.4f, q4_0 %.4f%n", f16, q8, q4);
            assertTrue(f16 < 0.05, "f16 " + f16);
            assertTrue(q8 < 1.5, "q8_0 " + q8);
            assertTrue(q4 < 30, "q4_0 " + q4);
            assertTrue(f16 < q8 && q8 < q4, f16 + " < " + q8 + " < " + q4);
            assertTrue(q8 > 0, "a quantized cache that changes nothing is not quantizing");
        }
    }

    /**
     * Head dimension 64: each block lies within a head, so keys are multiplied where they lie (F16 is decoded). The
     * random model's logits reach about 70, so these are errors of 0.4% and 5% of the largest logit.
     */
    @Test
    void wholeBlockHeadsUseTheFormatsDot() {
        ModelConfig cfg = new ModelConfig("llama", 128, 96, 2, 4, 2, 64, 70, 64, 1e-5f, 10000, RopeStyle.HALF_SPLIT,
                null, false, false, true);
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(cfg, F32.INSTANCE, 3, arena);
            double f16 = worstDifference(c, KvCacheType.F16);
            double q8 = worstDifference(c, KvCacheType.Q8_0);
            double q4 = worstDifference(c, KvCacheType.Q4_0);
            assertTrue(f16 < 0.02, "f16 " + f16);
            System.out.printf("head dim 64 KV cache, largest logit difference: q8_0 %.4f, q4_0 %.4f%n", q8, q4);
            assertTrue(q8 > f16 && q8 < 0.3, "q8_0 " + q8);
            assertTrue(q4 > q8 && q4 < 4, "q4_0 " + q4);
        }
    }

    @Test
    void cacheBytesFollowTheFormat() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            // 5 layers x 2 (k, v) x 100 positions x 32 elements
            assertEquals(5 * 2 * 100 * 32 * 4L, new Transformer(c).newSession(100).kvCacheBytes());
            assertEquals(5 * 2 * 100 * 32 * 2L, new Transformer(c, KvCacheType.F16).newSession(100).kvCacheBytes());
            assertEquals(5 * 2 * 100 * 34L, new Transformer(c, KvCacheType.Q8_0).newSession(100).kvCacheBytes());
            assertEquals(5 * 2 * 100 * 18L, new Transformer(c, KvCacheType.Q4_0).newSession(100).kvCacheBytes());
        }
    }

    @Test
    void unevenRowsAndUnknownNamesAreRefused() {
        ModelConfig cfg = TestModels.config("qwen3"); // kvDim 24
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(cfg, F32.INSTANCE, 1, arena);
            assertThrows(JQuantException.class, () -> new Transformer(c, KvCacheType.Q8_0).newSession(8));
            assertEquals(24 * 2 * 2 * 8 * 2L, new Transformer(c, KvCacheType.F16).newSession(8).kvCacheBytes());
        }
        assertEquals(KvCacheType.Q4_0, KvCacheType.parse("q4_0"));
        assertThrows(JQuantException.class, () -> KvCacheType.parse("q5_0"));
    }
}
