package dev.jquant;

import dev.jquant.io.gguf.GgufCheckpointLoader;
import dev.jquant.io.hf.HfCheckpointLoader;
import dev.jquant.io.llama2c.Llama2cLoader;
import dev.jquant.model.Checkpoint;

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
}
