package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A loaded checkpoint: the config, every tensor under its GGUF name (token_embd.weight,
 * blk.N.attn_q.weight, ...), the tokenizer and the chat template. Tensors stay where the reader
 * put them (usually an mmapped file); closing the checkpoint releases the mapping.
 *
 * @param sourceFormat "gguf", "safetensors" or "llama2c"
 * @param chatTemplate the model's Jinja chat template, or null
 * @param metadata     format-specific metadata for inspection (GGUF key/values, HF config)
 */
public record Checkpoint(Path source, String sourceFormat, ModelConfig config, Map<String, Tensor> tensors,
                         Tokenizer tokenizer, String chatTemplate, Map<String, Object> metadata,
                         List<AutoCloseable> resources) implements AutoCloseable {

    public Checkpoint {
        tensors = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata));
        resources = List.copyOf(resources);
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new JQuantException(source + ": tensor " + name + " is missing");
        }
        return t;
    }

    public Optional<Tensor> optionalTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The same checkpoint with another tokenizer (e.g. a llama2.c tokenizer.bin given on the command line). */
    public Checkpoint withTokenizer(Tokenizer replacement) {
        return new Checkpoint(source, sourceFormat, config, tensors, replacement, chatTemplate, metadata, resources);
    }

    /**
     * The same checkpoint with some tensors replaced (or added) by name, e.g. one block's quantized
     * weights; the others stay where they are. Resources stay with this checkpoint: close it, not the view.
     */
    public Checkpoint withTensors(Map<String, Tensor> replacements) {
        Map<String, Tensor> merged = new java.util.LinkedHashMap<>(tensors);
        merged.putAll(replacements);
        return new Checkpoint(source, sourceFormat, config, merged, tokenizer, chatTemplate, metadata, List.of());
    }

    public long tensorBytes() {
        return tensors.values().stream().mapToLong(Tensor::byteSize).sum();
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception ignored) {
                // closing a mapping cannot fail in a way the user could act on
            }
        }
    }
}
