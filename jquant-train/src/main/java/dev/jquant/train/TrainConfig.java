package dev.jquant.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.JQuantException;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * What {@code jquant train} reads from its JSON config: the model's shape, where its vocabulary
 * comes from (a tokenizer GGUF, or {@code vocabSize} to train one on the data), and the optimizer
 * settings. Keys are the component names; unknown keys are an error, so a typo is not silently ignored.
 *
 * @param tokenizer  a tokenizer GGUF (relative to the config file), or null to train one of {@code vocabSize}
 * @param seq        training sequence length, also the model's context length
 * @param batch      sequences per micro-batch; {@code gradAccum} micro-batches make one step
 */
public record TrainConfig(int dim, int ffnDim, int layers, int heads, int kvHeads, float ropeTheta, float rmsEps,
                          boolean tiedOutput, Path tokenizer, int vocabSize, int seq, int batch, int gradAccum,
                          int steps, float lr, float minLr, int warmup, float weightDecay, float beta1, float beta2,
                          float clip, long seed, int checkpointEvery) {

    private static final Set<String> KEYS = Set.of("dim", "ffnDim", "layers", "heads", "kvHeads", "ropeTheta", "rmsEps",
            "tiedOutput", "tokenizer", "vocabSize", "seq", "batch", "gradAccum", "steps", "lr", "minLr", "warmup",
            "weightDecay", "beta1", "beta2", "clip", "seed", "checkpointEvery");

    public static TrainConfig read(Path file) {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new JQuantException(file + ": not a readable JSON config: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new JQuantException(file + ": the config must be a JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new JQuantException(file + ": unknown key '" + key + "' (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        int heads = integer(n, file, "heads", -1);
        float lr = (float) n.path("lr").asDouble(1e-3);
        Path tokenizer = n.hasNonNull("tokenizer") ? resolve(file, n.get("tokenizer").asText()) : null;
        int vocabSize = integer(n, file, "vocabSize", tokenizer == null ? -1 : 0);
        return new TrainConfig(integer(n, file, "dim", -1), integer(n, file, "ffnDim", -1), integer(n, file, "layers", -1),
                heads, integer(n, file, "kvHeads", heads), (float) n.path("ropeTheta").asDouble(10000),
                (float) n.path("rmsEps").asDouble(1e-5), n.path("tiedOutput").asBoolean(true), tokenizer, vocabSize,
                integer(n, file, "seq", -1), integer(n, file, "batch", -1), integer(n, file, "gradAccum", 1),
                integer(n, file, "steps", -1), lr, (float) n.path("minLr").asDouble(lr / 10),
                integer(n, file, "warmup", 0), (float) n.path("weightDecay").asDouble(0.1),
                (float) n.path("beta1").asDouble(0.9), (float) n.path("beta2").asDouble(0.95),
                (float) n.path("clip").asDouble(1.0), n.path("seed").asLong(1), integer(n, file, "checkpointEvery", 100));
    }

    /** An integer key; {@code fallback} -1 makes it required. */
    private static int integer(JsonNode n, Path file, String key, int fallback) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (fallback == -1) {
                throw new JQuantException(file + ": '" + key + "' is required");
            }
            return fallback;
        }
        if (!v.canConvertToInt()) {
            throw new JQuantException(file + ": '" + key + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static Path resolve(Path configFile, String path) {
        Path p = Path.of(path);
        Path dir = configFile.toAbsolutePath().getParent();
        return p.isAbsolute() || dir == null ? p : dir.resolve(p);
    }

    public TrainConfig withSeed(long newSeed) {
        return new TrainConfig(dim, ffnDim, layers, heads, kvHeads, ropeTheta, rmsEps, tiedOutput, tokenizer, vocabSize,
                seq, batch, gradAccum, steps, lr, minLr, warmup, weightDecay, beta1, beta2, clip, newSeed, checkpointEvery);
    }

    public TrainConfig withSteps(int newSteps) {
        return new TrainConfig(dim, ffnDim, layers, heads, kvHeads, ropeTheta, rmsEps, tiedOutput, tokenizer, vocabSize,
                seq, batch, gradAccum, newSteps, lr, minLr, warmup, weightDecay, beta1, beta2, clip, seed, checkpointEvery);
    }

    /** The Llama model this config describes, for a vocabulary of {@code vocab} tokens. */
    public ModelConfig model(int vocab) {
        if (heads < 1 || dim % heads != 0) {
            throw new JQuantException("config: dim " + dim + " is not a multiple of heads " + heads);
        }
        return new ModelConfig("llama", dim, ffnDim, layers, heads, kvHeads, dim / heads, vocab, seq, rmsEps, ropeTheta,
                RopeStyle.ADJACENT_PAIRS, null, false, false, tiedOutput);
    }

    public Trainer.Options options() {
        return new Trainer.Options(batch, seq, gradAccum, steps, new LearningRate(lr, minLr, warmup, steps), weightDecay,
                beta1, beta2, 1e-8f, clip, seed, checkpointEvery);
    }
}
