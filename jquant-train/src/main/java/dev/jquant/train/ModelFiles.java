package dev.jquant.train;

import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufValueType;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Trained weights as files the rest of jquant reads: F32 GGUF models, and in-memory checkpoints. */
public final class ModelFiles {
    private static final String TOKENIZER_PREFIX = "tokenizer.";

    private ModelFiles() {
    }

    /** The weights as a checkpoint in off-heap memory (freed when it is closed), without a tokenizer. */
    public static Checkpoint inMemory(Parameters p) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> tensors = p.toTensors(arena, UnaryOperator.identity());
        return new Checkpoint(Path.of("trained-" + p.config().architecture()), "trained", p.config(), tensors, null,
                null, Map.of(), List.of(arena));
    }

    /**
     * A GGUF writer holding the model's hyper-parameters as llama.cpp names them, the weights, and the
     * {@code tokenizer.*} metadata of {@code tokenizer} (a vocabulary-only or model GGUF); matrices are
     * stored in {@code matrices} (F32, F16, ...), norm vectors in F32. More tensors and metadata may be
     * added before writing.
     */
    public static GgufWriter writer(Parameters p, GgufFile tokenizer, String name, Format matrices, Arena arena) {
        ModelConfig c = p.config();
        boolean adjacent = !c.architecture().startsWith("qwen");
        if (adjacent != (c.ropeStyle() == RopeStyle.ADJACENT_PAIRS)) {
            throw new JQuantException("a GGUF '" + c.architecture() + "' model pairs RoPE elements "
                    + (adjacent ? "adjacently" : "half-split") + ", but these weights were trained with " + c.ropeStyle());
        }
        GgufWriter w = new GgufWriter();
        String arch = c.architecture();
        w.putString("general.architecture", arch);
        w.putString("general.name", name);
        String k = arch + ".";
        w.putU32(k + "context_length", c.contextLength());
        w.putU32(k + "embedding_length", c.dim());
        w.putU32(k + "block_count", c.layers());
        w.putU32(k + "feed_forward_length", c.ffnDim());
        w.putU32(k + "attention.head_count", c.heads());
        w.putU32(k + "attention.head_count_kv", c.kvHeads());
        w.putF32(k + "attention.layer_norm_rms_epsilon", c.rmsEps());
        w.putF32(k + "rope.freq_base", c.ropeTheta());
        w.putU32(k + "rope.dimension_count", c.headDim());
        w.putU32(k + "attention.key_length", c.headDim());
        w.putU32(k + "attention.value_length", c.headDim());
        if (tokenizer != null) {
            copyTokenizer(tokenizer, w);
        }
        for (String n : p.names()) {
            w.addTensor(tensor(n, p.get(n), p.shape(n), p.shape(n).length == 2 ? matrices : F32.INSTANCE, arena));
        }
        return w;
    }

    /** Writes the weights as a GGUF model (atomically) with {@code tokenizer}'s vocabulary, matrices in {@code matrices}. */
    public static void writeGguf(Parameters p, GgufFile tokenizer, String name, Format matrices, Path out) {
        try (Arena arena = Arena.ofConfined()) {
            writer(p, tokenizer, name, matrices, arena).write(out);
        }
    }

    private static Tensor tensor(String name, float[] values, long[] shape, Format format, Arena arena) {
        long rows = values.length / shape[shape.length - 1];
        long rowBytes = format.rowBytes(shape[shape.length - 1]);
        MemorySegment seg = arena.allocate(rows * rowBytes, 64);
        int cols = (int) shape[shape.length - 1];
        for (int r = 0; r < rows; r++) {
            format.encode(values, r * cols, cols, seg, r * rowBytes);
        }
        return new Tensor(name, format, shape, seg);
    }

    /** Copies every {@code tokenizer.*} key, types preserved. */
    public static void copyTokenizer(GgufFile source, GgufWriter w) {
        for (var e : source.metadata().entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(TOKENIZER_PREFIX)) {
                continue;
            }
            GgufValueType type = source.metadataType(key);
            if (type == GgufValueType.ARRAY) {
                List<?> list = (List<?>) e.getValue();
                w.putArray(key, elementType(list), list);
            } else {
                w.put(key, type, e.getValue());
            }
        }
    }

    private static GgufValueType elementType(List<?> list) {
        if (list.isEmpty()) {
            return GgufValueType.INT32;
        }
        return switch (list.getFirst()) {
            case String s -> GgufValueType.STRING;
            case Float f -> GgufValueType.FLOAT32;
            case Integer i -> GgufValueType.INT32;
            case Long l -> GgufValueType.INT64;
            case Boolean b -> GgufValueType.BOOL;
            case Double d -> GgufValueType.FLOAT64;
            default -> throw new JQuantException("cannot copy tokenizer metadata of element type " + list.getFirst().getClass());
        };
    }
}
