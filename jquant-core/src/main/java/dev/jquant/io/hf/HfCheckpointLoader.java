package dev.jquant.io.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jquant.JQuantException;
import dev.jquant.io.safetensors.SafetensorsShards;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.ModelShapes;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a Hugging Face model directory: config.json, model.safetensors (or its shards),
 * generation_config.json, tokenizer_config.json / chat_template.jinja and the tokenizer. Weights
 * are used as stored (mmapped, renamed to GGUF names); their half-split RoPE layout is recorded in
 * the config rather than permuted away.
 *
 * <p>Metadata keys: {@code hf.config}, {@code hf.generation_config}, {@code hf.tokenizer_config}
 * (the files as maps, when present), {@code bos_token_id} (Integer) and {@code eos_token_ids}
 * (List of Integer), taken from generation_config.json first, then config.json.
 */
public final class HfCheckpointLoader {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String CHAT_TEMPLATE = "chat_template.jinja";
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer.model", "vocab.json");

    private HfCheckpointLoader() {
    }

    public static Checkpoint load(Path dir) {
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new JQuantException(dir + ": " + CONFIG + " is missing (not a Hugging Face model directory)");
        }
        JsonNode configJson = HfConfig.readJson(configFile);
        ModelConfig config = HfConfig.parse(configFile, configJson);
        JsonNode generation = optionalJson(dir.resolve(GENERATION_CONFIG));
        JsonNode tokenizerConfig = optionalJson(dir.resolve(TOKENIZER_CONFIG));

        SafetensorsShards weights = SafetensorsShards.open(dir);
        try {
            Map<String, Tensor> tensors = tensors(dir, weights, config);
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("hf.config", asMap(configJson));
            if (generation != null) {
                metadata.put("hf.generation_config", asMap(generation));
            }
            if (tokenizerConfig != null) {
                metadata.put("hf.tokenizer_config", asMap(tokenizerConfig));
            }
            Integer bos = firstInt(dir, "bos_token_id", generation, configJson);
            if (bos != null) {
                metadata.put("bos_token_id", bos);
            }
            List<Integer> eos = eosIds(dir, generation, configJson);
            if (!eos.isEmpty()) {
                metadata.put("eos_token_ids", eos);
            }
            return new Checkpoint(dir, "safetensors", config, tensors, tokenizer(dir), chatTemplate(dir, tokenizerConfig),
                    metadata, List.of(weights));
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static Map<String, Tensor> tensors(Path dir, SafetensorsShards weights, ModelConfig config) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String hfName : weights.names()) {
            if (HfTensorNames.isIgnorable(hfName)) {
                continue;
            }
            String name = HfTensorNames.toGguf(hfName);
            if (name == null) {
                throw new JQuantException(dir + ": tensor " + hfName + " is not part of a " + config.architecture()
                        + " model as jquant knows it");
            }
            if (name.equals(TensorNames.OUTPUT) && config.tiedOutput()) {
                continue; // transformers ties lm_head to the embedding and ignores a stored copy
            }
            Tensor t = weights.tensor(hfName);
            out.put(name, new Tensor(name, t.format(), t.shape(), t.data()));
        }
        ModelShapes.check(dir, config, out);
        return out;
    }

    private static Tokenizer tokenizer(Path dir) {
        if (TOKENIZER_FILES.stream().noneMatch(f -> Files.isRegularFile(dir.resolve(f)))) {
            return null;
        }
        return Tokenizers.fromHfDirectory(dir);
    }

    /** chat_template.jinja (newer transformers) wins over tokenizer_config.json's chat_template. */
    private static String chatTemplate(Path dir, JsonNode tokenizerConfig) {
        Path jinja = dir.resolve(CHAT_TEMPLATE);
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja);
            } catch (IOException e) {
                throw new JQuantException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        JsonNode t = tokenizerConfig == null ? null : tokenizerConfig.get("chat_template");
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.textValue();
        }
        // a list of named templates: the one called "default" is the chat template
        for (JsonNode named : t) {
            if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                return named.get("template").textValue();
            }
        }
        return null;
    }

    private static JsonNode optionalJson(Path file) {
        return Files.isRegularFile(file) ? HfConfig.readJson(file) : null;
    }

    private static Integer firstInt(Path dir, String field, JsonNode... sources) {
        for (JsonNode s : sources) {
            if (s != null && s.hasNonNull(field)) {
                JsonNode v = s.get(field);
                if (!v.canConvertToInt() || !v.isIntegralNumber()) {
                    throw new JQuantException(dir + ": " + field + " must be an integer, got " + v);
                }
                return v.intValue();
            }
        }
        return null;
    }

    /** eos_token_id may be one id or a list of them (Llama 3 instruct ends turns on several). */
    private static List<Integer> eosIds(Path dir, JsonNode generation, JsonNode config) {
        for (JsonNode s : new JsonNode[]{generation, config}) {
            if (s == null || !s.hasNonNull("eos_token_id")) {
                continue;
            }
            JsonNode v = s.get("eos_token_id");
            List<Integer> ids = new ArrayList<>();
            for (JsonNode id : v.isArray() ? v : List.of(v)) {
                if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                    throw new JQuantException(dir + ": eos_token_id must be an integer or a list of them, got " + v);
                }
                ids.add(id.intValue());
            }
            return List.copyOf(ids);
        }
        return List.of();
    }

    private static Map<String, Object> asMap(JsonNode node) {
        return HfConfig.JSON.convertValue(node, new com.fasterxml.jackson.core.type.TypeReference<>() {
        });
    }
}
