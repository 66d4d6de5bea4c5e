package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.io.gguf.GgufValueType;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.io.hf.HfCheckpointWriter;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Models with random weights for any {@link ModelConfig}, written the way real ones are published:
 * as a GGUF file laid out as llama.cpp's converter lays it out, and as a Hugging Face directory.
 * Both come from the same random values (one seed), so the two must give the same logits; that is
 * how the loaders, the q/k permutation and the RoPE variants are tested without downloading models.
 *
 * <p>The GGUF carries a small SentencePiece-style vocabulary (control tokens, the 256 byte tokens,
 * then letter strings) when the vocabulary has room for it, so the model can also be run on text.
 */
public final class SyntheticModels {
    /** {@code <unk>}, {@code <s>}, {@code </s>}, then one token per byte. */
    private static final int BYTE_TOKENS_END = 3 + 256;

    private SyntheticModels() {
    }

    /** Names {@link #preset} knows. */
    public static final List<String> PRESETS = List.of("llama3", "llama-mqa", "mistral", "qwen2", "qwen3",
            "tinyllama-1.1b", "llama-3.2-1b", "qwen2.5-0.5b", "qwen3-0.6b", "smollm-135m");

    /** Small configs of each flavour the loaders must handle, and real architectures' dimensions (for {@code jquant synth}). */
    public static ModelConfig preset(String name) {
        return switch (name) {
            case "llama3" -> new ModelConfig("llama", 64, 96, 2, 4, 2, 16, 300, 256, 1e-5f, 10000f,
                    RopeStyle.HALF_SPLIT, new RopeScaling(8f, 1f, 4f, 64), false, false, true);
            case "llama-mqa" -> new ModelConfig("llama", 64, 96, 2, 4, 1, 16, 300, 128, 1e-5f, 10000f,
                    RopeStyle.HALF_SPLIT, null, false, false, false);
            case "mistral" -> new ModelConfig("mistral", 64, 128, 2, 8, 2, 8, 320, 128, 1e-5f, 1e6f,
                    RopeStyle.HALF_SPLIT, null, false, false, false);
            case "qwen2" -> new ModelConfig("qwen2", 64, 96, 2, 4, 2, 16, 300, 128, 1e-6f, 1e6f,
                    RopeStyle.HALF_SPLIT, null, true, false, true);
            case "qwen3" -> new ModelConfig("qwen3", 48, 96, 2, 4, 2, 24, 300, 128, 1e-6f, 1e6f,
                    RopeStyle.HALF_SPLIT, null, false, true, false);
            // real architectures' dimensions, for speed and scale work
            case "tinyllama-1.1b" -> new ModelConfig("llama", 2048, 5632, 22, 32, 4, 64, 32000, 2048, 1e-5f, 10000f,
                    RopeStyle.HALF_SPLIT, null, false, false, false);
            case "llama-3.2-1b" -> new ModelConfig("llama", 2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5f, 500000f,
                    RopeStyle.HALF_SPLIT, new RopeScaling(32f, 1f, 4f, 8192), false, false, true);
            case "qwen2.5-0.5b" -> new ModelConfig("qwen2", 896, 4864, 24, 14, 2, 64, 151936, 32768, 1e-6f, 1e6f,
                    RopeStyle.HALF_SPLIT, null, true, false, true);
            case "qwen3-0.6b" -> new ModelConfig("qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e-6f, 1e6f,
                    RopeStyle.HALF_SPLIT, null, false, true, true);
            case "smollm-135m" -> new ModelConfig("llama", 576, 1536, 30, 9, 3, 64, 49152, 2048, 1e-5f, 10000f,
                    RopeStyle.HALF_SPLIT, null, false, false, true);
            default -> throw new JQuantException("unknown synthetic model '" + name + "' (known: " + String.join(", ", PRESETS) + ")");
        };
    }

