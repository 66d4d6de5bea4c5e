package dev.jquant.quantize.recipe;

import dev.jquant.JQuantException;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;

import java.util.ArrayList;
import java.util.List;

/** The built-in recipes, named as {@code jquant quantize --preset NAME} knows them. */
public final class Presets {
    public static final List<String> NAMES = List.of("w8a8-smoothquant", "w4a16-gptq-g128", "w4a16-awq-g128", "nf4",
            "hqq-int4-g64", "q4_k_m");
    /** The presets that name a layer-wise method (run by the layer-wise pipeline, not by {@link RecipeQuantizer#apply}). */
    public static final List<String> LAYERWISE = List.of("w4a16-gptq-g128", "w4a16-awq-g128");
    /** The linear weights of the decoder blocks. */
    static final String BLOCK_LINEARS = "^blk\\.\\d+\\.(attn_(q|k|v|output)|ffn_(gate|up|down))\\.weight$";

    private Presets() {
    }

    /** The preset for a model: q4_k_m's rules depend on the layer count; the others do not. */
    public static Recipe preset(String name, ModelConfig config) {
        return switch (name) {
            case "w8a8-smoothquant" -> new Recipe(name, List.of(Recipe.Rule.of(BLOCK_LINEARS, "smoothquant", "INT8_ROW_SYM_F32")));
            case "w4a16-gptq-g128" -> new Recipe(name, List.of(
                    new Recipe.Rule(BLOCK_LINEARS, "gptq", null, 4, 128, true, null, false)));
            case "w4a16-awq-g128" -> new Recipe(name, List.of(
                    new Recipe.Rule(BLOCK_LINEARS, "awq", null, 4, 128, false, null, false)));
            case "nf4" -> new Recipe(name, List.of(Recipe.Rule.of(BLOCK_LINEARS, "rtn", "NF4")));
            case "hqq-int4-g64" -> new Recipe(name, List.of(Recipe.Rule.of(BLOCK_LINEARS, "hqq", "INT4_G64_ASYM_F16")));
            case "q4_k_m" -> q4KM(config.layers());
            default -> throw new JQuantException("unknown preset '" + name + "'; known: " + String.join(", ", NAMES));
        };
    }

    /**
     * llama.cpp's Q4_K_M mix (llama_tensor_get_type for Llama-family, non-MoE models): Q4_K
     * everywhere, Q6_K for the output and for attn_v and ffn_down in the layers
     * {@link #useMoreBits} picks. Where rows do not fit 256-element blocks the same fallbacks as
     * llama-quantize apply when the recipe is used (Q4_K → Q5_0, Q6_K → Q8_0, else F16).
     */
    static Recipe q4KM(int layers) {
        List<Recipe.Rule> rules = new ArrayList<>();
        rules.add(Recipe.Rule.of("^" + quote(TensorNames.OUTPUT) + "$", "rtn", "Q6_K"));
        for (int l = 0; l < layers; l++) {
            if (useMoreBits(l, layers)) {
                rules.add(Recipe.Rule.of("^blk\\." + l + "\\.(attn_v|ffn_down)\\.weight$", "rtn", "Q6_K"));
            }
        }
        rules.add(Recipe.Rule.of("^" + quote(TensorNames.TOKEN_EMBEDDING) + "$", "rtn", "Q4_K"));
        rules.add(Recipe.Rule.of(BLOCK_LINEARS, "rtn", "Q4_K"));
        return new Recipe("q4_k_m", rules);
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third in between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    private static String quote(String name) {
        return name.replace(".", "\\.");
    }
}
