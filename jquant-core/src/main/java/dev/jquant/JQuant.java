package dev.jquant;

import dev.jquant.io.gguf.GgufCheckpointLoader;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.hf.HfCheckpointLoader;
import dev.jquant.io.llama2c.Llama2cLoader;
import dev.jquant.model.Checkpoint;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The front door of the library: {@code try (Checkpoint c = JQuant.load(path)) { ... }}.
 * Accepts a GGUF file, a Hugging Face model directory or a llama2.c checkpoint.
 */
public final class JQuant {
    private JQuant() {
    }

    public static Checkpoint load(Path path) {
        if (!Files.exists(path)) {
            throw new JQuantException(path + ": no such file or directory");
        }
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (Files.isRegularFile(path) && name.endsWith(".gguf")) {
            return GgufCheckpointLoader.load(path);
        }
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("config.json"))) {
            return HfCheckpointLoader.load(path);
        }
        if (Files.isRegularFile(path) && name.endsWith(".bin")) {
            return Llama2cLoader.load(path);
        }
        throw new JQuantException(path + ": not a model jquant can read (expected a .gguf file, a Hugging Face "
                + "directory with config.json, or a llama2.c .bin checkpoint)");
    }

    /** Loads a model and replaces its tokenizer with the one at {@code tokenizer} (when not null). */
    public static Checkpoint load(Path path, Path tokenizer) {
        Checkpoint checkpoint = load(path);
        if (tokenizer == null) {
            return checkpoint;
        }
        try {
            return checkpoint.withTokenizer(loadTokenizer(tokenizer, checkpoint.config().vocabSize()));
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * A tokenizer on its own: a llama2.c tokenizer.bin, a GGUF file (its vocabulary), or a Hugging
     * Face directory / tokenizer.json.
     */
    public static Tokenizer loadTokenizer(Path path, int vocabSize) {
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (Files.isDirectory(path)) {
            return Tokenizers.fromHfDirectory(path);
        }
        if (name.endsWith(".json")) {
            return Tokenizers.fromHfDirectory(path.toAbsolutePath().getParent());
        }
        if (name.endsWith(".gguf")) {
            try (GgufFile gguf = GgufFile.open(path)) {
                return Tokenizers.fromGguf(gguf);
            }
        }
        if (name.endsWith(".bin")) {
            return Tokenizers.fromLlama2c(path, vocabSize);
        }
        throw new JQuantException(path + ": not a tokenizer jquant can read (expected a llama2.c .bin, a .gguf, "
                + "a tokenizer.json or a Hugging Face directory)");
    }
}
