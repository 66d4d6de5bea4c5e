package dev.jquant.model;

import dev.jquant.format.F32;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine hooks of layer-wise quantization: block-by-block execution and linear-input observers. */
class BlockExecutionTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "qwen2", "qwen3"})
    void runningBlocksOneByOneGivesTheSameLogitsAsTheFullForwardPass(String flavour) {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config(flavour), F32.INSTANCE, 3, arena);
            Transformer model = new Transformer(c);
            int[] tokens = new Random(5).ints(11, 0, c.config().vocabSize()).toArray();
            float[][] expected = model.newSession(16).prefill(tokens);

            Session s = model.newSession(16);
            float[] hidden = s.embed(tokens);
            for (int l = 0; l < c.config().layers(); l++) {
                s.forwardBlock(l, hidden, tokens.length);
            }
            assertEquals(0, s.position(), "block execution leaves the position alone");
            float[][] actual = s.logits(hidden, tokens.length, 0);
            for (int t = 0; t < tokens.length; t++) {
                // the same arithmetic, but a vector reduction may add lanes in another order once the JIT recompiles it
                assertArrayEquals(expected[t], actual[t], 1e-5f, "position " + t);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen3"})
    void theObserverSeesEveryLinearInputWithItsWidth(String flavour) {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config(flavour), F32.INSTANCE, 3, arena);
            ModelConfig cfg = c.config();
            Session s = new Transformer(c).newSession(8);
            List<String> seen = new ArrayList<>();
            float[][] firstQInput = new float[1][];
            s.observeLinearInputs((layer, tensor, input, tokens) -> {
                seen.add(layer + ":" + tensor + ":" + tokens);
                if (layer == 0 && tensor.equals(TensorNames.ATTN_Q)) {
                    firstQInput[0] = java.util.Arrays.copyOf(input, tokens * cfg.dim());
                }
            });
            s.prefill(new int[]{1, 5, 7});
            assertEquals(7 * cfg.layers(), seen.size());
            assertEquals(List.of("0:attn_q.weight:3", "0:attn_k.weight:3", "0:attn_v.weight:3", "0:attn_output.weight:3",
                    "0:ffn_gate.weight:3", "0:ffn_up.weight:3", "0:ffn_down.weight:3"), seen.subList(0, 7));
            // the q input of block 0 is the RMS-normed embedding
            float[] emb = s.embed(new int[]{1, 5, 7});
            float[] norm = c.tensor(TensorNames.block(0, TensorNames.ATTN_NORM)).toFloats();
            float[] normed = new float[emb.length];
            Ops.rmsNorm(emb, norm, normed, 3, cfg.dim(), cfg.rmsEps());
            assertArrayEquals(normed, firstQInput[0], 0f);

            s.observeLinearInputs(null);
            s.rewind(0);
            s.prefill(new int[]{1});
            assertEquals(7 * cfg.layers(), seen.size(), "no calls after the observer is removed");
        }
    }
}
