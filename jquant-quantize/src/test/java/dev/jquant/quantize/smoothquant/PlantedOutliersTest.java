package dev.jquant.quantize.smoothquant;

import dev.jquant.format.F32;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.ActivationRanges;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A random model with activation outliers planted as large LLMs have them: a few hidden channels
 * whose normalized activations are ~40x the others (here through the norm weights). Per-token int8
 * then spends its range on those channels and crushes the rest; SmoothQuant moves the range into
 * the weights and the outlier split keeps those channels in 16 bits, so both must do far better.
 */
class PlantedOutliersTest {
    private static final int[] OUTLIER_CHANNELS = {3, 17, 40};

    @Test
    void smoothQuantAndOutlierSplitBeatPlainW8A8() {
        ModelConfig cfg = TestModels.config("llama3");
        try (Arena arena = Arena.ofShared()) {
            Checkpoint base = TestModels.random(cfg, F32.INSTANCE, 42, arena);
            Checkpoint model = base.withTensors(plantOutliers(base, arena));
            Transformer reference = new Transformer(model);
            ActivationRanges ranges = ActivationRanges.collect(reference, sequences(cfg, 4, 32, 1));
            float[] normed = ranges.absMax(TensorNames.block(0, TensorNames.ATTN_Q));
            assertTrue(normed[3] > 6 && normed[0] < 6, "planted channel " + normed[3] + ", ordinary " + normed[0]);

            List<int[]> eval = sequences(cfg, 4, 32, 2);
            double plain = kl(reference, model.withTensors(W8A8.quantize(model, ranges, ActivationMode.DYNAMIC, arena)), eval);
            double plainStatic = kl(reference, model.withTensors(W8A8.quantize(model, ranges, ActivationMode.STATIC, arena)), eval);
            double smooth = kl(reference, model.withTensors(
                    new SmoothQuant(0.5, ActivationMode.DYNAMIC).quantize(model, ranges, arena)), eval);
            double smoothStatic = kl(reference, model.withTensors(
                    new SmoothQuant(0.5, ActivationMode.STATIC).quantize(model, ranges, arena)), eval);
            double split = kl(reference, model.withTensors(
                    new OutlierSplit(OutlierSplit.DEFAULT_THRESHOLD, ActivationMode.DYNAMIC).quantize(model, ranges, arena)), eval);
            double splitStatic = kl(reference, model.withTensors(
                    new OutlierSplit(OutlierSplit.DEFAULT_THRESHOLD, ActivationMode.STATIC).quantize(model, ranges, arena)), eval);
            System.out.printf("planted outliers, KL vs F32: W8A8 RTN dynamic %.5f static %.5f; SmoothQuant dynamic %.5f"
                    + " static %.5f; int8-outlier dynamic %.5f static %.5f%n", plain, plainStatic, smooth, smoothStatic, split,
                    splitStatic);
            assertTrue(smooth < plain / 2, "SmoothQuant " + smooth + " vs W8A8 " + plain);
            assertTrue(smoothStatic < plainStatic / 3, "static SmoothQuant " + smoothStatic + " vs W8A8 " + plainStatic);
            assertTrue(split < plain / 10, "int8-outlier " + split + " vs W8A8 " + plain);
            assertTrue(splitStatic < plainStatic / 10, "static int8-outlier " + splitStatic + " vs W8A8 " + plainStatic);
        }
    }

    private static double kl(Transformer reference, Checkpoint quantized, List<int[]> eval) {
        return OutputDivergence.measure(reference, new Transformer(quantized), eval, 1).meanKl();
    }

    /** Multiplies the norm weights of the planted channels by 40 in every block. */
    private static Map<String, Tensor> plantOutliers(Checkpoint c, Arena arena) {
        Map<String, Tensor> out = new HashMap<>();
        for (int l = 0; l < c.config().layers(); l++) {
            for (String norm : List.of(TensorNames.ATTN_NORM, TensorNames.FFN_NORM)) {
                String name = TensorNames.block(l, norm);
                float[] g = c.tensor(name).toFloats();
                for (int ch : OUTLIER_CHANNELS) {
                    g[ch] *= 40;
                }
                out.put(name, Tensor.ofFloats(name, g, arena, g.length));
            }
        }
        return out;
    }

    static List<int[]> sequences(ModelConfig cfg, int count, int length, long seed) {
        Random rnd = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(rnd.ints(length, 0, cfg.vocabSize()).toArray());
        }
        return out;
    }
}
