package dev.jquant.train;

import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every parameter's analytic gradient against central finite differences of the loss, on tiny
 * models of each flavour the trainer covers. Along a random unit direction per tensor (which checks
 * every element at once) and element by element for the largest gradients.
 */
class GradientCheckTest {
    static ModelConfig tiny(RopeStyle rope, int kvHeads, boolean tied) {
        return new ModelConfig("llama", 16, 24, 2, 4, kvHeads, 4, 23, 64, 1e-5f, 10000f, rope, null, false, false, tied);
    }

    /** Weights of a trained-looking scale, so the loss's curvature is realistic and gradients are not tiny. */
    static Parameters weights(ModelConfig c, long seed) {
        Parameters p = Parameters.initialize(c, seed);
        Random rnd = new Random(seed + 1);
        for (String name : p.names()) {
            float[] v = p.get(name);
            for (int i = 0; i < v.length; i++) {
                v[i] = name.endsWith("norm.weight") ? 1f + 0.3f * (float) rnd.nextGaussian() : 0.4f * (float) rnd.nextGaussian();
            }
        }
        return p;
    }

    static int[] tokens(ModelConfig c, int count, long seed) {
        Random rnd = new Random(seed);
        int[] t = new int[count];
        for (int i = 0; i < t.length; i++) {
            t[i] = rnd.nextInt(c.vocabSize());
        }
        return t;
    }

    @ParameterizedTest
    @CsvSource({"ADJACENT_PAIRS, 2, true", "HALF_SPLIT, 2, false", "ADJACENT_PAIRS, 1, false", "HALF_SPLIT, 4, true"})
    void analyticGradientsMatchFiniteDifferences(RopeStyle rope, int kvHeads, boolean tied) {
        ModelConfig c = tiny(rope, kvHeads, tied);
        int batch = 2;
        int seq = 6;
        Parameters w = weights(c, 7);
        Batch tokens = Batch.ofWindows(tokens(c, batch * (seq + 1), 11), batch, seq);
        tokens.targets()[3] = TrainingModel.IGNORE; // an unscored position
        TrainingModel model = new TrainingModel(c);
        Parameters grads = Parameters.zeros(c);
        double loss = model.forwardBackward(w, tokens, grads, 1f);
        assertTrue(loss > 1 && loss < 20, "loss " + loss);
        assertEquals(loss, model.loss(w, tokens), 1e-12, "loss with and without the backward pass");

        Random rnd = new Random(5);
        float h = 1e-2f;
        for (String name : w.names()) {
            float[] v = w.get(name);
            float[] g = grads.get(name);
            // along a random unit direction
            double[] dir = new double[v.length];
            double norm = 0;
            for (int i = 0; i < v.length; i++) {
                dir[i] = rnd.nextGaussian();
                norm += dir[i] * dir[i];
            }
            norm = Math.sqrt(norm);
            double analytic = 0;
            for (int i = 0; i < v.length; i++) {
                dir[i] /= norm;
                analytic += g[i] * dir[i];
            }
            double numeric = directional(model, w, name, dir, h, tokens);
            assertEquals(numeric, analytic, 2e-3 + 1e-2 * Math.abs(numeric), name + " along a random direction");
            // the largest single element, with a smaller step: single embedding entries can be sharply curved
            int top = 0;
            for (int i = 1; i < v.length; i++) {
                if (Math.abs(g[i]) > Math.abs(g[top])) {
                    top = i;
                }
            }
            double[] unit = new double[v.length];
            unit[top] = 1;
            double single = directional(model, w, name, unit, h / 5, tokens);
            assertEquals(single, g[top], 2e-3 + 1e-2 * Math.abs(single), name + "[" + top + "]");
        }
    }

    @org.junit.jupiter.api.Test
    void distillationGradientsMatchFiniteDifferences() {
        ModelConfig c = tiny(RopeStyle.ADJACENT_PAIRS, 2, false);
        int batch = 2;
        int seq = 5;
        Parameters w = weights(c, 21);
        Parameters teacherWeights = weights(c, 22);
        Batch tokens = Batch.ofWindows(tokens(c, batch * (seq + 1), 23), batch, seq);
        tokens.targets()[4] = TrainingModel.IGNORE;
        float[] teacher = new TrainingModel(c).forward(teacherWeights, tokens.inputs(), batch, seq).clone();
        TrainingModel model = new TrainingModel(c);
        Parameters grads = Parameters.zeros(c);
        double kl = model.forwardBackwardDistill(w, tokens, teacher, grads, 1f);
        assertTrue(kl > 0.1, "KL " + kl);
        assertEquals(0, model.forwardBackwardDistill(teacherWeights, tokens, teacher, Parameters.zeros(c), 1f), 1e-6,
                "the teacher is at zero divergence from itself");
        Random rnd = new Random(9);
        float h = 1e-2f;
        for (String name : w.names()) {
            float[] v = w.get(name);
            double[] dir = new double[v.length];
            double analytic = 0;
            for (int i = 0; i < v.length; i++) {
                dir[i] = rnd.nextGaussian() / Math.sqrt(v.length);
                analytic += grads.get(name)[i] * dir[i];
            }
            float[] saved = v.clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (saved[i] + h * dir[i]);
            }
            double plus = model.forwardBackwardDistill(w, tokens, teacher, Parameters.zeros(c), 1f);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (saved[i] - h * dir[i]);
            }
            double minus = model.forwardBackwardDistill(w, tokens, teacher, Parameters.zeros(c), 1f);
            System.arraycopy(saved, 0, v, 0, v.length);
            double numeric = (plus - minus) / (2 * h);
            assertEquals(numeric, analytic, 2e-3 + 2e-2 * Math.abs(numeric), name + " (distillation)");
        }
    }

    private static double directional(TrainingModel model, Parameters w, String name, double[] dir, float h,
                                      Batch tokens) {
        float[] v = w.get(name);
        float[] saved = v.clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (saved[i] + h * dir[i]);
        }
        double plus = model.loss(w, tokens);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (saved[i] - h * dir[i]);
        }
        double minus = model.loss(w, tokens);
        System.arraycopy(saved, 0, v, 0, v.length);
        return (plus - minus) / (2 * h);
    }
}
