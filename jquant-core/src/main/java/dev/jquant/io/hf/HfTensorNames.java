package dev.jquant.io.hf;

import dev.jquant.model.TensorNames;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face (transformers Llama/Mistral/Qwen2/Qwen3) tensor names and their GGUF equivalents,
 * both ways. Shapes need no change: both store a linear layer as {@code [out, in]}.
 */
public final class HfTensorNames {
    private static final Map<String, String> GLOBAL = Map.of(
            "model.embed_tokens.weight", TensorNames.TOKEN_EMBEDDING,
            "model.norm.weight", TensorNames.OUTPUT_NORM,
            "lm_head.weight", TensorNames.OUTPUT);
    private static final Map<String, String> LAYER = Map.ofEntries(
            Map.entry("input_layernorm.weight", TensorNames.ATTN_NORM),
            Map.entry("self_attn.q_proj.weight", TensorNames.ATTN_Q),
            Map.entry("self_attn.k_proj.weight", TensorNames.ATTN_K),
            Map.entry("self_attn.v_proj.weight", TensorNames.ATTN_V),
            Map.entry("self_attn.q_proj.bias", TensorNames.ATTN_Q_BIAS),
            Map.entry("self_attn.k_proj.bias", TensorNames.ATTN_K_BIAS),
            Map.entry("self_attn.v_proj.bias", TensorNames.ATTN_V_BIAS),
            Map.entry("self_attn.q_norm.weight", TensorNames.ATTN_Q_NORM),
            Map.entry("self_attn.k_norm.weight", TensorNames.ATTN_K_NORM),
            Map.entry("self_attn.o_proj.weight", TensorNames.ATTN_OUTPUT),
            Map.entry("post_attention_layernorm.weight", TensorNames.FFN_NORM),
            Map.entry("mlp.gate_proj.weight", TensorNames.FFN_GATE),
            Map.entry("mlp.up_proj.weight", TensorNames.FFN_UP),
            Map.entry("mlp.down_proj.weight", TensorNames.FFN_DOWN));
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d{1,5})\\.(.+)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d{1,5})\\.(.+)");

    private HfTensorNames() {
    }

    /** The GGUF name for a Hugging Face tensor name, or null when the model has no such tensor. */
    public static String toGguf(String hfName) {
        String global = GLOBAL.get(hfName);
        if (global != null) {
            return global;
        }
        Matcher m = HF_LAYER.matcher(hfName);
        if (!m.matches()) {
            return null;
        }
        String suffix = LAYER.get(m.group(2));
        return suffix == null ? null : TensorNames.block(Integer.parseInt(m.group(1)), suffix);
    }

    /** The Hugging Face name for a GGUF tensor name, or null when transformers has no such tensor. */
    public static String toHf(String ggufName) {
        for (var e : GLOBAL.entrySet()) {
            if (e.getValue().equals(ggufName)) {
                return e.getKey();
            }
        }
        Matcher m = GGUF_LAYER.matcher(ggufName);
        if (!m.matches()) {
            return null;
        }
        for (var e : LAYER.entrySet()) {
            if (e.getValue().equals(m.group(2))) {
                return "model.layers." + Integer.parseInt(m.group(1)) + "." + e.getKey();
            }
        }
        return null;
    }

    /** Buffers transformers may save that carry no weights (older Llama checkpoints store RoPE's inv_freq). */
    static boolean isIgnorable(String hfName) {
        return hfName.endsWith(".rotary_emb.inv_freq");
    }
}