    /**
     * Random F32 weights for {@code config} in Hugging Face layout (half-split RoPE), in memory that
     * closing the checkpoint frees. Linear weights are scaled by 1/sqrt(fan-in) so activations stay
     * in a realistic range; norms scatter around 1.
     */
    public static Checkpoint random(ModelConfig config, long seed) {
        ModelConfig c = withRope(config, RopeStyle.HALF_SPLIT);
        Random rnd = new Random(seed);
        Arena arena = Arena.ofShared();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : ModelShapes.expected(c).entrySet()) {
            tensors.put(e.getKey(), Tensor.ofFloats(e.getKey(), randomValues(e.getKey(), e.getValue(), rnd), arena,
                    e.getValue()));
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("synthetic.seed", seed);
        if (hasVocabulary(c)) {
            metadata.put("bos_token_id", 1);
            metadata.put("eos_token_ids", List.of(2));
        }
        return new Checkpoint(Path.of("synthetic-" + c.architecture() + "-" + seed), "synthetic", c, tensors, null,
                null, metadata, List.of(arena));
    }

    /** Linear weights scaled by 1/sqrt(fan-in) so activations stay realistic; norms scatter around 1. */
    private static float[] randomValues(String name, long[] shape, Random rnd) {
        boolean isNorm = name.endsWith("norm.weight");
        boolean isBias = name.endsWith(".bias");
        double scale = isNorm || isBias ? 0.1 : 1 / Math.sqrt(shape[shape.length - 1]);
        float[] v = new float[Math.toIntExact(shape[0] * (shape.length > 1 ? shape[1] : 1))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((isNorm ? 1 : 0) + scale * rnd.nextGaussian());
        }
        return v;
    }

    /** The model as a Hugging Face directory (F32 safetensors, config.json, generation_config.json). */
    public static void writeHf(ModelConfig config, long seed, Path dir) {
        try (Checkpoint c = random(config, seed)) {
            HfCheckpointWriter.write(c, dir, F32.INSTANCE);
        }
    }

    /**
     * The model as an F32 GGUF file, as llama.cpp's convert_hf_to_gguf.py writes it: Llama and
     * Mistral become architecture "llama" with q/k rows permuted to adjacent-pair RoPE and Llama 3
     * scaling baked into a {@code rope_freqs.weight} tensor; Qwen2/Qwen3 keep half-split RoPE and
     * their rows as they are.
     */
    public static void writeGguf(ModelConfig config, long seed, Path file) {
        writeGguf(config, F32.INSTANCE, seed, file);
    }

    /**
     * The same file with every matrix stored in {@code format} (norms, biases and rope factors stay
     * F32). Tensors are generated one at a time while the file is written, so models larger than
     * memory (1B-parameter presets for speed tests) can be made.
     */
    public static void writeGguf(ModelConfig config, Format format, long seed, Path file) {
        try (Arena arena = Arena.ofConfined()) {
            ModelConfig c = withRope(config, RopeStyle.HALF_SPLIT);
            Random rnd = new Random(seed);
            String arch = switch (c.architecture()) {
                case "llama", "mistral", "smollm" -> "llama";
                case "qwen2", "qwen3" -> c.architecture();
                default -> throw new JQuantException("no GGUF layout for architecture '" + c.architecture() + "'");
            };
            boolean adjacent = arch.equals("llama");
            GgufWriter w = new GgufWriter();
            w.putString("general.architecture", arch);
            w.putString("general.name", "synthetic " + c.architecture());
            String p = arch + ".";
            w.putU32(p + "context_length", c.contextLength());
            w.putU32(p + "embedding_length", c.dim());
            w.putU32(p + "block_count", c.layers());
            w.putU32(p + "feed_forward_length", c.ffnDim());
            w.putU32(p + "attention.head_count", c.heads());
            w.putU32(p + "attention.head_count_kv", c.kvHeads());
            w.putF32(p + "attention.layer_norm_rms_epsilon", c.rmsEps());
            w.putF32(p + "rope.freq_base", c.ropeTheta());
            w.putU32(p + "rope.dimension_count", c.headDim());
            w.putU32(p + "attention.key_length", c.headDim());
            w.putU32(p + "attention.value_length", c.headDim());
            if (hasVocabulary(c)) {
                putVocabulary(w, c.vocabSize());
            }
            if (c.ropeScaling() != null) {
                w.addTensor(ropeFrequencyFactors(c, arena));
            }
            for (var e : ModelShapes.expected(c).entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                Format stored = shape.length == 2 ? format : F32.INSTANCE;
                w.addTensor(name, stored, shape, tensorArena -> {
                    Tensor t = Tensor.ofFloats(name, randomValues(name, shape, rnd), tensorArena, shape);
                    return TensorConverter.convert(adjacent ? toAdjacentPairs(c, t, tensorArena) : t, stored, tensorArena);
                });
            }
            w.write(file);
        }
    }

