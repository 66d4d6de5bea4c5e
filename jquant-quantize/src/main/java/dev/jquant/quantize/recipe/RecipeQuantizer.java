package dev.jquant.quantize.recipe;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.BlockFallback;
import dev.jquant.quantize.mixed.Setting;
import dev.jquant.quantize.w8a8.Int8Methods;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a recipe's per-tensor rules (methods {@code rtn} and {@code hqq}, which need no
 * calibration) to a checkpoint. Recipes naming a calibrated whole-model method (w8a8,
 * smoothquant, int8-outlier) run through {@link Int8Methods}; recipes with layer-wise rules (gptq,
 * awq by bits) run in the layer-wise pipeline ({@link LayerwiseRecipe}).
 */
public final class RecipeQuantizer {
    private static final Set<String> PER_TENSOR = Set.of("rtn", "hqq", "gptq");
    private static final Set<String> LAYERWISE = Set.of("gptq", "awq");

    private RecipeQuantizer() {
    }

    /** The whole-model int8 method a recipe asks for, or null when all its methods are per-tensor. */
    public static String wholeModelMethod(Recipe recipe) {
        String found = null;
        for (Recipe.Rule r : recipe.rules()) {
            if (r.keep() || PER_TENSOR.contains(r.method()) || LAYERWISE.contains(r.method())) {
                continue;
            }
            if (!Int8Methods.NAMES.contains(r.method())) {
                throw new JQuantException("recipe " + recipe.name() + ": method '" + r.method()
                        + "' is not available to recipes in this build (per-tensor: rtn, hqq; whole-model: "
                        + String.join(", ", Int8Methods.NAMES) + ")");
            }
            if (found != null && !found.equals(r.method())) {
                throw new JQuantException("recipe " + recipe.name() + ": a recipe can use one whole-model method, not "
                        + found + " and " + r.method());
            }
            found = r.method();
        }
        return found;
    }

    /** Whether some rule is a per-tensor gptq rule, which needs calibration Hessians. */
    public static boolean needsHessians(Recipe recipe) {
        return recipe.rules().stream().anyMatch(r -> !r.keep() && "gptq".equals(r.method()) && r.format() != null);
    }

    /** The quantized tensors (only those a rule changes); {@code hessians} only for per-tensor gptq rules. */
    public static Map<String, Tensor> apply(Checkpoint model, Recipe recipe, Setting.Hessians hessians, Arena arena) {
        if (LayerwiseRecipe.of(recipe).isPresent()) {
            throw new JQuantException("recipe " + recipe.name() + " uses " + LayerwiseRecipe.of(recipe).get().method()
                    + ", which runs in the layer-wise pipeline (LayerwiseRecipe)");
        }
        if (wholeModelMethod(recipe) != null) {
            throw new JQuantException("recipe " + recipe.name() + " uses " + wholeModelMethod(recipe)
                    + ", which needs calibration: run it through Int8Methods");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Tensor t : model.tensors().values()) {
            recipe.ruleFor(t.name()).filter(r -> !r.keep()).ifPresent(r -> {
                if (t.rank() < 2) {
                    throw new JQuantException("recipe " + recipe.name() + ": rule '" + r.pattern() + "' matches the 1-D tensor "
                            + t.name() + "; only matrices are quantized");
                }
                out.put(t.name(), setting(r, t.cols()).apply(t, arena, hessians));
            });
        }
        return out;
    }

    /** The method and format a rule means for rows of {@code columns}, with llama.cpp's block fallbacks. */
    public static Setting setting(Recipe.Rule r, int columns) {
        if (r.observer() != null && !r.observer().equals("minmax")) {
            throw new JQuantException("recipe: observer '" + r.observer() + "' is not supported by " + r.method()
                    + " (it uses minmax ranges)");
        }
        Format f;
        if (r.format() != null) {
            f = Formats.byName(r.format());
        } else {
            boolean sym = r.symmetric() == null || r.symmetric();
            f = new IntFormat(r.bits(), r.group() == null ? 128 : r.group(), sym, ScaleType.F16);
        }
        return new Setting(r.method(), BlockFallback.forColumns(f, columns));
    }
}
