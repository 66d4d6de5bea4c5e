package dev.jquant.model;

import dev.jquant.JQuantException;

/**
 * The hyper-parameters of a Llama-family decoder. New architectures are a config (plus a tensor
 * name map in their loader), not a new class.
 *
 * @param architecture  GGUF architecture name: llama, mistral, qwen2, qwen3, ...
 * @param ropeScaling   null when frequencies are not scaled
 * @param attentionBias q/k/v projections carry biases (Qwen2)
 * @param qkNorm        RMSNorm over each head of q and k before RoPE (Qwen3)
 * @param tiedOutput    the output projection is the token embedding
 */
public record ModelConfig(String architecture, int dim, int ffnDim, int layers, int heads, int kvHeads,
                          int headDim, int vocabSize, int contextLength, float rmsEps, float ropeTheta,
                          RopeStyle ropeStyle, RopeScaling ropeScaling, boolean attentionBias, boolean qkNorm,
                          boolean tiedOutput) {

    public ModelConfig {
        require(dim > 0, "dim", dim);
        require(ffnDim > 0, "ffn dim", ffnDim);
        require(layers > 0 && layers <= 4096, "layer count", layers);
        require(heads > 0, "head count", heads);
        require(kvHeads > 0 && heads % kvHeads == 0, "kv head count (must divide " + heads + ")", kvHeads);
        require(headDim > 0 && headDim % 2 == 0, "head dim", headDim);
        require(vocabSize > 0, "vocabulary size", vocabSize);
        require(contextLength > 0, "context length", contextLength);
        if (!(rmsEps > 0) || !(ropeTheta > 0)) {
            throw new JQuantException("model config: rms eps (" + rmsEps + ") and rope theta (" + ropeTheta
                    + ") must be positive");
        }
    }

    private static void require(boolean ok, String what, int value) {
        if (!ok) {
            throw new JQuantException("model config: invalid " + what + ": " + value);
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public ModelConfig withContextLength(int ctx) {
        return new ModelConfig(architecture, dim, ffnDim, layers, heads, kvHeads, headDim, vocabSize, ctx, rmsEps,
                ropeTheta, ropeStyle, ropeScaling, attentionBias, qkNorm, tiedOutput);
    }
}
