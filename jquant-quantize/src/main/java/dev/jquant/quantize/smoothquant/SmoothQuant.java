package dev.jquant.quantize.smoothquant;

import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.ActivationRanges;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SmoothQuant (Xiao et al. 2023): activation outliers live in a few input channels, so divide each
 * channel of the activations by {@code s_j = max|X_j|^α / max|W_j|^(1-α)} and multiply the matching
 * weight column by it — an exact rewrite that moves quantization difficulty from activations to
 * weights. The division is folded into the RMSNorm weights in front of q/k/v and gate/up, so the
 * runtime does nothing extra; then every linear weight is quantized W8A8 as {@link W8A8} does.
 * attn_output and ffn_down have no norm in front and are quantized unsmoothed.
 *
 * @param alpha migration strength: 0 leaves activations alone, 1 moves all of their range into the weights
 */
public record SmoothQuant(double alpha, ActivationMode mode) {
    /** The smallest smoothing factor, so that channels that never fire keep finite weights. */
    private static final float MIN_FACTOR = 1e-5f;

    public SmoothQuant {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new JQuantException("SmoothQuant alpha must be within 0..1, got " + alpha);
        }
    }

    /** The replaced tensors (norms, weights) and added ones (static input scales). */
    public Map<String, Tensor> quantize(Checkpoint model, ActivationRanges ranges, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            smooth(model, ranges, l, TensorNames.ATTN_NORM,
                    List.of(TensorNames.ATTN_Q, TensorNames.ATTN_K, TensorNames.ATTN_V), out, arena);
            smooth(model, ranges, l, TensorNames.FFN_NORM, List.of(TensorNames.FFN_GATE, TensorNames.FFN_UP), out, arena);
            for (String suffix : List.of(TensorNames.ATTN_OUTPUT, TensorNames.FFN_DOWN)) {
                Tensor w = model.tensor(TensorNames.block(l, suffix));
                out.put(w.name(), W8A8.int8Weight(w.name(), w.toFloats(), w.rows(), w.cols(), arena));
                if (mode == ActivationMode.STATIC) {
                    W8A8.putStaticScale(out, w.name(), ranges.absMaxOverall(w.name()), arena);
                }
            }
        }
        return out;
    }

    /** Smooths the layers that read one norm's output, folds 1/s into the norm, quantizes them. */
    private void smooth(Checkpoint model, ActivationRanges ranges, int layer, String norm, List<String> linears,
                        Map<String, Tensor> out, Arena arena) {
        Tensor normTensor = model.tensor(TensorNames.block(layer, norm));
        float[] gamma = normTensor.toFloats();
        float[] actMax = ranges.absMax(TensorNames.block(layer, linears.getFirst()));
        int cols = gamma.length;
        float[][] weights = new float[linears.size()][];
        float[] weightMax = new float[cols];
        for (int i = 0; i < linears.size(); i++) {
            Tensor w = model.tensor(TensorNames.block(layer, linears.get(i)));
            weights[i] = w.toFloats();
            for (int k = 0; k < weights[i].length; k++) {
                weightMax[k % cols] = Math.max(weightMax[k % cols], Math.abs(weights[i][k]));
            }
        }
        float[] s = factors(actMax, weightMax, alpha);
        float smoothedMax = 0;
        for (int c = 0; c < cols; c++) {
            gamma[c] /= s[c];
            smoothedMax = Math.max(smoothedMax, actMax[c] / s[c]);
        }
        out.put(normTensor.name(), Tensor.ofFloats(normTensor.name(), gamma, arena, cols));
        for (int i = 0; i < linears.size(); i++) {
            String name = TensorNames.block(layer, linears.get(i));
            float[] w = weights[i];
            for (int k = 0; k < w.length; k++) {
                w[k] *= s[k % cols];
            }
            out.put(name, W8A8.int8Weight(name, w, w.length / cols, cols, arena));
            if (mode == ActivationMode.STATIC) {
                W8A8.putStaticScale(out, name, smoothedMax, arena);
            }
        }
    }

    /** {@code s_j = max|X_j|^α / max|W_j|^(1-α)}, 1 where a channel has no activation or no weight. */
    static float[] factors(float[] actMax, float[] weightMax, double alpha) {
        float[] s = new float[actMax.length];
        for (int c = 0; c < s.length; c++) {
            if (actMax[c] <= 0 || weightMax[c] <= 0) {
                s[c] = 1;
            } else {
                s[c] = Math.max(MIN_FACTOR, (float) (Math.pow(actMax[c], alpha) / Math.pow(weightMax[c], 1 - alpha)));
            }
        }
        return s;
    }
}
