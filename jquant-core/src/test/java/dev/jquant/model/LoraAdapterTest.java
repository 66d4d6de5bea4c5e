package dev.jquant.model;

import dev.jquant.format.F32;
import dev.jquant.format.NF4;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.Logits;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run-time LoRA product against the same adapter merged into F32 weights. */
public class LoraAdapterTest {

    /** Random factors for every target of every layer, large enough to move the logits visibly. */
    public static LoraAdapter randomAdapter(ModelConfig c, int rank, Set<LoraTarget> targets, long seed) {
        Random rnd = new Random(seed);
        Map<String, LoraAdapter.Factors> f = new LinkedHashMap<>();
        for (int l = 0; l < c.layers(); l++) {
            for (LoraTarget t : EnumSet.copyOf(targets)) {
                int[] shape = t.shape(c);
                float[] a = new float[rank * shape[1]];
                float[] b = new float[shape[0] * rank];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() / Math.sqrt(shape[1]));
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (0.3 * rnd.nextGaussian());
                }
                f.put(t.weightName(l), new LoraAdapter.Factors(a, b, shape[1], shape[0]));
            }
        }
        return new LoraAdapter(rank, 2f * rank, 0.05f, targets, f);
    }

    @Test
    void runTimeAdapterGivesTheLogitsOfTheMergedWeights() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config("llama"), F32.INSTANCE, 3, arena);
            LoraAdapter adapter = randomAdapter(c.config(), 4, EnumSet.allOf(LoraTarget.class), 7);
            Map<String, Tensor> merged = new LinkedHashMap<>();
            for (String name : adapter.factors().keySet()) {
                float[] w = c.tensor(name).toFloats();
                float[] d = adapter.delta(name);
                for (int i = 0; i < w.length; i++) {
                    w[i] += d[i];
                }
                merged.put(name, Tensor.ofFloats(name, w, arena, c.tensor(name).shape()));
            }
            int[] tokens = new Random(5).ints(9, 0, c.config().vocabSize()).toArray();
            float[][] runTime = new Transformer(c, KvCacheType.F32, adapter).newSession(16).prefill(tokens);
            float[][] base = Logits.prefill(c, tokens);
            float[][] mergedLogits = Logits.prefill(c.withTensors(merged), tokens);
            double moved = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < base[t].length; v++) {
                    moved = Math.max(moved, Math.abs(base[t][v] - mergedLogits[t][v]));
                }
            }
            assertTrue(moved > 0.1, "the adapter changes the logits (by " + moved + ")");
            Logits.assertClose(mergedLogits, runTime, 1e-4);
            // one token at a time (decode) takes the same path
            Session s = new Transformer(c, KvCacheType.F32, adapter).newSession(16);
            for (int t = 0; t < tokens.length; t++) {
                float[] logits = s.forward(tokens[t]);
                for (int v = 0; v < logits.length; v++) {
                    assertEquals(mergedLogits[t][v], logits[v], 1e-4, "decode position " + t);
                }
            }
        }
    }

    @Test
    void theBaseStaysQuantized() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config("llama"), NF4.DQ, 4, arena);
            LoraAdapter adapter = randomAdapter(c.config(), 2, EnumSet.of(LoraTarget.Q, LoraTarget.DOWN), 8);
            Transformer t = new Transformer(c, KvCacheType.F32, adapter);
            assertEquals(NF4.DQ, t.layers()[0].wq().format());
            assertEquals(2L * (2 * (c.config().dim() + c.config().qDim()) + 2 * (c.config().ffnDim() + c.config().dim())),
                    adapter.parameterCount());
        }
    }

    @Test
    void adapterOfAnotherShapeIsRefused() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config("llama"), F32.INSTANCE, 3, arena);
            ModelConfig other = TestModels.config("qwen3");
            LoraAdapter adapter = randomAdapter(other, 2, EnumSet.of(LoraTarget.V), 1);
            var e = assertThrows(dev.jquant.JQuantException.class, () -> new Transformer(c, KvCacheType.F32, adapter));
            assertTrue(e.getMessage().contains("attn_v.weight"), e.getMessage());
        }
    }
}
