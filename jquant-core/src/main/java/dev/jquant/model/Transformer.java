package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;

import static dev.jquant.model.TensorNames.*;

/**
 * The Llama-family decoder, wired from a {@link Checkpoint} by config: GQA/MQA, RoPE in either
 * pairing with optional Llama 3 scaling, RMSNorm, SwiGLU, optional q/k/v biases (Qwen2) and QK-norm
 * (Qwen3), tied or separate output. Weights are used in their stored format; small vectors (norms,
 * biases) are decoded to floats once. Inference state lives in a {@link Session}.
 */
public final class Transformer {

    /** One decoder block's parameters. Optional vectors are null when the architecture has none. */
    record Layer(float[] attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, float[] bq, float[] bk, float[] bv,
                 float[] qNorm, float[] kNorm, float[] ffnNorm, Tensor gate, Tensor up, Tensor down) {
    }

    private static final boolean ROW_GROUPS = !"false".equals(System.getProperty("jquant.rowGroups"));

    private final Checkpoint checkpoint;
    private final ModelConfig config;
    private final Tensor tokenEmbedding;
    private final float[] outputNorm;
    private final Tensor output;
    private final Layer[] layers;
    private final float[] invFreq;
    private final KvCacheType kvCacheType;
    /** A LoRA adapter added to the linear products at run time, or null. */
    private final LoraAdapter lora;
    /** Int8 input plans of the linear weights that have companions, by weight name (usually none). */
    private final java.util.Map<String, LinearInputs> linearInputs = new java.util.HashMap<>();

    public Transformer(Checkpoint checkpoint) {
        this(checkpoint, KvCacheType.F32);
    }

    /** The model whose sessions keep their KV cache as {@code kvCacheType} says. */
    public Transformer(Checkpoint checkpoint, KvCacheType kvCacheType) {
        this(checkpoint, kvCacheType, null);
    }

    /** The model with a LoRA adapter applied at run time: each adapted product gains {@code (alpha/r) B (A x)}; the base stays as stored. */
    public Transformer(Checkpoint checkpoint, KvCacheType kvCacheType, LoraAdapter lora) {
        this.checkpoint = checkpoint;
        if (lora != null) {
            lora.check(checkpoint.config(), checkpoint.source() + " with its LoRA adapter");
        }
        this.lora = lora;
        this.kvCacheType = java.util.Objects.requireNonNull(kvCacheType);
        this.config = checkpoint.config();
        Tensor embedding = expect(checkpoint.tensor(TOKEN_EMBEDDING), config.vocabSize(), config.dim());
        this.outputNorm = vector(checkpoint.tensor(OUTPUT_NORM), config.dim());
        Optional<Tensor> separateOutput = checkpoint.optionalTensor(OUTPUT);
        this.output = weight(separateOutput.orElse(embedding), config.vocabSize(), config.dim());
        this.tokenEmbedding = separateOutput.isPresent() ? embedding : output;
        this.layers = new Layer[config.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = layer(i);
            for (Tensor w : List.of(layers[i].wq(), layers[i].wk(), layers[i].wv(), layers[i].wo(), layers[i].gate(),
                    layers[i].up(), layers[i].down())) {
                LinearInputs.find(checkpoint, w).ifPresent(p -> linearInputs.put(w.name(), p));
            }
        }
        this.invFreq = RoPE.inverseFrequencies(config, checkpoint.optionalTensor("rope_freqs.weight")
                .map(t -> vector(t, config.headDim() / 2)).orElse(null));
    }

    private Layer layer(int i) {
        int dim = config.dim();
        int hd = config.headDim();
        return new Layer(
                vector(tensor(i, ATTN_NORM), dim),
                weight(tensor(i, ATTN_Q), config.qDim(), dim),
                weight(tensor(i, ATTN_K), config.kvDim(), dim),
                weight(tensor(i, ATTN_V), config.kvDim(), dim),
                weight(tensor(i, ATTN_OUTPUT), dim, config.qDim()),
                optionalVector(i, ATTN_Q_BIAS, config.qDim(), config.attentionBias()),
                optionalVector(i, ATTN_K_BIAS, config.kvDim(), config.attentionBias()),
                optionalVector(i, ATTN_V_BIAS, config.kvDim(), config.attentionBias()),
                optionalVector(i, ATTN_Q_NORM, hd, config.qkNorm()),
                optionalVector(i, ATTN_K_NORM, hd, config.qkNorm()),
                vector(tensor(i, FFN_NORM), dim),
                weight(tensor(i, FFN_GATE), config.ffnDim(), dim),
                weight(tensor(i, FFN_UP), config.ffnDim(), dim),
                weight(tensor(i, FFN_DOWN), dim, config.ffnDim()));
    }

    private Tensor tensor(int layer, String suffix) {
        return checkpoint.tensor(block(layer, suffix));
    }

    private float[] optionalVector(int layer, String suffix, int length, boolean required) {
        Optional<Tensor> t = checkpoint.optionalTensor(block(layer, suffix));
        if (t.isEmpty()) {
            if (required) {
                throw new JQuantException(checkpoint.source() + ": tensor " + block(layer, suffix) + " is missing");
            }
            return null;
        }
        return vector(t.get(), length);
    }

    /**
     * A linear layer's weight, repacked for the decode kernels where its format has a row-group
     * layout, unless the system property {@code jquant.rowGroups} is {@code false} (every product then
     * runs on the stored rows in float, for comparison).
     */
    private Tensor weight(Tensor t, int rows, int cols) {
        Tensor w = expect(t, rows, cols);
        return ROW_GROUPS ? w.withRowGroups(Arena.ofAuto()) : w;
    }

    private Tensor expect(Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
            throw new JQuantException(checkpoint.source() + ": tensor " + t.name() + " has shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected [" + rows + ", " + cols + "]");
        }
        return t;
    }

    private float[] vector(Tensor t, int length) {
        if (t.elementCount() != length) {
            throw new JQuantException(checkpoint.source() + ": tensor " + t.name() + " has "
                    + t.elementCount() + " elements, expected " + length);
        }
        return t.toFloats();
    }

    public ModelConfig config() {
        return config;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    Layer[] layers() {
        return layers;
    }

    Tensor tokenEmbedding() {
        return tokenEmbedding;
    }

    float[] outputNorm() {
        return outputNorm;
    }

    Tensor output() {
        return output;
    }

    /** The int8 input plan of a linear weight, or null when it runs as its format says. */
    LinearInputs linearInputs(String weightName) {
        return linearInputs.isEmpty() ? null : linearInputs.get(weightName);
    }

    /** The run-time LoRA adapter, or null. */
    public LoraAdapter lora() {
        return lora;
    }

    float[] inverseFrequencies() {
        return invFreq;
    }

    /**
     * Weight bytes one decode step reads: every tensor of the checkpoint, except that a separate
     * token-embedding table contributes only the one row it looks up (a tied table is read whole,
     * as the output matrix).
     */
    public long decodeBytesPerToken() {
        long all = checkpoint.tensorBytes();
        return tokenEmbedding == output ? all : all - tokenEmbedding.byteSize() + tokenEmbedding.rowBytes();
    }

    /** A fresh inference state (KV cache of this model's {@link #kvCacheType()}) for up to {@code maxContext} positions. */
    public Session newSession(int maxContext) {
        return new Session(this, maxContext, kvCacheType);
    }

    /** How sessions of this model store keys and values. */
    public KvCacheType kvCacheType() {
        return kvCacheType;
    }
}