    private static ModelConfig withRope(ModelConfig c, RopeStyle style) {
        return new ModelConfig(c.architecture(), c.dim(), c.ffnDim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(),
                c.vocabSize(), c.contextLength(), c.rmsEps(), c.ropeTheta(), style, c.ropeScaling(), c.attentionBias(),
                c.qkNorm(), c.tiedOutput());
    }

    /** llama.cpp's permute() of q/k rows (see {@link RopePermutation}); other tensors are returned unchanged. */
    private static Tensor toAdjacentPairs(ModelConfig c, Tensor t, Arena arena) {
        int heads = RopePermutation.rotatedHeads(c, t.name());
        if (heads == 0) {
            return t;
        }
        int[] from = RopePermutation.adjacentFromHalfSplit(heads, c.headDim());
        int rowLength = t.rank() == 1 ? 1 : t.cols();
        float[] src = t.toFloats();
        float[] dst = new float[src.length];
        for (int r = 0; r < from.length; r++) {
            System.arraycopy(src, from[r] * rowLength, dst, r * rowLength, rowLength);
        }
        return Tensor.ofFloats(t.name(), dst, arena, t.shape());
    }

    /** Per-pair divisors of the inverse frequencies, as llama.cpp stores Llama 3 scaling. */
    private static Tensor ropeFrequencyFactors(ModelConfig c, Arena arena) {
        int half = c.headDim() / 2;
        float[] factors = new float[half];
        for (int i = 0; i < half; i++) {
            double invFreq = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
            factors[i] = (float) (invFreq / c.ropeScaling().scale(invFreq));
        }
        return Tensor.ofFloats("rope_freqs.weight", factors, arena, half);
    }

    private static boolean hasVocabulary(ModelConfig c) {
        return c.vocabSize() >= BYTE_TOKENS_END;
    }

    /** A SentencePiece ("llama") vocabulary: controls, byte fallback, then ever longer letter strings. */
    private static void putVocabulary(GgufWriter w, int size) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3)); // unknown, control, control
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6); // byte
        }
        for (int length = 1; tokens.size() < size; length++) {
            for (String piece : letterStrings(length, size - tokens.size())) {
                tokens.add(piece);
                types.add(1); // normal
            }
        }
        List<Float> scores = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            scores.add(i < BYTE_TOKENS_END ? 0f : -(i - BYTE_TOKENS_END));
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, tokens);
        w.putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, scores);
        w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, types);
        w.putU32("tokenizer.ggml.unknown_token_id", 0);
        w.putU32("tokenizer.ggml.bos_token_id", 1);
        w.putU32("tokenizer.ggml.eos_token_id", 2);
    }

    /** Up to {@code limit} pieces: "▁" + word, then the word, for lower-case words of {@code length} letters. */
    private static List<String> letterStrings(int length, int limit) {
        List<String> out = new ArrayList<>();
        int count = (int) Math.min(Math.pow(26, length), Integer.MAX_VALUE);
        for (int n = 0; n < count && out.size() < limit; n++) {
            StringBuilder word = new StringBuilder();
            for (int k = 0, x = n; k < length; k++, x /= 26) {
                word.insert(0, (char) ('a' + x % 26));
            }
            out.add("\u2581" + word);
            if (out.size() < limit) {
                out.add(word.toString());
            }
        }
        return out;
    }
}
