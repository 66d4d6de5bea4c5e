package dev.jquant.model;

import dev.jquant.generate.Sampler;
import dev.jquant.JQuant;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Known answers for stories260K from ../shared/data/stories260K/reference_outputs.json. */
class Stories260kLogitsTest {

    @Test
    void logitsAfterBosMatchTheReference() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            float[] logits = new Transformer(c).newSession(16).forward(1);
            assertEquals(403, Sampler.argmax(logits));
            assertEquals(17.023514, logits[403], 2e-5);
            assertEquals(17.267258, logSumExp(logits), 2e-5);
            float[] first = {-6.222914f, 8.404341f, -6.22374f, -6.222545f};
            for (int i = 0; i < first.length; i++) {
                assertEquals(first[i], logits[i], 2e-5);
            }
        }
    }

    @Test
    void argmaxPerPositionOfThePromptMatches() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            float[][] logits = new Transformer(c).newSession(16).prefill(new int[] {1, 403, 407, 261, 378});
            int[] argmax = new int[logits.length];
            for (int i = 0; i < logits.length; i++) {
                argmax[i] = Sampler.argmax(logits[i]);
            }
            assertArrayEquals(new int[] {403, 407, 261, 378, 432}, argmax);
            assertEquals(-10.136571, logits[4][0], 2e-5);
            assertEquals(-1.140565, logits[4][13], 2e-5);
        }
    }


    static double logSumExp(float[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : v) {
            max = Math.max(max, f);
        }
        double s = 0;
        for (float f : v) {
            s += Math.exp(f - max);
        }
        return max + Math.log(s);
    }
}
