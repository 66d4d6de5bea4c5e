package dev.jquant.train;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.Transformer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The training forward pass gives the inference engine's logits on the same weights. */
class ForwardAgreementTest {

    @ParameterizedTest
    @CsvSource({"ADJACENT_PAIRS, 2, true", "HALF_SPLIT, 1, false", "ADJACENT_PAIRS, 4, false"})
    void logitsEqualTheInferenceSessions(RopeStyle rope, int kvHeads, boolean tied) {
        ModelConfig c = new ModelConfig("llama", 64, 96, 2, 4, kvHeads, 16, 50, 64, 1e-5f, 10000f, rope, null, false,
                false, tied);
        Parameters w = GradientCheckTest.weights(c, 3);
        int batch = 2;
        int seq = 9;
        int[] inputs = GradientCheckTest.tokens(c, batch * seq, 4);
        float[] train = new TrainingModel(c).forward(w, inputs, batch, seq).clone();
        double worst = 0;
        try (Checkpoint cp = ModelFiles.inMemory(w)) {
            Transformer engine = new Transformer(cp);
            for (int b = 0; b < batch; b++) {
                float[][] logits = engine.newSession(seq).prefill(java.util.Arrays.copyOfRange(inputs, b * seq, (b + 1) * seq));
                for (int t = 0; t < seq; t++) {
                    for (int i = 0; i < c.vocabSize(); i++) {
                        float expected = logits[t][i];
                        float actual = train[(b * seq + t) * c.vocabSize() + i];
                        worst = Math.max(worst, Math.abs(expected - actual));
                        assertEquals(expected, actual, 1e-4 * Math.max(1, Math.abs(expected)), "sequence " + b + " position " + t);
                    }
                }
            }
        }
        System.out.println("worst logit difference " + worst);
    }
}
