package dev.jquant.io.hf;

import dev.jquant.JQuantException;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeScaling;
import dev.jquant.model.RopeStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json files as the published models ship them. */
class HfConfigTest {
    @TempDir
    Path dir;

    @Test
    void llama32WithLlama3RopeScaling() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
                 "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
                 "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
                 "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
                 "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
                 "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0,
                 "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
                 "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}""");
        assertEquals(new ModelConfig("llama", 2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5f, 500000f,
                RopeStyle.HALF_SPLIT, new RopeScaling(32f, 1f, 4f, 8192), false, false, true), c);
    }

    @Test
    void qwen25HasAttentionBiasesAndIgnoresAnUnusedSlidingWindow() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
                 "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
                 "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
                 "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
                 "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 4096, "tie_word_embeddings": true,
                 "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}""");
        assertEquals(new ModelConfig("qwen2", 896, 4864, 24, 14, 2, 64, 151936, 32768, 1e-6f, 1e6f,
                RopeStyle.HALF_SPLIT, null, true, false, true), c);
    }

    @Test
    void qwen3HasQkNormAndItsOwnHeadDim() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
                 "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
                 "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
                 "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
                 "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
                 "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
                 "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}""");
        assertEquals(new ModelConfig("qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e-6f, 1e6f,
                RopeStyle.HALF_SPLIT, null, false, true, true), c);
    }

    @Test
    void mistralV01IsLimitedToItsSlidingWindow() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
                 "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
                 "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
                 "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
                 "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true,
                 "vocab_size": 32000}""");
        assertEquals(new ModelConfig("mistral", 4096, 14336, 32, 32, 8, 128, 32000, 4096, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, null, false, false, false), c);
    }

    @Test
    void tinyLlamaAndSmolLmAreLlamas() throws IOException {
        ModelConfig tiny = read("""
                {"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
                 "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
                 "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32,
                 "num_hidden_layers": 22, "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
                 "rope_scaling": null, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32000}""");
        assertEquals(new ModelConfig("llama", 2048, 5632, 22, 32, 4, 64, 32000, 2048, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, null, false, false, false), tiny);
        ModelConfig smol = read("""
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
                 "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 576,
                 "initializer_range": 0.02, "intermediate_size": 1536, "max_position_embeddings": 2048,
                 "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
                 "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
                 "tie_word_embeddings": true, "torch_dtype": "float32", "use_cache": true, "vocab_size": 49152}""");
        assertEquals(new ModelConfig("llama", 576, 1536, 30, 9, 3, 64, 49152, 2048, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, null, false, false, true), smol);
    }

    @Test
    void transformers5RopeParameters() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100,
                 "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                   "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}""");
        assertEquals(500000f, c.ropeTheta());
        assertEquals(new RopeScaling(8f, 1f, 4f, 8192), c.ropeScaling());
        assertEquals(1e-6f, c.rmsEps(), "transformers' default");
        assertEquals(2048, c.contextLength(), "transformers' default");
    }

    @Test
    void writtenConfigReadsBackTheSame() throws IOException {
        for (ModelConfig c : new ModelConfig[]{
                new ModelConfig("llama", 2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5f, 500000f,
                        RopeStyle.HALF_SPLIT, new RopeScaling(32f, 1f, 4f, 8192), false, false, true),
                new ModelConfig("qwen2", 896, 4864, 24, 14, 2, 64, 151936, 32768, 1e-6f, 1e6f,
                        RopeStyle.HALF_SPLIT, null, true, false, true),
                new ModelConfig("qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e-6f, 1e6f,
                        RopeStyle.HALF_SPLIT, null, false, true, false),
                new ModelConfig("mistral", 4096, 14336, 32, 32, 8, 128, 32000, 4096, 1e-5f, 10000f,
                        RopeStyle.HALF_SPLIT, null, false, false, false)}) {
            String json = HfConfig.JSON.writeValueAsString(HfConfig.toJson(c, dev.jquant.format.BF16.INSTANCE, 1,
                    java.util.List.of(2, 3)));
            assertEquals(c, read(json));
            assertTrue(json.contains("\"torch_dtype\" : \"bfloat16\""), json);
            assertTrue(json.contains("\"eos_token_id\" : [ 2, 3 ]"), json);
        }
    }

    // ---- bad configs ----

    @Test
    void badJson() throws IOException {
        Path p = write("{\"hidden_size\": 64,,}");
        JQuantException e = assertThrows(JQuantException.class, () -> HfConfig.read(p));
        assertTrue(e.getMessage().startsWith(p + ": not valid JSON: Unexpected character (','"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void missingField() throws IOException {
        assertError(p -> p + ": num_attention_heads: is missing",
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
                        + " \"num_hidden_layers\": 2, \"vocab_size\": 100}");
    }

    @Test
    void fieldOfTheWrongType() throws IOException {
        assertError(p -> p + ": hidden_size: must be an integer, got \"64\"",
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": \"64\"}");
        assertError(p -> p + ": vocab_size: must be an integer, got 1.0E12",
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
                        + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 1e12}");
    }

    @Test
    void impossibleValues() throws IOException {
        assertError(p -> p + ": model config: invalid kv head count (must divide 4): 3",
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
                        + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 3,"
                        + " \"vocab_size\": 100}");
    }

    @Test
    void unsupportedArchitectureAndRope() throws IOException {
        assertError(p -> p + ": architectures: 'GPT2LMHeadModel' is not supported (supported: LlamaForCausalLM,"
                + " MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)", "{\"architectures\": [\"GPT2LMHeadModel\"]}");
        assertError(p -> p + ": rope_scaling: rope type 'yarn' is not supported (only llama3)",
                "{\"architectures\": [\"Qwen2ForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
                        + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100,"
                        + " \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}}");
        assertError(p -> p + ": hidden_act: 'gelu' is not supported (only silu)",
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_act\": \"gelu\"}");
    }

    private void assertError(java.util.function.Function<Path, String> expected, String json) throws IOException {
        Path p = write(json);
        JQuantException e = assertThrows(JQuantException.class, () -> HfConfig.read(p));
        assertEquals(expected.apply(p), e.getMessage());
    }

    private ModelConfig read(String json) throws IOException {
        return HfConfig.read(write(json));
    }

    private Path write(String json) throws IOException {
        Path p = Files.createTempFile(dir, "config", ".json");
        Files.writeString(p, json);
        return p;
    }
}
