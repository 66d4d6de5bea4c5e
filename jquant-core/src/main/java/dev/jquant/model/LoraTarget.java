package dev.jquant.model;

import dev.jquant.JQuantException;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The linear layers of a decoder block a LoRA adapter can target, under their three names: the short
 * name the command line takes, the GGUF weight suffix, and the Hugging Face module name PEFT's
 * {@code target_modules} and tensor names use.
 */
public enum LoraTarget {
    Q("q", TensorNames.ATTN_Q, "self_attn", "q_proj"),
    K("k", TensorNames.ATTN_K, "self_attn", "k_proj"),
    V("v", TensorNames.ATTN_V, "self_attn", "v_proj"),
    O("o", TensorNames.ATTN_OUTPUT, "self_attn", "o_proj"),
    GATE("gate", TensorNames.FFN_GATE, "mlp", "gate_proj"),
    UP("up", TensorNames.FFN_UP, "mlp", "up_proj"),
    DOWN("down", TensorNames.FFN_DOWN, "mlp", "down_proj");

    private final String shortName;
    private final String ggufSuffix;
    private final String hfParent;
    private final String hfModule;

    LoraTarget(String shortName, String ggufSuffix, String hfParent, String hfModule) {
        this.shortName = shortName;
        this.ggufSuffix = ggufSuffix;
        this.hfParent = hfParent;
        this.hfModule = hfModule;
    }

    public String shortName() {
        return shortName;
    }

    /** e.g. {@code attn_q.weight}. */
    public String ggufSuffix() {
        return ggufSuffix;
    }

    /** e.g. {@code q_proj}, as PEFT's {@code target_modules} lists it. */
    public String hfModule() {
        return hfModule;
    }

    /** The module path inside a layer, e.g. {@code self_attn.q_proj}. */
    public String hfPath() {
        return hfParent + "." + hfModule;
    }

    /** The GGUF name of this target's weight in block {@code layer}. */
    public String weightName(int layer) {
        return TensorNames.block(layer, ggufSuffix);
    }

    /** {@code [out, in]} of this layer's weight. */
    public int[] shape(ModelConfig c) {
        return switch (this) {
            case Q -> new int[] {c.qDim(), c.dim()};
            case K, V -> new int[] {c.kvDim(), c.dim()};
            case O -> new int[] {c.dim(), c.qDim()};
            case GATE, UP -> new int[] {c.ffnDim(), c.dim()};
            case DOWN -> new int[] {c.dim(), c.ffnDim()};
        };
    }

    /** A target by its short name ({@code q}) or Hugging Face module name ({@code q_proj}). */
    public static LoraTarget parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        for (LoraTarget t : values()) {
            if (t.shortName.equals(n) || t.hfModule.equals(n)) {
                return t;
            }
        }
        throw new JQuantException("unknown LoRA target module '" + name + "'; known: "
                + String.join(", ", Arrays.stream(values()).map(t -> t.shortName + " (" + t.hfModule + ")").toList()));
    }

    /** A comma-separated list of targets ({@code q,k,v} or {@code q_proj,v_proj}). */
    public static Set<LoraTarget> parseList(String list) {
        Set<LoraTarget> out = EnumSet.noneOf(LoraTarget.class);
        for (String part : list.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        if (out.isEmpty()) {
            throw new JQuantException("no LoRA target modules given");
        }
        return out;
    }
}
