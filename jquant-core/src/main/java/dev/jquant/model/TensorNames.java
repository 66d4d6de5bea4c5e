package dev.jquant.model;

/** The canonical (GGUF) tensor names every loader maps its checkpoint onto. */
public final class TensorNames {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";

    private TensorNames() {
    }

    /** {@code blk.<layer>.<suffix>}, e.g. {@code block(3, "attn_q.weight")}. */
    public static String block(int layer, String suffix) {
        return "blk." + layer + "." + suffix;
    }

    public static final String ATTN_NORM = "attn_norm.weight";
    public static final String ATTN_Q = "attn_q.weight";
    public static final String ATTN_K = "attn_k.weight";
    public static final String ATTN_V = "attn_v.weight";
    public static final String ATTN_Q_BIAS = "attn_q.bias";
    public static final String ATTN_K_BIAS = "attn_k.bias";
    public static final String ATTN_V_BIAS = "attn_v.bias";
    public static final String ATTN_Q_NORM = "attn_q_norm.weight";
    public static final String ATTN_K_NORM = "attn_k_norm.weight";
    public static final String ATTN_OUTPUT = "attn_output.weight";
    public static final String FFN_NORM = "ffn_norm.weight";
    public static final String FFN_GATE = "ffn_gate.weight";
    public static final String FFN_UP = "ffn_up.weight";
    public static final String FFN_DOWN = "ffn_down.weight";

    /** Companion of a linear weight: its static int8 input scale (F32, one element), as W8A8 runtimes store it. */
    public static final String INPUT_SCALE = "input_scale";
    /** Companion of a linear weight: indices of input columns kept in 16 bits (F32 values, ascending). */
    public static final String OUTLIER_COLUMNS = "outlier_columns";
    /** Companion of a linear weight: those columns' weights, F16 {@code [rows, outliers]}. */
    public static final String OUTLIER_WEIGHT = "outlier_weight";

    /** The name of a companion tensor of a weight: {@code blk.0.attn_q.weight} → {@code blk.0.attn_q.<kind>}. */
    public static String companion(String weightName, String kind) {
        if (!weightName.endsWith(".weight")) {
            throw new IllegalArgumentException(weightName + " is not a weight name");
        }
        return weightName.substring(0, weightName.length() - "weight".length()) + kind;
    }
}
