package dev.jquant.testing;

import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeScaling;
import dev.jquant.model.RopeStyle;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.jquant.model.TensorNames.*;

/** Small random models built in memory, one per architecture flavour, for engine tests. */
public final class TestModels {
    private TestModels() {
    }

    /** A config of the given flavour with small odd-ish dimensions. */
    public static ModelConfig config(String flavour) {
        return switch (flavour) {
            case "llama" -> new ModelConfig("llama", 48, 100, 2, 6, 2, 8, 61, 64, 1e-5f, 10000, RopeStyle.ADJACENT_PAIRS,
                    null, false, false, true);
            case "llama3" -> new ModelConfig("llama", 64, 96, 2, 4, 2, 16, 70, 64, 1e-5f, 500000, RopeStyle.HALF_SPLIT,
                    new RopeScaling(8, 1, 4, 16), false, false, false);
            case "qwen2" -> new ModelConfig("qwen2", 32, 72, 2, 4, 1, 8, 50, 64, 1e-6f, 1000000, RopeStyle.HALF_SPLIT,
                    null, true, false, true);
            case "qwen3" -> new ModelConfig("qwen3", 32, 64, 2, 2, 1, 24, 40, 64, 1e-6f, 1000000, RopeStyle.HALF_SPLIT,
                    null, false, true, false);
            default -> throw new IllegalArgumentException(flavour);
        };
    }

    public static final List<String> FLAVOURS = List.of("llama", "llama3", "qwen2", "qwen3");

    /** Random weights (Gaussian, scale 1/sqrt(fan-in)) stored in {@code format}; norms near 1. */
    public static Checkpoint random(ModelConfig cfg, Format format, long seed, Arena arena) {
        Random rnd = new Random(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        put(t, arena, format, rnd, TOKEN_EMBEDDING, 1.0, cfg.vocabSize(), cfg.dim());
        putNorm(t, arena, rnd, OUTPUT_NORM, cfg.dim());
        if (!cfg.tiedOutput()) {
            put(t, arena, format, rnd, OUTPUT, 1 / Math.sqrt(cfg.dim()), cfg.vocabSize(), cfg.dim());
        }
        for (int l = 0; l < cfg.layers(); l++) {
            putNorm(t, arena, rnd, block(l, ATTN_NORM), cfg.dim());
            put(t, arena, format, rnd, block(l, ATTN_Q), 1 / Math.sqrt(cfg.dim()), cfg.qDim(), cfg.dim());
            put(t, arena, format, rnd, block(l, ATTN_K), 1 / Math.sqrt(cfg.dim()), cfg.kvDim(), cfg.dim());
            put(t, arena, format, rnd, block(l, ATTN_V), 1 / Math.sqrt(cfg.dim()), cfg.kvDim(), cfg.dim());
            put(t, arena, format, rnd, block(l, ATTN_OUTPUT), 1 / Math.sqrt(cfg.qDim()), cfg.dim(), cfg.qDim());
            if (cfg.attentionBias()) {
                put(t, arena, dev.jquant.format.F32.INSTANCE, rnd, block(l, ATTN_Q_BIAS), 0.1, cfg.qDim());
                put(t, arena, dev.jquant.format.F32.INSTANCE, rnd, block(l, ATTN_K_BIAS), 0.1, cfg.kvDim());
                put(t, arena, dev.jquant.format.F32.INSTANCE, rnd, block(l, ATTN_V_BIAS), 0.1, cfg.kvDim());
            }
            if (cfg.qkNorm()) {
                putNorm(t, arena, rnd, block(l, ATTN_Q_NORM), cfg.headDim());
                putNorm(t, arena, rnd, block(l, ATTN_K_NORM), cfg.headDim());
            }
            putNorm(t, arena, rnd, block(l, FFN_NORM), cfg.dim());
            put(t, arena, format, rnd, block(l, FFN_GATE), 1 / Math.sqrt(cfg.dim()), cfg.ffnDim(), cfg.dim());
            put(t, arena, format, rnd, block(l, FFN_UP), 1 / Math.sqrt(cfg.dim()), cfg.ffnDim(), cfg.dim());
            put(t, arena, format, rnd, block(l, FFN_DOWN), 1 / Math.sqrt(cfg.ffnDim()), cfg.dim(), cfg.ffnDim());
        }
        return new Checkpoint(Path.of("random-" + cfg.architecture()), "memory", cfg, t, null, null, Map.of(), List.of());
    }

    /** The same checkpoint with every 2-D tensor re-encoded in {@code format} (norms and biases stay F32). */
    public static Checkpoint convert(Checkpoint c, Format format, Arena arena) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Tensor src : c.tensors().values()) {
            if (src.rank() < 2) {
                t.put(src.name(), src);
                continue;
            }
            float[] values = src.toFloats();
            MemorySegment seg = arena.allocate(Tensor.byteSize(format, src.shape()), 64);
            int cols = src.cols();
            long rowBytes = format.rowBytes(cols);
            for (int r = 0; r < src.rows(); r++) {
                format.encode(values, r * cols, cols, seg, r * rowBytes);
            }
            t.put(src.name(), new Tensor(src.name(), format, src.shape(), seg));
        }
        return new Checkpoint(c.source(), c.sourceFormat(), c.config(), t, c.tokenizer(), c.chatTemplate(), c.metadata(),
                List.of());
    }

    private static void put(Map<String, Tensor> t, Arena arena, Format format, Random rnd, String name, double scale,
                            long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        MemorySegment seg = arena.allocate(Tensor.byteSize(format, shape), 64);
        int cols = (int) shape[shape.length - 1];
        for (int r = 0; r < n / cols; r++) {
            format.encode(v, r * cols, cols, seg, r * format.rowBytes(cols));
        }
        t.put(name, new Tensor(name, format, shape, seg));
    }

    private static void putNorm(Map<String, Tensor> t, Arena arena, Random rnd, String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (1 + 0.1 * rnd.nextGaussian());
        }
        t.put(name, Tensor.ofFloats(name, v, arena, n));
    }
}
