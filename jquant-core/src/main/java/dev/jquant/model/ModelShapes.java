package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.tensor.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.jquant.model.TensorNames.block;

/**
 * The tensors a {@link ModelConfig} calls for, under their GGUF names, with their row-major shapes
 * ({@code [out, in]} for linear layers). Loaders check a checkpoint against it so a config that
 * disagrees with its weights is reported by name rather than failing inside the forward pass.
 */
public final class ModelShapes {
    private ModelShapes() {
    }

    /** Every tensor the model needs, in a file-like order; {@code output.weight} only when untied. */
    public static Map<String, long[]> expected(ModelConfig c) {
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put(TensorNames.TOKEN_EMBEDDING, new long[]{c.vocabSize(), c.dim()});
        for (int l = 0; l < c.layers(); l++) {
            out.put(block(l, TensorNames.ATTN_NORM), new long[]{c.dim()});
            out.put(block(l, TensorNames.ATTN_Q), new long[]{c.qDim(), c.dim()});
            out.put(block(l, TensorNames.ATTN_K), new long[]{c.kvDim(), c.dim()});
            out.put(block(l, TensorNames.ATTN_V), new long[]{c.kvDim(), c.dim()});
            if (c.attentionBias()) {
                out.put(block(l, TensorNames.ATTN_Q_BIAS), new long[]{c.qDim()});
                out.put(block(l, TensorNames.ATTN_K_BIAS), new long[]{c.kvDim()});
                out.put(block(l, TensorNames.ATTN_V_BIAS), new long[]{c.kvDim()});
            }
            if (c.qkNorm()) {
                out.put(block(l, TensorNames.ATTN_Q_NORM), new long[]{c.headDim()});
                out.put(block(l, TensorNames.ATTN_K_NORM), new long[]{c.headDim()});
            }
            out.put(block(l, TensorNames.ATTN_OUTPUT), new long[]{c.dim(), c.qDim()});
            out.put(block(l, TensorNames.FFN_NORM), new long[]{c.dim()});
            out.put(block(l, TensorNames.FFN_GATE), new long[]{c.ffnDim(), c.dim()});
            out.put(block(l, TensorNames.FFN_UP), new long[]{c.ffnDim(), c.dim()});
            out.put(block(l, TensorNames.FFN_DOWN), new long[]{c.dim(), c.ffnDim()});
        }
        out.put(TensorNames.OUTPUT_NORM, new long[]{c.dim()});
        if (!c.tiedOutput()) {
            out.put(TensorNames.OUTPUT, new long[]{c.vocabSize(), c.dim()});
        }
        return out;
    }

    /** Fails, naming {@code source} and the tensor, unless every expected tensor is there with its shape. */
    public static void check(Object source, ModelConfig c, Map<String, Tensor> tensors) {
        for (var e : expected(c).entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new JQuantException(source + ": tensor " + e.getKey() + " is missing");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new JQuantException(source + ": tensor " + e.getKey() + " has shape "
                        + Arrays.toString(t.shape()) + " but the config calls for " + Arrays.toString(e.getValue()));
            }
        }
    }
}
