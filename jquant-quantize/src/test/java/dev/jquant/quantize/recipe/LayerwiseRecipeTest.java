package dev.jquant.quantize.recipe;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.LayerwiseQuantizer;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.quantize.rtn.Rtn;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recipes mixing a layer-wise method with rtn and keep rules, run by the layer-wise pipeline on stories260K. */
class LayerwiseRecipeTest {
    private static final String ATTENTION = "^blk\\.\\d+\\.attn_(q|k|v|output)\\.weight$";
    private static final String FFN = "^blk\\.\\d+\\.ffn_(gate|up|down)\\.weight$";
    private static Checkpoint model;
    private static CalibrationSet calibration;

    @BeforeAll
    static void load() throws Exception {
        model = JQuant.load(SharedData.stories260k());
        int[] tokens = model.tokenizer().encode(Files.readString(SharedData.file("tinystories/tinystories-dev.txt")),
                true, false);
        calibration = CalibrationSet.sample(tokens, 0, tokens.length / 2, 8, 128, 3, model.tokenizer().bos(), "dev");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static Recipe attentionBy(String method) {
        return new Recipe("mix", List.of(
                Recipe.Rule.keep("^blk\\.0\\."),
                new Recipe.Rule(ATTENTION, method, null, 4, 32, true, null, false),
                new Recipe.Rule(FFN, "rtn", null, 4, 32, true, null, false)));
    }

    private static LayerwiseQuantizer.Result run(Recipe recipe, Arena arena) {
        LayerwiseRecipe lr = LayerwiseRecipe.of(recipe).orElseThrow();
        GridPlan plan = lr.plan(model, List.of());
        return LayerwiseQuantizer.run(model, plan, lr.quantMethod(plan, MethodParams.NONE), calibration, arena, null);
    }

    @Test
    void gptqForAttentionRoundToNearestForTheFfnKeepForBlockZero() {
        try (Arena arena = Arena.ofShared()) {
            LayerwiseQuantizer.Result gptq = run(attentionBy("gptq"), arena);
            Map<String, Tensor> out = gptq.tensors().stream().collect(Collectors.toMap(Tensor::name, Function.identity()));
            IntFormat int4 = new IntFormat(4, 32, true, ScaleType.F16);
            GridPlan plan = LayerwiseRecipe.of(attentionBy("gptq")).orElseThrow().plan(model, List.of());
            for (int layer = 0; layer < model.config().layers(); layer++) {
                for (String s : GridPlan.LINEARS) {
                    String name = "blk." + layer + "." + s;
                    Tensor original = model.tensor(name);
                    Tensor t = out.get(name);
                    if (layer == 0) {
                        assertSame(original, t, name + " kept");
                        continue;
                    }
                    assertEquals(int4, t.format(), name);
                    float[] rtn = Rtn.quantize(name, original.toFloats(), original.rows(), original.cols(),
                            plan.entry(name).grid(), arena).toFloats();
                    if (s.startsWith("ffn")) {
                        assertArrayEquals(rtn, t.toFloats(), 0f, name + ": the rtn rule rounds the original weights");
                    } else {
                        assertTrue(!java.util.Arrays.equals(rtn, t.toFloats()), name + ": GPTQ moved some weights");
                    }
                }
            }
            assertSame(model.tensor("token_embd.weight"), out.get("token_embd.weight"), "no rule: kept");
            // the same grids with round-to-nearest everywhere: GPTQ's attention outputs move less
            Recipe allRtn = new Recipe("rtn", List.of(Recipe.Rule.keep("^blk\\.0\\."),
                    new Recipe.Rule(ATTENTION, "rtn", null, 4, 32, true, null, false),
                    new Recipe.Rule(FFN, "rtn", null, 4, 32, true, null, false)));
            double gptqError = attentionOutputError(gptq);
            double rtnError = attentionOutputError(rtnOnly(allRtn, arena));
            assertTrue(gptqError < 0.9 * rtnError, gptqError + " vs " + rtnError);
        }
    }

    /** A recipe without layer-wise rules through the same pipeline, as the RTN baseline. */
    private static LayerwiseQuantizer.Result rtnOnly(Recipe recipe, Arena arena) {
        Recipe withGptqOnNothing = new Recipe(recipe.name(), java.util.stream.Stream.concat(
                java.util.stream.Stream.of(new Recipe.Rule("^none$", "gptq", null, 4, 32, true, null, false)),
                recipe.rules().stream()).toList());
        return run(withGptqOnNothing, arena);
    }

    private static double attentionOutputError(LayerwiseQuantizer.Result r) {
        return r.errors().stream().filter(e -> e.name().matches(ATTENTION) && !e.name().startsWith("blk.0."))
                .mapToDouble(LayerwiseQuantizer.TensorError::outputError).sum();
    }

    @Test
    void awqBesideKeepRulesOnlyAndOneLayerwiseMethodPerRecipe() {
        Recipe awq = new Recipe("awq", List.of(Recipe.Rule.keep("ffn_down"),
                new Recipe.Rule("^blk\\.", "awq", null, 4, 32, false, null, false)));
        try (Arena arena = Arena.ofShared()) {
            LayerwiseQuantizer.Result r = run(awq, arena);
            Map<String, Tensor> out = r.tensors().stream().collect(Collectors.toMap(Tensor::name, Function.identity()));
            assertEquals(new IntFormat(4, 32, false, ScaleType.F16), out.get("blk.1.attn_q.weight").format());
            // a kept layer still carries AWQ's scales folded into it: stored as floats, not the original
            assertEquals("F32", out.get("blk.1.ffn_down.weight").format().name());
        }
        JQuantException rtnBesideAwq = assertThrows(JQuantException.class, () -> LayerwiseRecipe.of(attentionBy("awq"))
                .orElseThrow().plan(model, List.of()));
        assertTrue(rtnBesideAwq.getMessage().contains("use keep"), rtnBesideAwq.getMessage());
        Recipe both = new Recipe("both", List.of(new Recipe.Rule(ATTENTION, "gptq", null, 4, 32, true, null, false),
                new Recipe.Rule(FFN, "awq", null, 4, 32, false, null, false)));
        JQuantException two = assertThrows(JQuantException.class, () -> LayerwiseRecipe.of(both));
        assertTrue(two.getMessage().contains("one layer-wise method per recipe"), two.getMessage());
        Recipe hqq = new Recipe("hqq", List.of(new Recipe.Rule(ATTENTION, "gptq", null, 4, 32, true, null, false),
                Recipe.Rule.of(FFN, "hqq", "INT4_G32_ASYM_F16")));
        assertThrows(JQuantException.class, () -> LayerwiseRecipe.of(hqq));
        assertTrue(LayerwiseRecipe.of(Presets.preset("nf4", null)).isEmpty());
    }
}
