package dev.jquant.io.hf;

import dev.jquant.generate.Sampler;
import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.io.llama2c.Llama2cLoader;
import dev.jquant.io.safetensors.SafetensorsFile;
import dev.jquant.io.safetensors.SafetensorsShards;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.SyntheticModels;
import dev.jquant.model.TensorNames;
import dev.jquant.testing.Logits;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfCheckpointTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 2, 300};

    @TempDir
    Path dir;

    /** stories260K written as an HF directory (q/k back in half-split order) runs exactly like the GGUF. */
    @Test
    void stories260kAsHfGivesTheGgufLogits() {
        Path hf = dir.resolve("stories-hf");
        try (Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            HfCheckpointWriter.write(gguf, hf, F32.INSTANCE);
            try (Checkpoint h = JQuant.load(hf)) {
                assertEquals("safetensors", h.sourceFormat());
                assertEquals(RopeStyle.HALF_SPLIT, h.config().ropeStyle());
                assertEquals(1, h.metadata().get("bos_token_id"));
                assertEquals(List.of(2), h.metadata().get("eos_token_ids"));
                double worst = Logits.assertClose(Logits.prefill(gguf, PROMPT), Logits.prefill(h, PROMPT), 1e-5);
                assertTrue(worst < 1e-5, "worst " + worst);
                assertTrue(java.nio.file.Files.exists(hf.resolve("tokenizer.json")));
                var greedy = dev.jquant.generate.GenerationOptions.greedy(200);
                String fromGguf = new dev.jquant.generate.Generator(new dev.jquant.model.Transformer(gguf), gguf.tokenizer())
                        .generate("Once upon a time", greedy, null).text();
                String fromHf = new dev.jquant.generate.Generator(new dev.jquant.model.Transformer(h), h.tokenizer())
                        .generate("Once upon a time", greedy, null).text();
                assertEquals(fromGguf, fromHf);
                assertTrue(fromHf.startsWith(", there was a little girl named Lily."), fromHf);
            }
        }
    }

    /** Hugging Face q row j*half+i of a head is the adjacent-pair row 2i+j; k likewise; other tensors unchanged. */
    @Test
    void qAndKRowsAreUnpermuted() {
        Path hf = dir.resolve("stories-hf");
        try (Checkpoint bin = Llama2cLoader.load(SharedData.file("stories260K/stories260K.bin"))) {
            HfCheckpointWriter.write(bin, hf, F32.INSTANCE);
            try (SafetensorsFile st = SafetensorsFile.open(hf.resolve("model.safetensors"))) {
                assertEquals(Map.of("format", "pt"), st.metadata());
                assertFalse(st.contains("lm_head.weight"), "tied: transformers reuses embed_tokens");
                int hd = 8;
                float[] q = bin.tensor(TensorNames.block(3, TensorNames.ATTN_Q)).toFloats();
                float[] hq = st.tensor("model.layers.3.self_attn.q_proj.weight").toFloats();
                float[] k = bin.tensor(TensorNames.block(3, TensorNames.ATTN_K)).toFloats();
                float[] hk = st.tensor("model.layers.3.self_attn.k_proj.weight").toFloats();
                for (int h = 0; h < 8; h++) {
                    for (int i = 0; i < hd / 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            int hfRow = h * hd + j * hd / 2 + i;
                            int row = h * hd + 2 * i + j;
                            assertArrayEquals(java.util.Arrays.copyOfRange(q, row * 64, row * 64 + 64),
                                    java.util.Arrays.copyOfRange(hq, hfRow * 64, hfRow * 64 + 64));
                            if (h < 4) {
                                assertArrayEquals(java.util.Arrays.copyOfRange(k, row * 64, row * 64 + 64),
                                        java.util.Arrays.copyOfRange(hk, hfRow * 64, hfRow * 64 + 64));
                            }
                        }
                    }
                }
                assertArrayEquals(bin.tensor(TensorNames.block(3, TensorNames.ATTN_V)).toFloats(),
                        st.tensor("model.layers.3.self_attn.v_proj.weight").toFloats());
                assertArrayEquals(bin.tensor(TensorNames.block(0, TensorNames.FFN_GATE)).toFloats(),
                        st.tensor("model.layers.0.mlp.gate_proj.weight").toFloats());
            }
            try (Checkpoint h = JQuant.load(hf)) {
                assertTrue(h.config().tiedOutput());
                Logits.assertClose(Logits.prefill(bin, PROMPT), Logits.prefill(h, PROMPT), 1e-5);
            }
        }
    }

    @Test
    void shardsAboveTheLimitWithAnIndex() throws IOException {
        Path hf = dir.resolve("sharded");
        try (Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            HfCheckpointWriter.write(gguf, hf, F32.INSTANCE, 300_000);
            try (var files = Files.list(hf)) {
                List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
                // 1,171,200 bytes of whole tensors packed greedily into shards of at most 300,000
                assertEquals(List.of("config.json", "generation_config.json", "model-00001-of-00005.safetensors",
                        "model-00002-of-00005.safetensors", "model-00003-of-00005.safetensors",
                        "model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors",
                        "model.safetensors.index.json", "tokenizer.json"), names);
            }
            for (int i = 1; i <= 5; i++) {
                long size = dir.resolve("sharded/model-0000" + i + "-of-00005.safetensors").toFile().length();
                assertTrue(size < 300_000 + 4096, "shard " + i + " has " + size + " bytes");
            }
            Map<?, ?> index = HfConfig.JSON.convertValue(HfConfig.readJson(hf.resolve(SafetensorsShards.INDEX_FILE)),
                    Map.class);
            assertEquals(Map.of("total_size", 1171200), index.get("metadata"), "292800 floats");
            try (Checkpoint h = JQuant.load(hf)) {
                Logits.assertClose(Logits.prefill(gguf, PROMPT), Logits.prefill(h, PROMPT), 1e-5);
            }
            // rewriting unsharded removes the index, which would otherwise win over model.safetensors
            HfCheckpointWriter.write(gguf, hf, F32.INSTANCE);
            assertFalse(Files.exists(hf.resolve(SafetensorsShards.INDEX_FILE)));
            try (Checkpoint h = JQuant.load(hf)) {
                assertEquals(48, h.tensors().size());
            }
        }
    }

    @Test
    void halfPrecisionOutputsRoundEachWeight() {
        try (Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            for (var dtype : List.of(F16.INSTANCE, BF16.INSTANCE)) {
                Path hf = dir.resolve(dtype.name());
                HfCheckpointWriter.write(gguf, hf, dtype);
                try (Checkpoint h = JQuant.load(hf)) {
                    String name = TensorNames.block(2, TensorNames.FFN_DOWN);
                    assertEquals(dtype, h.tensor(name).format());
                    float[] original = gguf.tensor(name).toFloats();
                    float[] stored = h.tensor(name).toFloats();
                    for (int i = 0; i < original.length; i++) {
                        float rounded = dtype == F16.INSTANCE ? Float.float16ToFloat(Float.floatToFloat16(original[i]))
                                : BF16.toFloat(BF16.fromFloat(original[i]));
                        assertEquals(rounded, stored[i], name + "[" + i + "]");
                    }
                    float[] a = Logits.prefill(gguf, PROMPT)[PROMPT.length - 1];
                    float[] b = Logits.prefill(h, PROMPT)[PROMPT.length - 1];
                    assertEquals(Sampler.argmax(a), Sampler.argmax(b), dtype.name());
                }
                assertTrue(HfConfig.readJson(hf.resolve("config.json")).get("torch_dtype").asText()
                        .equals(dtype == F16.INSTANCE ? "float16" : "bfloat16"));
            }
        }
    }

    /** Any format the engine reads converts: llama.cpp's Q4_K_M mix becomes its dequantized F32 weights. */
    @Test
    void quantizedGgufDequantizesIntoHf() {
        Path hf = dir.resolve("q4");
        try (Checkpoint q = JQuant.load(SharedData.file("stories260K/llama.cpp-quantized/s260k-Q4_K_M.gguf"))) {
            HfCheckpointWriter.write(q, hf, F32.INSTANCE);
            try (Checkpoint h = JQuant.load(hf)) {
                String name = TensorNames.block(1, TensorNames.FFN_UP);
                assertFalse(q.tensor(name).format() instanceof F32, "the source is quantized");
                assertArrayEquals(q.tensor(name).toFloats(), h.tensor(name).toFloats());
                float[][] a = Logits.prefill(q, PROMPT);
                float[][] b = Logits.prefill(h, PROMPT);
                for (int t = 0; t < PROMPT.length; t++) {
                    assertEquals(Sampler.argmax(a[t]), Sampler.argmax(b[t]), "position " + t);
                }
                Logits.assertClose(a, b, 1e-3); // same weights; only the order of float sums differs
            }
        }
    }

    @Test
    void readsGenerationConfigAndChatTemplate() throws IOException {
        Path hf = dir.resolve("m");
        SyntheticModels.writeHf(SyntheticModels.preset("qwen2"), 3, hf);
        Files.writeString(hf.resolve("generation_config.json"),
                "{\"bos_token_id\": 1, \"eos_token_id\": [2, 7], \"temperature\": 0.7, \"top_p\": 0.8}");
        Files.writeString(hf.resolve("tokenizer_config.json"),
                "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                        + " {\"name\": \"default\", \"template\": \"{{ messages }}\"}], \"eos_token\": \"</s>\"}");
        try (Checkpoint c = JQuant.load(hf)) {
            assertEquals(List.of(2, 7), c.metadata().get("eos_token_ids"));
            assertEquals("{{ messages }}", c.chatTemplate());
            assertEquals(0.7, ((Map<?, ?>) c.metadata().get("hf.generation_config")).get("temperature"));
            assertNull(c.tokenizer(), "no tokenizer files");
        }
        Files.writeString(hf.resolve("chat_template.jinja"), "{% for m in messages %}{{ m }}{% endfor %}");
        Files.writeString(hf.resolve("special_tokens_map.json"), "{\"eos_token\": \"</s>\"}");
        try (Checkpoint c = JQuant.load(hf)) {
            assertEquals("{% for m in messages %}{{ m }}{% endfor %}", c.chatTemplate());
            // written again (as BF16): sampling defaults, template and tokenizer files travel along
            Path copy = dir.resolve("copy");
            HfCheckpointWriter.write(c, copy, BF16.INSTANCE);
            assertEquals("{\"eos_token\": \"</s>\"}", Files.readString(copy.resolve("special_tokens_map.json")));
            assertEquals(0.8, HfConfig.readJson(copy.resolve("generation_config.json")).get("top_p").asDouble());
            assertEquals("</s>", HfConfig.readJson(copy.resolve("tokenizer_config.json")).get("eos_token").asText());
            try (Checkpoint d = JQuant.load(copy)) {
                assertEquals(c.chatTemplate(), d.chatTemplate());
                assertEquals(List.of(2, 7), d.metadata().get("eos_token_ids"));
            }
        }
    }

    @Test
    void tiedModelIgnoresAStoredLmHead() {
        Path hf = dir.resolve("m");
        ModelConfig qwen2 = SyntheticModels.preset("qwen2");
        try (Checkpoint c = SyntheticModels.random(qwen2, 5)) {
            var w = new dev.jquant.io.safetensors.SafetensorsWriter().putMetadata("format", "pt");
            for (var e : c.tensors().entrySet()) {
                w.add(HfTensorNames.toHf(e.getKey()), e.getValue());
            }
            w.add("lm_head.weight", c.tensor(TensorNames.TOKEN_EMBEDDING));
            w.add("model.layers.0.self_attn.rotary_emb.inv_freq", c.tensor(TensorNames.OUTPUT_NORM));
            writeDir(hf, w, HfConfig.toJson(qwen2, F32.INSTANCE, null, null));
            try (Checkpoint h = JQuant.load(hf)) {
                assertFalse(h.tensors().containsKey(TensorNames.OUTPUT));
                assertEquals(c.tensors().size(), h.tensors().size());
            }
        }
    }

    // ---- bad directories ----

    @Test
    void unknownTensor() {
        assertLoadError("model.layers.0.self_attn.o_proj.bias",
                hf -> hf + ": tensor model.layers.0.self_attn.o_proj.bias is not part of a qwen2 model as jquant knows it");
    }

    @Test
    void configDisagreesWithTheWeights() {
        Path hf = dir.resolve("m");
        ModelConfig qwen2 = SyntheticModels.preset("qwen2");
        SyntheticModels.writeHf(qwen2, 1, hf);
        ModelConfig wider = new ModelConfig("qwen2", 64, 128, 2, 4, 2, 16, 300, 128, 1e-6f, 1e6f,
                RopeStyle.HALF_SPLIT, null, true, false, true);
        writeConfig(hf, HfConfig.toJson(wider, F32.INSTANCE, null, null));
        JQuantException e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertEquals(hf + ": tensor blk.0.ffn_gate.weight has shape [96, 64] but the config calls for [128, 64]",
                e.getMessage());

        ModelConfig deeper = new ModelConfig("qwen2", 64, 96, 3, 4, 2, 16, 300, 128, 1e-6f, 1e6f,
                RopeStyle.HALF_SPLIT, null, true, false, true);
        writeConfig(hf, HfConfig.toJson(deeper, F32.INSTANCE, null, null));
        e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertEquals(hf + ": tensor blk.2.attn_norm.weight is missing", e.getMessage());
    }

    @Test
    void badConfigJson() throws IOException {
        Path hf = dir.resolve("m");
        SyntheticModels.writeHf(SyntheticModels.preset("qwen3"), 1, hf);
        Files.writeString(hf.resolve("config.json"), "{\"architectures\": [\"Qwen3ForCausalLM\"");
        JQuantException e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertTrue(e.getMessage().startsWith(hf.resolve("config.json") + ": not valid JSON: Unexpected end-of-input"),
                e.getMessage());
    }

    @Test
    void missingShard() throws IOException {
        Path hf = dir.resolve("m");
        try (Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            HfCheckpointWriter.write(gguf, hf, F32.INSTANCE, 300_000);
        }
        Files.delete(hf.resolve("model-00003-of-00005.safetensors"));
        JQuantException e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertTrue(e.getMessage().startsWith(hf.resolve(SafetensorsShards.INDEX_FILE)
                + ": shard model-00003-of-00005.safetensors (holding tensor "), e.getMessage());
        assertTrue(e.getMessage().endsWith(") is missing"), e.getMessage());
    }

    @Test
    void unsupportedDtypeIsNamed() {
        Path hf = dir.resolve("m");
        ModelConfig qwen3 = SyntheticModels.preset("qwen3");
        try (Checkpoint c = SyntheticModels.random(qwen3, 5)) {
            var w = new dev.jquant.io.safetensors.SafetensorsWriter();
            for (var e : c.tensors().entrySet()) {
                if (e.getKey().equals(TensorNames.OUTPUT_NORM)) {
                    w.addRaw("model.norm.weight", dev.jquant.io.safetensors.SafetensorsDtype.F64, new long[]{24},
                            e.getValue().data());
                } else {
                    w.add(HfTensorNames.toHf(e.getKey()), e.getValue());
                }
            }
            writeDir(hf, w, HfConfig.toJson(qwen3, F32.INSTANCE, null, null));
        }
        JQuantException e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertEquals(hf.resolve("model.safetensors")
                + ": unsupported dtype F64 for tensor model.norm.weight (jquant reads F32, F16 and BF16)", e.getMessage());
    }

    @Test
    void writerRefusesWhatHfCannotHold() {
        // llama.cpp bakes Llama 3 scaling into rope_freqs.weight; config.json has no way to say that
        Path gguf = dir.resolve("llama3.gguf");
        SyntheticModels.writeGguf(SyntheticModels.preset("llama3"), 1, gguf);
        try (Checkpoint c = JQuant.load(gguf)) {
            JQuantException e = assertThrows(JQuantException.class,
                    () -> HfCheckpointWriter.write(c, dir.resolve("out"), F32.INSTANCE));
            assertEquals(gguf + ": tensor rope_freqs.weight has no Hugging Face equivalent (RoPE frequency factors"
                    + " without a rope scaling config)", e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("out/config.json")));
        ModelConfig noBias = new ModelConfig("qwen2", 64, 96, 2, 4, 2, 16, 300, 128, 1e-6f, 1e6f,
                RopeStyle.HALF_SPLIT, null, false, false, true);
        try (Checkpoint c = SyntheticModels.random(noBias, 1)) {
            JQuantException e = assertThrows(JQuantException.class,
                    () -> HfCheckpointWriter.write(c, dir.resolve("out2"), F32.INSTANCE));
            assertEquals("Qwen2ForCausalLM cannot express the absence of attention biases", e.getMessage());
        }
    }

    private void assertLoadError(String extraTensor, java.util.function.Function<Path, String> expected) {
        Path hf = dir.resolve("m");
        ModelConfig qwen2 = SyntheticModels.preset("qwen2");
        try (Checkpoint c = SyntheticModels.random(qwen2, 5)) {
            var w = new dev.jquant.io.safetensors.SafetensorsWriter();
            for (var e : c.tensors().entrySet()) {
                w.add(HfTensorNames.toHf(e.getKey()), e.getValue());
            }
            w.add(extraTensor, c.tensor(TensorNames.OUTPUT_NORM));
            writeDir(hf, w, HfConfig.toJson(qwen2, F32.INSTANCE, null, null));
        }
        JQuantException e = assertThrows(JQuantException.class, () -> JQuant.load(hf));
        assertEquals(expected.apply(hf), e.getMessage());
    }

    private static void writeDir(Path hf, dev.jquant.io.safetensors.SafetensorsWriter w, Map<String, Object> config) {
        try {
            Files.createDirectories(hf);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        w.write(hf.resolve("model.safetensors"));
        writeConfig(hf, config);
    }

    private static void writeConfig(Path hf, Map<String, Object> config) {
        try {
            Files.writeString(hf.resolve("config.json"), HfConfig.JSON.writeValueAsString(config));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

}
