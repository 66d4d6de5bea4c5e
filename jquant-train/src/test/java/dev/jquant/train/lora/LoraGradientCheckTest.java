package dev.jquant.train.lora;

import dev.jquant.format.NF4;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.LoraTarget;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.train.Batch;
import dev.jquant.train.ModelFiles;
import dev.jquant.train.Parameters;
import dev.jquant.train.TrainingModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.EnumSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gradients of the LoRA factors on a frozen NF4 base against central finite differences of the
 * loss, with dropout on (the same masks replayed for every evaluation). Layer 0's factors only get a
 * gradient through the frozen base layers of block 1, so this also checks the input gradients there.
 */
class LoraGradientCheckTest {

    @ParameterizedTest
    @CsvSource({"ADJACENT_PAIRS, 0.0", "HALF_SPLIT, 0.2"})
    void adapterGradientsMatchFiniteDifferences(RopeStyle rope, float dropout) {
        ModelConfig c = new ModelConfig("llama", 16, 24, 2, 4, 2, 4, 23, 64, 1e-5f, 10000f, rope, null, false, false, true);
        Parameters w = Parameters.initialize(c, 3);
        Random rnd = new Random(4);
        for (String name : w.names()) {
            float[] v = w.get(name);
            for (int i = 0; i < v.length; i++) {
                v[i] = name.endsWith("norm.weight") ? 1f + 0.3f * (float) rnd.nextGaussian() : 0.4f * (float) rnd.nextGaussian();
            }
        }
        QLoraModel.Settings s = new QLoraModel.Settings(NF4.DQ, 3, 6f, dropout, EnumSet.allOf(LoraTarget.class), 9);
        try (Checkpoint source = ModelFiles.inMemory(w); QLoraModel q = QLoraModel.build(source, s)) {
            Parameters adapters = q.adapters();
            for (String name : adapters.names()) {
                float[] v = adapters.get(name);
                for (int i = 0; i < v.length; i++) {
                    v[i] = 0.3f * (float) rnd.nextGaussian(); // B nonzero, so A has a gradient too
                }
            }
            int batch = 2;
            int seq = 6;
            int[] tokens = rnd.ints(batch * (seq + 1), 0, c.vocabSize()).toArray();
            Batch b = Batch.ofWindows(tokens, batch, seq);
            TrainingModel model = q.model();
            Parameters grads = adapters.zerosLike();
            q.reseed(1);
            double loss = model.forwardBackward(q.weights(), b, grads, 1f);
            q.reseed(1);
            assertEquals(loss, model.loss(q.weights(), b), 1e-9, "the same masks give the same loss");
            assertTrue(grads.squaredNorm() > 0, "adapter gradients");

            float h = 1e-2f;
            for (String name : adapters.names()) {
                float[] v = adapters.get(name);
                float[] g = grads.get(name);
                double[] dir = new double[v.length];
                double analytic = 0;
                for (int i = 0; i < v.length; i++) {
                    dir[i] = rnd.nextGaussian() / Math.sqrt(v.length);
                    analytic += g[i] * dir[i];
                }
                float[] saved = v.clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (saved[i] + h * dir[i]);
                }
                q.reseed(1);
                double plus = model.loss(q.weights(), b);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (saved[i] - h * dir[i]);
                }
                q.reseed(1);
                double minus = model.loss(q.weights(), b);
                System.arraycopy(saved, 0, v, 0, v.length);
                double numeric = (plus - minus) / (2 * h);
                assertEquals(numeric, analytic, 2e-3 + 1e-2 * Math.abs(numeric), name);
            }
        }
    }
}
