package dev.jquant.io.peft;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.io.safetensors.SafetensorsFile;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.KvCacheType;
import dev.jquant.model.LoraAdapter;
import dev.jquant.model.LoraAdapterTest;
import dev.jquant.model.LoraTarget;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopePermutation;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.SyntheticModels;
import dev.jquant.model.Transformer;
import dev.jquant.testing.Logits;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT adapter directories: the round trip, the q/k row order, and the same adapter on a GGUF model and its HF directory. */
class PeftAdapterFilesTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryFactorAndWritesPeftNamesInHfRowOrder() throws Exception {
        ModelConfig c = TestModels.config("llama"); // adjacent-pair RoPE, as llama.cpp stores Llama
        LoraAdapter adapter = LoraAdapterTest.randomAdapter(c, 3, EnumSet.allOf(LoraTarget.class), 11);
        Path out = dir.resolve("adapter");
        PeftAdapterFiles.write(adapter, c, out, "base.gguf");
        LoraAdapter back = PeftAdapterFiles.read(out, c);
        assertEquals(adapter.rank(), back.rank());
        assertEquals(adapter.alpha(), back.alpha());
        assertEquals(adapter.dropout(), back.dropout(), 1e-7);
        assertEquals(adapter.targets(), back.targets());
        for (var e : adapter.factors().entrySet()) {
            assertArrayEquals(e.getValue().a(), back.factors().get(e.getKey()).a(), e.getKey());
            assertArrayEquals(e.getValue().b(), back.factors().get(e.getKey()).b(), e.getKey());
        }
        String config = Files.readString(out.resolve(PeftAdapterFiles.CONFIG));
        for (String key : new String[] {"\"peft_type\" : \"LORA\"", "\"task_type\" : \"CAUSAL_LM\"", "\"r\" : 3",
                "\"lora_alpha\" : 6.0", "\"bias\" : \"none\"", "\"fan_in_fan_out\" : false", "\"q_proj\"", "\"down_proj\"",
                "\"base_model_name_or_path\" : \"base.gguf\""}) {
            assertTrue(config.contains(key), key + " in " + config);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve(PeftAdapterFiles.WEIGHTS))) {
            assertEquals(2 * 7 * c.layers(), f.entries().size());
            String prefix = "base_model.model.model.layers.1.";
            assertArrayEquals(adapter.factors().get("blk.1.ffn_up.weight").a(),
                    f.tensor(prefix + "mlp.up_proj.lora_A.weight").toFloats());
            assertArrayEquals(new long[] {c.ffnDim(), 3}, f.tensor(prefix + "mlp.up_proj.lora_B.weight").shape());
            // q's lora_B: Hugging Face row i is GGUF row halfSplitFromAdjacent[i]; v's rows stay put
            float[] hfQ = f.tensor(prefix + "self_attn.q_proj.lora_B.weight").toFloats();
            float[] ggufQ = adapter.factors().get("blk.1.attn_q.weight").b();
            int[] order = RopePermutation.halfSplitFromAdjacent(c.heads(), c.headDim());
            boolean moved = false;
            for (int i = 0; i < order.length; i++) {
                for (int r = 0; r < 3; r++) {
                    assertEquals(ggufQ[order[i] * 3 + r], hfQ[i * 3 + r], "q row " + i);
                }
                moved |= order[i] != i;
            }
            assertTrue(moved, "the permutation moves rows");
            assertArrayEquals(adapter.factors().get("blk.1.attn_v.weight").b(),
                    f.tensor(prefix + "self_attn.v_proj.lora_B.weight").toFloats());
        }
    }

    @Test
    void theSameAdapterOnAGgufModelAndItsHuggingFaceDirectoryGivesTheSameLogits() {
        ModelConfig preset = SyntheticModels.preset("mistral");
        Path gguf = dir.resolve("m.gguf");
        Path hf = dir.resolve("hf");
        SyntheticModels.writeGguf(preset, 5, gguf);
        SyntheticModels.writeHf(preset, 5, hf);
        Path adapterDir = dir.resolve("adapter");
        try (Checkpoint g = JQuant.load(gguf); Checkpoint h = JQuant.load(hf)) {
            assertEquals(RopeStyle.ADJACENT_PAIRS, g.config().ropeStyle());
            assertEquals(RopeStyle.HALF_SPLIT, h.config().ropeStyle());
            // an adapter made in GGUF row order, saved in PEFT's
            PeftAdapterFiles.write(LoraAdapterTest.randomAdapter(g.config(), 4, EnumSet.allOf(LoraTarget.class), 3),
                    g.config(), adapterDir, "m.gguf");
            int[] tokens = new Random(2).ints(7, 3, g.config().vocabSize()).toArray();
            float[][] onGguf = new Transformer(g, KvCacheType.F32, PeftAdapterFiles.read(adapterDir, g.config()))
                    .newSession(16).prefill(tokens);
            float[][] onHf = new Transformer(h, KvCacheType.F32, PeftAdapterFiles.read(adapterDir, h.config()))
                    .newSession(16).prefill(tokens);
            float[][] base = Logits.prefill(g, tokens);
            double moved = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < base[t].length; v++) {
                    moved = Math.max(moved, Math.abs(base[t][v] - onGguf[t][v]));
                }
            }
            assertTrue(moved > 0.1, "the adapter changes the logits (by " + moved + ")");
            Logits.assertClose(onGguf, onHf, 1e-4);
        }
    }

    @Test
    void badAdaptersAreRefusedByName() throws Exception {
        ModelConfig c = TestModels.config("llama");
        Path out = dir.resolve("adapter");
        PeftAdapterFiles.write(LoraAdapterTest.randomAdapter(c, 2, EnumSet.of(LoraTarget.Q, LoraTarget.V), 1), c, out, "x");

        assertMessage(() -> PeftAdapterFiles.read(dir.resolve("nowhere"), c), "no such adapter directory");
        assertMessage(() -> PeftAdapterFiles.read(out, TestModels.config("qwen3")), "has shape");
        String config = Files.readString(out.resolve(PeftAdapterFiles.CONFIG));
        Files.writeString(out.resolve(PeftAdapterFiles.CONFIG), config.replace("\"v_proj\"", "\"w_proj\""));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "unknown LoRA target module 'w_proj'");
        Files.writeString(out.resolve(PeftAdapterFiles.CONFIG), config.replace("\"r\" : 2", "\"r\" : 0"));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "r must be a positive integer");
        Files.writeString(out.resolve(PeftAdapterFiles.CONFIG), config.replace("\"r\" : 2", "\"r\" : 3"));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "expected [3, " + c.dim() + "]");
        Files.writeString(out.resolve(PeftAdapterFiles.CONFIG), config.replace("\"v_proj\"", "\"k_proj\""));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "which target_modules does not list");
        Files.writeString(out.resolve(PeftAdapterFiles.CONFIG), config);
        Files.delete(out.resolve(PeftAdapterFiles.WEIGHTS));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "adapter_model.safetensors is missing");
        Files.delete(out.resolve(PeftAdapterFiles.CONFIG));
        assertMessage(() -> PeftAdapterFiles.read(out, c), "adapter_config.json is missing");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        JQuantException e = assertThrows(JQuantException.class, call);
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
}
