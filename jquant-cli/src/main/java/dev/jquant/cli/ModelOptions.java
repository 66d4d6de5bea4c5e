package dev.jquant.cli;

import dev.jquant.JQuant;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.Checkpoint;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every command that loads a model shares. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "GGUF file, Hugging Face model directory, or llama2.c .bin checkpoint")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "tokenizer to use instead of the model's own (llama2.c tokenizer.bin, .gguf, tokenizer.json)")
    Path tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: all cores)")
    Integer threads;

    /** Applies --threads and loads the model (and tokenizer). */
    Checkpoint load() {
        if (threads != null) {
            if (threads < 1) {
                throw new dev.jquant.JQuantException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return JQuant.load(model, tokenizer);
    }
}
