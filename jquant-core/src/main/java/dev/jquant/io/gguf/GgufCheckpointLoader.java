package dev.jquant.io.gguf;

import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeScaling;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Maps a GGUF model file (llama.cpp's key and tensor names) onto a {@link Checkpoint}. */
public final class GgufCheckpointLoader {
    /** Architectures llama.cpp runs with NeoX-style (half-split) RoPE; the rest of the Llama family pairs adjacent elements. */
    private static final Set<String> HALF_SPLIT_ARCHS = Set.of("qwen2", "qwen3", "qwen2moe", "phi3", "stablelm", "gptneox");
    private static final Set<String> SUPPORTED = Set.of("llama", "mistral", "qwen2", "qwen3", "granite", "smollm");

    private GgufCheckpointLoader() {
    }

    public static Checkpoint load(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = config(gguf);
            Map<String, Tensor> tensors = gguf.tensors();
            Tokenizer tokenizer = tokenizer(gguf);
            String chatTemplate = gguf.getString("tokenizer.chat_template", null);
            return new Checkpoint(path, "gguf", config, tensors, tokenizer, chatTemplate, gguf.metadata(), List.of(gguf));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** A model file may carry no vocabulary; commands that need one then ask for --tokenizer. */
    private static Tokenizer tokenizer(GgufFile gguf) {
        return gguf.has("tokenizer.ggml.model") ? Tokenizers.fromGguf(gguf) : null;
    }

    static ModelConfig config(GgufFile gguf) {
        String arch = gguf.getString("general.architecture", null);
        if (arch == null) {
            throw new JQuantException(gguf.path() + ": general.architecture is missing (a vocabulary-only or non-model GGUF?)");
        }
        if (!SUPPORTED.contains(arch)) {
            throw new JQuantException(gguf.path() + ": architecture '" + arch + "' is not supported (supported: "
                    + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
        }
        String p = arch + ".";
        int dim = gguf.getInt(p + "embedding_length");
        int heads = gguf.getInt(p + "attention.head_count");
        int kvHeads = gguf.getInt(p + "attention.head_count_kv", heads);
        int headDim = gguf.getInt(p + "attention.key_length", heads > 0 ? dim / heads : 0);
        GgufTensorInfo embedding = gguf.tensorInfos().stream()
                .filter(t -> t.name().equals(TensorNames.TOKEN_EMBEDDING)).findFirst()
                .orElseThrow(() -> new JQuantException(gguf.path() + ": tensor " + TensorNames.TOKEN_EMBEDDING + " is missing"));
        int vocab = Math.toIntExact(embedding.shape()[0]);
        boolean hasOutput = hasTensor(gguf, TensorNames.OUTPUT);
        return new ModelConfig(arch, dim, gguf.getInt(p + "feed_forward_length"), gguf.getInt(p + "block_count"),
                heads, kvHeads, headDim, vocab, gguf.getInt(p + "context_length", 2048),
                (float) gguf.getDouble(p + "attention.layer_norm_rms_epsilon", 1e-5),
                (float) gguf.getDouble(p + "rope.freq_base", 10000),
                HALF_SPLIT_ARCHS.contains(arch) ? RopeStyle.HALF_SPLIT : RopeStyle.ADJACENT_PAIRS,
                ropeScaling(gguf, p),
                hasTensor(gguf, TensorNames.block(0, TensorNames.ATTN_Q_BIAS)),
                hasTensor(gguf, TensorNames.block(0, TensorNames.ATTN_Q_NORM)),
                !hasOutput);
    }

    /**
     * Llama 3.1 scaling as GGUF metadata. (llama.cpp's converter usually bakes it into a
     * {@code rope_freqs.weight} tensor instead, which the engine applies when present.)
     */
    private static RopeScaling ropeScaling(GgufFile gguf, String p) {
        String type = gguf.getString(p + "rope.scaling.type", "none");
        if (!type.equals("llama3")) {
            return null;
        }
        return new RopeScaling((float) gguf.getDouble(p + "rope.scaling.factor", 8),
                (float) gguf.getDouble(p + "rope.scaling.low_freq_factor", 1),
                (float) gguf.getDouble(p + "rope.scaling.high_freq_factor", 4),
                gguf.getInt(p + "rope.scaling.original_context_length", 8192));
    }

    private static boolean hasTensor(GgufFile gguf, String name) {
        return gguf.tensorInfos().stream().anyMatch(t -> t.name().equals(name));
    }
}
