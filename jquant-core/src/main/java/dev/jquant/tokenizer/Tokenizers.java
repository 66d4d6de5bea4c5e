package dev.jquant.tokenizer;

import dev.jquant.io.gguf.GgufFile;

import java.nio.file.Path;

/** Builds the right {@link Tokenizer} from what a checkpoint carries. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** From GGUF metadata (tokenizer.ggml.model, .tokens, .scores, .token_type, .merges, .pre, special ids). */
    public static Tokenizer fromGguf(GgufFile gguf) {
        throw new UnsupportedOperationException("GGUF tokenizers are not implemented yet");
    }

    /** From a Hugging Face model directory: tokenizer.json, or vocab.json + merges.txt, plus tokenizer_config.json. */
    public static Tokenizer fromHfDirectory(Path dir) {
        throw new UnsupportedOperationException("Hugging Face tokenizers are not implemented yet");
    }

    /** From a llama2.c tokenizer.bin (max token length, then score + length + bytes per token). */
    public static Tokenizer fromLlama2c(Path tokenizerBin, int vocabSize) {
        throw new UnsupportedOperationException("llama2.c tokenizers are not implemented yet");
    }
}
