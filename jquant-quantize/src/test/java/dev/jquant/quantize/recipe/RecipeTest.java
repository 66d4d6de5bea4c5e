package dev.jquant.quantize.recipe;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.format.NF4;
import dev.jquant.model.Checkpoint;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecipeTest {

    @Test
    void yamlAndJsonRoundTrip(@TempDir Path dir) {
        Recipe r = new Recipe("mix", List.of(
                Recipe.Rule.of("^blk\\.0\\.attn_v\\.weight$", "hqq", "INT6_G64_ASYM_F16"),
                new Recipe.Rule("ffn_down", "rtn", null, 4, 64, false, "minmax", false),
                Recipe.Rule.keep("norm")));
        for (String file : List.of("r.yaml", "r.json")) {
            r.write(dir.resolve(file));
            assertEquals(r, Recipe.load(dir.resolve(file)), file);
        }
    }

    @Test
    void firstMatchingRuleWinsAndUnmatchedTensorsStay() throws Exception {
        Path dir = Files.createTempDirectory("recipe");
        Path yaml = dir.resolve("r.yaml");
        Files.writeString(yaml, """
                name: test
                rules:
                  - pattern: 'blk\\.0\\.ffn'
                    keep: true
                  - pattern: 'ffn_(gate|up)'
                    method: hqq
                    bits: 3
                    group: 32
                    symmetric: false
                  - pattern: 'attn_q'
                    method: rtn
                    format: NF4
                """);
        Recipe r = Recipe.load(yaml);
        try (Checkpoint model = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            Map<String, Tensor> q = RecipeQuantizer.apply(model, r, null, arena);
            assertFalse(q.containsKey("blk.0.ffn_up.weight"), "kept by the first rule");
            assertEquals(new IntFormat(3, 32, false, dev.jquant.format.ScaleType.F16), q.get("blk.1.ffn_up.weight").format());
            assertEquals(NF4.INSTANCE, q.get("blk.2.attn_q.weight").format());
            assertFalse(q.containsKey("blk.2.attn_k.weight"), "no rule");
            assertEquals(4 * 2 + 5, q.size());
        }
    }

    @Test
    void badRecipesAreOneLineErrors(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.yaml"), "rules:\n  - pattern: x\n    method: rtn\n    colour: red\n");
        Files.writeString(dir.resolve("b.yaml"), "rules:\n  - pattern: '('\n    keep: true\n");
        Files.writeString(dir.resolve("c.yaml"), "rules:\n  - pattern: x\n    method: rtn\n");
        Files.writeString(dir.resolve("d.json"), "{\"rules\": [{\"pattern\": \"x\", \"bits\": \"four\", \"method\": \"rtn\"}]}");
        Files.writeString(dir.resolve("e.yaml"), "just text");
        for (String f : List.of("a.yaml", "b.yaml", "c.yaml", "d.json", "e.yaml")) {
            JQuantException e = assertThrows(JQuantException.class, () -> Recipe.load(dir.resolve(f)), f);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertEquals("gptq", LayerwiseRecipe.of(Presets.preset("w4a16-gptq-g128", null)).orElseThrow().method());
        assertFalse(LayerwiseRecipe.of(Presets.preset("nf4", null)).isPresent());
        assertEquals("smoothquant", RecipeQuantizer.wholeModelMethod(Presets.preset("w8a8-smoothquant", null)));
    }

    /** The q4_k_m preset picks, tensor by tensor, the types llama-quantize Q4_K_M picked for stories260K. */
    @Test
    void q4KmPresetMatchesLlamaCppsFile() {
        try (Checkpoint model = JQuant.load(SharedData.stories260k());
             Checkpoint llama = JQuant.load(SharedData.file("stories260K/llama.cpp-quantized/s260k-Q4_K_M.gguf"));
             Arena arena = Arena.ofShared()) {
            Map<String, Tensor> q = RecipeQuantizer.apply(model, Presets.preset("q4_k_m", model.config()), null, arena);
            for (Tensor t : llama.tensors().values()) {
                Tensor ours = q.getOrDefault(t.name(), model.tensor(t.name()));
                assertEquals(t.format(), ours.format(), t.name());
            }
        }
    }

    @Test
    void useMoreBitsIsLlamaCpps() {
        // 32 layers: 0..3, 28..31 and every third from 6 on
        List<Integer> more = java.util.stream.IntStream.range(0, 32).filter(l -> Presets.useMoreBits(l, 32)).boxed().toList();
        assertEquals(List.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31), more);
        // stories260K's 5 layers: the last, and layer 2
        assertEquals(List.of(2, 4), java.util.stream.IntStream.range(0, 5).filter(l -> Presets.useMoreBits(l, 5)).boxed().toList());
    }
}
