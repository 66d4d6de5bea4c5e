package dev.jquant.io.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeScaling;
import dev.jquant.model.RopeStyle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * config.json of a transformers Llama-family model, read into a {@link ModelConfig} and written
 * back from one. Hugging Face weights rotate half-split pairs, so every config read here has
 * {@link RopeStyle#HALF_SPLIT}.
 */
public final class HfConfig {
    public static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** A transformers model class, its model_type and the GGUF architecture name jquant uses for it. */
    private record Arch(String hfClass, String modelType, String name) {
    }

    private static final List<Arch> ARCHS = List.of(
            new Arch("LlamaForCausalLM", "llama", "llama"),
            new Arch("MistralForCausalLM", "mistral", "mistral"),
            new Arch("Qwen2ForCausalLM", "qwen2", "qwen2"),
            new Arch("Qwen3ForCausalLM", "qwen3", "qwen3"));

    private HfConfig() {
    }

    /** Parses a JSON file holding one object into a tree; errors name the file. */
    public static JsonNode readJson(Path file) {
        try {
            JsonNode root = JSON.readTree(Files.readString(file));
            if (root == null || !root.isObject()) {
                throw new JQuantException(file + ": not a JSON object");
            }
            return root;
        } catch (JacksonException e) {
            throw new JQuantException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static ModelConfig read(Path configJson) {
        return parse(configJson, readJson(configJson));
    }

    static ModelConfig parse(Path file, JsonNode root) {
        Fields f = new Fields(file, root);
        Arch arch = arch(f);
        if (!f.string("hidden_act", "silu").equals("silu")) {
            throw f.error("hidden_act", "'" + f.string("hidden_act", "") + "' is not supported (only silu)");
        }
        if (f.bool("mlp_bias", false)) {
            throw f.error("mlp_bias", "MLP biases are not supported");
        }
        if (f.dbl("partial_rotary_factor", 1) != 1) {
            throw f.error("partial_rotary_factor", "partial rotary embeddings are not supported");
        }
        int dim = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        int headDim = f.integer("head_dim", heads > 0 ? dim / heads : 0);
        int context = f.integer("max_position_embeddings", 2048);
        // Mistral v0.1 attends over a sliding window; within it, full attention is exact
        if (f.bool("use_sliding_window", true) && f.has("sliding_window")) {
            context = Math.min(context, f.requiredInt("sliding_window"));
        }
        JsonNode ropeParams = root.path("rope_parameters"); // transformers 5 moves theta and scaling here
        double theta = f.has("rope_theta") ? f.dbl("rope_theta", 10000)
                : new Fields(file, ropeParams).dbl("rope_theta", 10000);
        JsonNode scaling = f.has("rope_scaling") ? root.get("rope_scaling") : ropeParams;
        boolean qwen2 = arch.name().equals("qwen2");
        int ffn = f.requiredInt("intermediate_size");
        int layers = f.requiredInt("num_hidden_layers");
        int kvHeads = f.integer("num_key_value_heads", heads);
        int vocab = f.requiredInt("vocab_size");
        float eps = (float) f.dbl("rms_norm_eps", 1e-6);
        RopeScaling ropeScaling = ropeScaling(new Fields(file, scaling));
        boolean bias = qwen2 || f.bool("attention_bias", false);
        boolean tied = f.bool("tie_word_embeddings", false);
        try {
            return new ModelConfig(arch.name(), dim, ffn, layers, heads, kvHeads, headDim, vocab, context, eps,
                    (float) theta, RopeStyle.HALF_SPLIT, ropeScaling, bias, arch.name().equals("qwen3"), tied);
        } catch (JQuantException e) {
            throw new JQuantException(file + ": " + e.getMessage());
        }
    }

    private static Arch arch(Fields f) {
        JsonNode archs = f.root.get("architectures");
        String hfClass = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : null;
        String modelType = f.string("model_type", null);
        for (Arch a : ARCHS) {
            if (a.hfClass().equals(hfClass) || (hfClass == null && a.modelType().equals(modelType))) {
                return a;
            }
        }
        throw f.error("architectures", "'" + (hfClass != null ? hfClass : modelType) + "' is not supported (supported: "
                + String.join(", ", ARCHS.stream().map(Arch::hfClass).toList()) + ")");
    }

    private static RopeScaling ropeScaling(Fields s) {
        if (s.root == null || s.root.isNull() || s.root.isMissingNode()) {
            return null;
        }
        String type = s.string("rope_type", s.string("type", "default"));
        return switch (type) {
            case "default" -> null;
            case "llama3" -> new RopeScaling((float) s.dbl("factor", 8), (float) s.dbl("low_freq_factor", 1),
                    (float) s.dbl("high_freq_factor", 4), s.integer("original_max_position_embeddings", 8192));
            default -> throw s.error("rope_scaling", "rope type '" + type + "' is not supported (only llama3)");
        };
    }

    /** config.json for {@code c}, as transformers writes it for the matching model class. */
    public static Map<String, Object> toJson(ModelConfig c, Format dtype, Integer bosId, List<Integer> eosIds) {
        Arch arch = switch (c.architecture()) {
            case "llama", "smollm" -> ARCHS.get(0);
            case "mistral" -> ARCHS.get(1);
            case "qwen2" -> ARCHS.get(2);
            case "qwen3" -> ARCHS.get(3);
            default -> throw new JQuantException("architecture '" + c.architecture()
                    + "' has no Hugging Face equivalent jquant can write");
        };
        boolean qwen2 = arch.name().equals("qwen2");
        boolean qwen3 = arch.name().equals("qwen3");
        if (c.qkNorm() != qwen3) {
            throw new JQuantException(arch.hfClass() + (qwen3 ? " needs" : " cannot have") + " QK-norm");
        }
        if (qwen2 && !c.attentionBias() || !qwen2 && !qwen3 && c.attentionBias()) {
            throw new JQuantException(arch.hfClass() + " cannot express "
                    + (qwen2 ? "the absence of" : "q/k/v biases without an o_proj bias") + " attention biases");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of(arch.hfClass()));
        m.put("model_type", arch.modelType());
        m.put("hidden_size", c.dim());
        m.put("intermediate_size", c.ffnDim());
        m.put("num_hidden_layers", c.layers());
        m.put("num_attention_heads", c.heads());
        m.put("num_key_value_heads", c.kvHeads());
        m.put("head_dim", c.headDim());
        m.put("vocab_size", c.vocabSize());
        m.put("max_position_embeddings", c.contextLength());
        m.put("rms_norm_eps", c.rmsEps());
        m.put("rope_theta", c.ropeTheta());
        if (c.ropeScaling() != null) {
            RopeScaling s = c.ropeScaling();
            Map<String, Object> rs = new LinkedHashMap<>();
            rs.put("rope_type", "llama3");
            rs.put("factor", s.factor());
            rs.put("low_freq_factor", s.lowFreqFactor());
            rs.put("high_freq_factor", s.highFreqFactor());
            rs.put("original_max_position_embeddings", s.originalContextLength());
            m.put("rope_scaling", rs);
        } else {
            m.put("rope_scaling", null);
        }
        m.put("hidden_act", "silu");
        if (!qwen2) {
            m.put("attention_bias", false);
        }
        if (qwen2) {
            m.put("use_sliding_window", false);
        }
        m.put("tie_word_embeddings", c.tiedOutput());
        if (bosId != null) {
            m.put("bos_token_id", bosId);
        }
        if (eosIds != null && !eosIds.isEmpty()) {
            m.put("eos_token_id", eosIds.size() == 1 ? eosIds.getFirst() : eosIds);
        }
        m.put("torch_dtype", switch (dtype.name()) {
            case "F32" -> "float32";
            case "F16" -> "float16";
            case "BF16" -> "bfloat16";
            default -> throw new JQuantException("format " + dtype.name() + " has no torch dtype");
        });
        return m;
    }

    /** Typed access to a JSON object's fields, with errors that name the file and the field. */
    static final class Fields {
        final Path file;
        final JsonNode root;

        Fields(Path file, JsonNode root) {
            this.file = file;
            this.root = root;
        }

        JQuantException error(String field, String problem) {
            return new JQuantException(file + ": " + field + ": " + problem);
        }

        boolean has(String field) {
            return root != null && root.hasNonNull(field);
        }

        int requiredInt(String field) {
            if (!has(field)) {
                throw error(field, "is missing");
            }
            return integer(field, 0);
        }

        int integer(String field, int fallback) {
            if (!has(field)) {
                return fallback;
            }
            JsonNode v = root.get(field);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw error(field, "must be an integer, got " + v);
            }
            return v.intValue();
        }

        double dbl(String field, double fallback) {
            if (!has(field)) {
                return fallback;
            }
            JsonNode v = root.get(field);
            if (!v.isNumber()) {
                throw error(field, "must be a number, got " + v);
            }
            return v.doubleValue();
        }

        boolean bool(String field, boolean fallback) {
            if (!has(field)) {
                return fallback;
            }
            JsonNode v = root.get(field);
            if (!v.isBoolean()) {
                throw error(field, "must be true or false, got " + v);
            }
            return v.booleanValue();
        }

        String string(String field, String fallback) {
            if (!has(field)) {
                return fallback;
            }
            JsonNode v = root.get(field);
            if (!v.isTextual()) {
                throw error(field, "must be a string, got " + v);
            }
            return v.textValue();
        }
    }
}
