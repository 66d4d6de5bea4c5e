package dev.jquant.io.peft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jquant.JQuantException;
import dev.jquant.io.AtomicFile;
import dev.jquant.io.hf.HfConfig;
import dev.jquant.io.safetensors.SafetensorsFile;
import dev.jquant.io.safetensors.SafetensorsWriter;
import dev.jquant.model.LoraAdapter;
import dev.jquant.model.LoraTarget;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopePermutation;
import dev.jquant.model.RopeStyle;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LoRA adapters as Hugging Face PEFT saves them: a directory with {@code adapter_config.json}
 * (peft_type LORA, r, lora_alpha, target_modules, ...) and {@code adapter_model.safetensors} holding
 * {@code base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight} {@code [r, in]} and
 * {@code ...lora_B.weight} {@code [out, r]} per adapted module, in F32.
 *
 * <p>PEFT's rows follow Hugging Face's half-split RoPE layout. For a model whose q/k rows are in
 * GGUF's adjacent-pair order (llama.cpp permutes them at conversion), lora_B of q and k is permuted
 * with {@link RopePermutation} on the way out and back on the way in, so the same files adapt the
 * GGUF model and its Hugging Face directory alike.
 */
public final class PeftAdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.model.layers.";
    private static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(\\d{1,5})\\.([a-z_]+\\.[a-z_]+)\\.lora_([AB])\\.weight");

    private PeftAdapterFiles() {
    }

    /** Writes {@code adapter} (rows in {@code model}'s layout) to {@code dir}; the config is written last. */
    public static void write(LoraAdapter adapter, ModelConfig model, Path dir, String baseModel) {
        adapter.check(model, "adapter");
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("peft_type", "LORA");
        config.put("task_type", "CAUSAL_LM");
        config.put("base_model_name_or_path", baseModel);
        config.put("r", adapter.rank());
        config.put("lora_alpha", adapter.alpha());
        config.put("lora_dropout", adapter.dropout());
        config.put("target_modules", adapter.targets().stream().map(LoraTarget::hfModule).toList());
        config.put("bias", "none");
        config.put("fan_in_fan_out", false);
        config.put("inference_mode", true);
        config.put("init_lora_weights", true);
        config.put("use_rslora", false);
        config.put("use_dora", false);
        config.put("modules_to_save", null);
        config.put("layers_to_transform", null);
        try (Arena arena = Arena.ofConfined()) {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(CONFIG)); // the directory loads again only when complete
            SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
            for (int l = 0; l < model.layers(); l++) {
                for (LoraTarget t : adapter.targets()) {
                    String weight = t.weightName(l);
                    LoraAdapter.Factors f = adapter.factors().get(weight);
                    String base = PREFIX + l + "." + t.hfPath();
                    float[] b = permuteRows(f.b(), adapter.rank(), halfSplitOrder(model, weight));
                    w.add(base + ".lora_A.weight", Tensor.ofFloats(base + ".lora_A.weight", f.a(), arena, adapter.rank(), f.in()));
                    w.add(base + ".lora_B.weight", Tensor.ofFloats(base + ".lora_B.weight", b, arena, f.out(), adapter.rank()));
                }
            }
            w.write(dir.resolve(WEIGHTS));
            AtomicFile.writeString(dir.resolve(CONFIG), HfConfig.JSON.writeValueAsString(config) + "\n");
        } catch (IOException e) {
            throw new JQuantException(dir + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Reads the adapter in {@code dir} for {@code model}, rows put into the model's layout; every mismatch is an error naming it. */
    public static LoraAdapter read(Path dir, ModelConfig model) {
        if (!Files.isDirectory(dir)) {
            throw new JQuantException(dir + ": no such adapter directory");
        }
        Path configFile = dir.resolve(CONFIG);
        Path weightsFile = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(configFile)) {
            throw new JQuantException(dir + ": " + CONFIG + " is missing (not a PEFT adapter directory)");
        }
        if (!Files.isRegularFile(weightsFile)) {
            throw new JQuantException(dir + ": " + WEIGHTS + " is missing"
                    + (Files.exists(dir.resolve("adapter_model.bin")) ? " (only safetensors adapters are read, not adapter_model.bin)" : ""));
        }
        JsonNode cfg = HfConfig.readJson(configFile);
        String where = configFile.toString();
        if (!cfg.path("peft_type").asText("").equals("LORA")) {
            throw new JQuantException(where + ": peft_type is '" + cfg.path("peft_type").asText("") + "', only LORA adapters are supported");
        }
        requireFalse(cfg, "fan_in_fan_out", where);
        requireFalse(cfg, "use_rslora", where);
        requireFalse(cfg, "use_dora", where);
        if (!cfg.path("bias").asText("none").equals("none")) {
            throw new JQuantException(where + ": bias '" + cfg.path("bias").asText() + "' is not supported (only \"none\")");
        }
        if (!cfg.path("layers_to_transform").isMissingNode() && !cfg.path("layers_to_transform").isNull()) {
            throw new JQuantException(where + ": layers_to_transform is not supported; adapt every layer");
        }
        if (!cfg.path("r").canConvertToInt() || cfg.path("r").asInt() < 1) {
            throw new JQuantException(where + ": r must be a positive integer, got " + cfg.path("r"));
        }
        int rank = cfg.path("r").asInt();
        if (!cfg.path("lora_alpha").isNumber()) {
            throw new JQuantException(where + ": lora_alpha must be a number, got " + cfg.path("lora_alpha"));
        }
        float alpha = (float) cfg.path("lora_alpha").asDouble();
        float dropout = (float) cfg.path("lora_dropout").asDouble(0);
        JsonNode modules = cfg.path("target_modules");
        if (!modules.isArray() || modules.isEmpty()) {
            throw new JQuantException(where + ": target_modules must be a non-empty list of module names"
                    + (modules.isTextual() ? " (a regular expression is not supported)" : ""));
        }
        Set<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (JsonNode m : modules) {
            try {
                targets.add(LoraTarget.parse(m.asText()));
            } catch (JQuantException e) {
                throw new JQuantException(where + ": " + e.getMessage());
            }
        }
        Map<String, LoraAdapter.Factors> factors = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(weightsFile)) {
            for (String name : file.entries().keySet()) {
                Matcher m = NAME.matcher(name);
                if (!m.matches()) {
                    throw new JQuantException(weightsFile + ": tensor " + name + " is not a LoRA factor of a decoder layer");
                }
                int layer = Integer.parseInt(m.group(1));
                LoraTarget t = targetOf(m.group(2), weightsFile, name);
                if (!targets.contains(t)) {
                    throw new JQuantException(weightsFile + ": tensor " + name + " adapts " + t.hfModule()
                            + ", which target_modules does not list");
                }
                if (layer >= model.layers()) {
                    throw new JQuantException(weightsFile + ": tensor " + name + " is for layer " + layer + ", the model has "
                            + model.layers());
                }
            }
            for (int l = 0; l < model.layers(); l++) {
                for (LoraTarget t : targets) {
                    String base = PREFIX + l + "." + t.hfPath();
                    int[] shape = t.shape(model);
                    float[] a = factor(file, base + ".lora_A.weight", rank, shape[1]);
                    float[] b = factor(file, base + ".lora_B.weight", shape[0], rank);
                    String weight = t.weightName(l);
                    factors.put(weight, new LoraAdapter.Factors(a, permuteRows(b, rank, adjacentOrder(model, weight)), shape[1], shape[0]));
                }
            }
        }
        LoraAdapter adapter = new LoraAdapter(rank, alpha, dropout, targets, factors);
        adapter.check(model, dir.toString());
        return adapter;
    }

    private static LoraTarget targetOf(String path, Path file, String name) {
        for (LoraTarget t : LoraTarget.values()) {
            if (t.hfPath().equals(path)) {
                return t;
            }
        }
        throw new JQuantException(file + ": tensor " + name + " adapts unknown module " + path);
    }

    private static float[] factor(SafetensorsFile file, String name, int rows, int cols) {
        if (!file.contains(name)) {
            throw new JQuantException(file.path() + ": tensor " + name + " is missing");
        }
        Tensor t = file.tensor(name);
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
            throw new JQuantException(file.path() + ": tensor " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected [" + rows + ", " + cols + "]");
        }
        float[] v = t.toFloats();
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new JQuantException(file.path() + ": tensor " + name + " holds a non-finite value");
            }
        }
        return v;
    }

    /** For an adjacent-pair model, the GGUF row each Hugging Face row of {@code weight}'s lora_B comes from; else null. */
    private static int[] halfSplitOrder(ModelConfig c, String weight) {
        int heads = RopePermutation.rotatedHeads(c, weight);
        return c.ropeStyle() == RopeStyle.ADJACENT_PAIRS && heads > 0 ? RopePermutation.halfSplitFromAdjacent(heads, c.headDim()) : null;
    }

    /** For an adjacent-pair model, the Hugging Face row each GGUF row of {@code weight}'s lora_B comes from; else null. */
    private static int[] adjacentOrder(ModelConfig c, String weight) {
        int heads = RopePermutation.rotatedHeads(c, weight);
        return c.ropeStyle() == RopeStyle.ADJACENT_PAIRS && heads > 0 ? RopePermutation.adjacentFromHalfSplit(heads, c.headDim()) : null;
    }

    /** Row i of the result is row {@code order[i]} of {@code m} (rows of {@code cols}); {@code m} itself when order is null. */
    private static float[] permuteRows(float[] m, int cols, int[] order) {
        if (order == null) {
            return m;
        }
        float[] out = new float[m.length];
        for (int i = 0; i < order.length; i++) {
            System.arraycopy(m, order[i] * cols, out, i * cols, cols);
        }
        return out;
    }

    private static void requireFalse(JsonNode cfg, String key, String where) {
        if (cfg.path(key).asBoolean(false)) {
            throw new JQuantException(where + ": " + key + " is true, which is not supported");
        }
    }
}
