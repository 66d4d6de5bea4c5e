package dev.jquant.testing;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs prompts through checkpoints and compares what comes out. */
public final class Logits {
    private Logits() {
    }

    public static float[][] prefill(Checkpoint c, int... tokens) {
        return new Transformer(c).newSession(tokens.length).prefill(tokens);
    }

    /** Every logit of every position within {@code tolerance}; returns the largest difference seen. */
    public static double assertClose(float[][] expected, float[][] actual, double tolerance) {
        assertEquals(expected.length, actual.length, "positions");
        double worst = 0;
        for (int t = 0; t < expected.length; t++) {
            assertEquals(expected[t].length, actual[t].length, "vocabulary size");
            for (int v = 0; v < expected[t].length; v++) {
                double diff = Math.abs(expected[t][v] - actual[t][v]);
                worst = Math.max(worst, diff);
                if (!(diff <= tolerance)) {
                    assertEquals(expected[t][v], actual[t][v], tolerance, "position " + t + ", token " + v);
                }
            }
        }
        return worst;
    }
}
