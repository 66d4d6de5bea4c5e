package dev.jquant.model;

import dev.jquant.JQuant;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.testing.Logits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticModelsTest {
    private static final int[] PROMPT = {1, 17, 260, 299, 5, 42, 101, 7, 250, 3};

    @TempDir
    Path dir;

    /**
     * The GGUF (llama.cpp layout: permuted q/k and adjacent-pair RoPE for Llama, rope_freqs for
     * Llama 3 scaling) and the HF directory (half-split RoPE, weights as stored) are the same model.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama-mqa", "mistral", "qwen2", "qwen3"})
    void ggufAndHfVersionsGiveTheSameLogits(String flavour) {
        ModelConfig config = SyntheticModels.preset(flavour);
        Path gguf = dir.resolve(flavour + ".gguf");
        Path hf = dir.resolve(flavour + "-hf");
        SyntheticModels.writeGguf(config, 42, gguf);
        SyntheticModels.writeHf(config, 42, hf);
        try (Checkpoint g = JQuant.load(gguf); Checkpoint h = JQuant.load(hf)) {
            assertEquals(config, h.config(), "the HF directory keeps the config exactly");
            ModelConfig gc = g.config();
            assertEquals(List.of(config.dim(), config.ffnDim(), config.layers(), config.heads(), config.kvHeads(),
                            config.headDim(), config.vocabSize(), config.contextLength(), config.attentionBias(),
                            config.qkNorm(), config.tiedOutput()),
                    List.of(gc.dim(), gc.ffnDim(), gc.layers(), gc.heads(), gc.kvHeads(), gc.headDim(),
                            gc.vocabSize(), gc.contextLength(), gc.attentionBias(), gc.qkNorm(), gc.tiedOutput()));
            boolean llama = !flavour.startsWith("qwen");
            assertEquals(llama ? RopeStyle.ADJACENT_PAIRS : RopeStyle.HALF_SPLIT, gc.ropeStyle());
            float[][] expected = Logits.prefill(h, PROMPT);
            float[][] actual = Logits.prefill(g, PROMPT);
            Logits.assertClose(expected, actual, 1e-5);
            assertTrue(spread(expected[PROMPT.length - 1]) > 0.5, "logits must not be flat");
        }
    }

    /** A wrong q/k permutation or a forgotten RoPE scaling must show up in the logits: the test above has teeth. */
    @Test
    void ropeScalingAndPermutationChangeTheLogits() {
        ModelConfig llama3 = SyntheticModels.preset("llama3");
        ModelConfig unscaled = new ModelConfig(llama3.architecture(), llama3.dim(), llama3.ffnDim(), llama3.layers(),
                llama3.heads(), llama3.kvHeads(), llama3.headDim(), llama3.vocabSize(), llama3.contextLength(),
                llama3.rmsEps(), llama3.ropeTheta(), RopeStyle.HALF_SPLIT, null, false, false, true);
        try (Checkpoint scaled = SyntheticModels.random(llama3, 42); Checkpoint plain = SyntheticModels.random(unscaled, 42);
             Checkpoint wrongPairs = new Checkpoint(plain.source(), "synthetic",
                     new ModelConfig("llama", unscaled.dim(), unscaled.ffnDim(), unscaled.layers(), unscaled.heads(),
                             unscaled.kvHeads(), unscaled.headDim(), unscaled.vocabSize(), unscaled.contextLength(),
                             unscaled.rmsEps(), unscaled.ropeTheta(), RopeStyle.ADJACENT_PAIRS, null, false, false, true),
                     plain.tensors(), null, null, plain.metadata(), List.of())) {
            float[] a = Logits.prefill(scaled, PROMPT)[PROMPT.length - 1];
            float[] b = Logits.prefill(plain, PROMPT)[PROMPT.length - 1];
            float[] c = Logits.prefill(wrongPairs, PROMPT)[PROMPT.length - 1];
            assertTrue(maxDiff(a, b) > 1e-3, "scaling ignored: " + maxDiff(a, b));
            assertTrue(maxDiff(b, c) > 1e-3, "pairing ignored: " + maxDiff(b, c));
        }
    }

    @Test
    void ggufCarriesLlamaCppMetadataAndAWorkingVocabulary() {
        Path gguf = dir.resolve("m.gguf");
        SyntheticModels.writeGguf(SyntheticModels.preset("qwen3"), 1, gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertEquals("qwen3", f.getString("general.architecture"));
            assertEquals(48, f.getInt("qwen3.embedding_length"));
            assertEquals(24, f.getInt("qwen3.attention.key_length"));
            assertEquals(24, f.getInt("qwen3.rope.dimension_count"));
            assertEquals(1e6, f.getDouble("qwen3.rope.freq_base", 0), 1);
            List<?> tokens = f.getArray("tokenizer.ggml.tokens");
            assertEquals(300, tokens.size());
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), tokens.subList(0, 4));
            assertEquals("<0xFF>", tokens.get(258));
            assertEquals(List.of("\u2581a", "a", "\u2581b"), tokens.subList(259, 262));
            assertEquals(tokens.size(), new java.util.HashSet<>(tokens).size(), "pieces are unique");
            assertFalse(f.metadata().containsKey("qwen3.rope.scaling.type"));
        }
    }

    @Test
    void differentSeedsGiveDifferentWeights() {
        ModelConfig c = SyntheticModels.preset("qwen2");
        try (Checkpoint a = SyntheticModels.random(c, 1); Checkpoint b = SyntheticModels.random(c, 2);
             Checkpoint a2 = SyntheticModels.random(c, 1)) {
            String name = TensorNames.block(1, TensorNames.ATTN_Q_BIAS);
            assertNotEquals(Arrays.toString(a.tensor(name).toFloats()), Arrays.toString(b.tensor(name).toFloats()));
            assertEquals(Arrays.toString(a.tensor(name).toFloats()), Arrays.toString(a2.tensor(name).toFloats()));
        }
    }

    private static double spread(float[] v) {
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (float f : v) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        return max - min;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
