package dev.jquant.train;

import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.ModelShapes;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A model's trainable tensors as F32 arrays under their GGUF names, in {@link ModelShapes} order;
 * the same type holds weights, gradients and optimizer moments. A set may also hold only some of the
 * model's tensors (the frozen F32 part of a QLoRA model) or tensors of its own (LoRA factors), see {@link #of}.
 */
public final class Parameters {
    private final ModelConfig config;
    private final Map<String, float[]> values;
    private final Map<String, long[]> shapes;

    private Parameters(ModelConfig config, Map<String, float[]> values) {
        this(config, values, ModelShapes.expected(config));
    }

    private Parameters(ModelConfig config, Map<String, float[]> values, Map<String, long[]> shapes) {
        this.config = config;
        this.values = values;
        this.shapes = shapes;
    }

    /** Arbitrary named arrays of the given shapes (in the map's order), e.g. adapter factors; the arrays are shared, not copied. */
    public static Parameters of(ModelConfig config, Map<String, float[]> values, Map<String, long[]> shapes) {
        Map<String, long[]> s = new LinkedHashMap<>();
        for (var e : values.entrySet()) {
            long[] shape = shapes.get(e.getKey());
            if (shape == null || count(shape) != e.getValue().length) {
                throw new IllegalArgumentException(e.getKey() + ": " + e.getValue().length + " values for shape "
                        + java.util.Arrays.toString(shape));
            }
            s.put(e.getKey(), shape.clone());
        }
        return new Parameters(config, new LinkedHashMap<>(values), s);
    }

    /** Zeros of the same names and shapes (gradients, optimizer moments). */
    public Parameters zerosLike() {
        return map((name, v) -> new float[v.length]);
    }

    /** Both sets' arrays under their names, shared, not copied (e.g. frozen weights beside trainable adapters). */
    public Parameters with(Parameters other) {
        Map<String, float[]> v = new LinkedHashMap<>(values);
        Map<String, long[]> s = new LinkedHashMap<>(shapes);
        other.values.forEach((name, arr) -> {
            if (v.put(name, arr) != null) {
                throw new IllegalArgumentException("parameter " + name + " is in both sets");
            }
            s.put(name, other.shapes.get(name));
        });
        return new Parameters(config, v, s);
    }

    /** Whether this set holds {@code name}. */
    public boolean contains(String name) {
        return values.containsKey(name);
    }

    /** All zeros (gradients, optimizer moments). */
    public static Parameters zeros(ModelConfig config) {
        Map<String, float[]> v = new LinkedHashMap<>();
        for (var e : ModelShapes.expected(supported(config)).entrySet()) {
            v.put(e.getKey(), new float[Math.toIntExact(count(e.getValue()))]);
        }
        return new Parameters(config, v);
    }

    /**
     * A fresh model: norms 1, weights N(0, 0.02) with the projections into the residual stream (attention
     * output, FFN down) scaled by 1/sqrt(2 layers) as in GPT-2, so the stream's variance does not grow with depth.
     */
    public static Parameters initialize(ModelConfig config, long seed) {
        Parameters p = zeros(config);
        Random rnd = new Random(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.layers());
        for (var e : p.values.entrySet()) {
            String name = e.getKey();
            float[] v = e.getValue();
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(v, 1f);
                continue;
            }
            double std = name.endsWith(TensorNames.ATTN_OUTPUT) || name.endsWith(TensorNames.FFN_DOWN) ? residualStd : 0.02;
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (std * rnd.nextGaussian());
            }
        }
        return p;
    }

    /** A copy of a checkpoint's weights, decoded to F32 from whatever format they are stored in. */
    public static Parameters fromCheckpoint(Checkpoint checkpoint) {
        return fromCheckpoint(checkpoint, name -> true);
    }

    /** A copy of those of a checkpoint's weights whose names {@code include} accepts, decoded to F32. */
    public static Parameters fromCheckpoint(Checkpoint checkpoint, java.util.function.Predicate<String> include) {
        ModelConfig c = supported(checkpoint.config());
        ModelShapes.check(checkpoint.source(), c, checkpoint.tensors());
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, long[]> s = new LinkedHashMap<>();
        for (var e : ModelShapes.expected(c).entrySet()) {
            if (include.test(e.getKey())) {
                v.put(e.getKey(), checkpoint.tensor(e.getKey()).toFloats());
                s.put(e.getKey(), e.getValue());
            }
        }
        return new Parameters(c, v, s);
    }

    /** The configs the trainer covers: the Llama core without q/k/v biases, QK-norm or RoPE scaling. */
    static ModelConfig supported(ModelConfig c) {
        if (c.attentionBias() || c.qkNorm() || c.ropeScaling() != null) {
            throw new JQuantException("training supports Llama-style models without attention biases, QK-norm or RoPE"
                    + " scaling; " + c.architecture() + " has " + (c.attentionBias() ? "biases" : c.qkNorm() ? "QK-norm" : "RoPE scaling"));
        }
        return c;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public ModelConfig config() {
        return config;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    public float[] get(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new JQuantException("no parameter " + name);
        }
        return v;
    }

    public long[] shape(String name) {
        return shapes.get(name).clone();
    }

    /** Total number of scalars. */
    public long count() {
        return values.values().stream().mapToLong(v -> v.length).sum();
    }

    /** A deep copy. */
    public Parameters copy() {
        return map((name, v) -> v.clone());
    }

    /** A new set with each array replaced by {@code f(name, array)} (e.g. fake-quantized weights). */
    public Parameters map(java.util.function.BiFunction<String, float[], float[]> f) {
        Map<String, float[]> v = new LinkedHashMap<>();
        values.forEach((name, arr) -> v.put(name, f.apply(name, arr)));
        return new Parameters(config, v, shapes);
    }

    public void zero() {
        values.values().forEach(v -> java.util.Arrays.fill(v, 0f));
    }

    /** Sum of squares of every element, in double. */
    public double squaredNorm() {
        double s = 0;
        for (float[] v : values.values()) {
            for (float x : v) {
                s += (double) x * x;
            }
        }
        return s;
    }

    public void scale(float factor) {
        for (float[] v : values.values()) {
            for (int i = 0; i < v.length; i++) {
                v[i] *= factor;
            }
        }
    }

    /** F32 tensors of these arrays, allocated in {@code arena}, renamed by {@code rename}. */
    public Map<String, Tensor> toTensors(Arena arena, UnaryOperator<String> rename) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        values.forEach((name, v) -> {
            String n = rename.apply(name);
            out.put(n, Tensor.ofFloats(n, v, arena, shapes.get(name)));
        });
        return out;
    }
}
