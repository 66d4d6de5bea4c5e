package dev.jquant.eval.compare;

import dev.jquant.tensor.Tensor;

import java.util.Map;

/**
 * How far quantization moves a layer: relative Frobenius error of the weights, ‖W − Ŵ‖/‖W‖, and of
 * the layer's output on real inputs, ‖X(W − Ŵ)ᵀ‖/‖XWᵀ‖ over sampled calibration rows X.
 */
public final class LayerErrors {

    /** One tensor's errors; {@code outputError} is NaN where no input sample exists (embeddings, output). */
    public record TensorError(String tensor, String format, double weightError, double outputError) {
    }

    private LayerErrors() {
    }

    public static double outputError(Tensor original, Tensor quantized, Map<String, ActivationProbe.Site> sites) {
        String site = ActivationProbe.siteOf(original.name());
        ActivationProbe.Site s = site == null ? null : sites.get(site);
        if (s == null || s.width() != original.cols() || s.sample().length == 0) {
            return Double.NaN;
        }
        double err = 0;
        double norm = 0;
        for (float[] x : s.sample()) {
            for (int r = 0, rows = original.rows(); r < rows; r++) {
                double y = original.dotRow(r, x, 0);
                double d = y - quantized.dotRow(r, x, 0);
                err += d * d;
                norm += y * y;
            }
        }
        return norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
    }
}
