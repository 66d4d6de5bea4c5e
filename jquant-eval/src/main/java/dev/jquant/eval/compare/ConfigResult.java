package dev.jquant.eval.compare;

import java.util.List;

/**
 * One row of the comparison: a configuration and what it measured. Numbers a failed or unavailable
 * configuration could not measure are NaN (or -1 for byte counts).
 *
 * @param status          "ok", "failed" or "unavailable"
 * @param message         why it failed or is unavailable; for ok rows, notes such as block fallbacks
 * @param bitsPerWeight   over all tensors; {@code matrixBitsPerWeight} over the 2-D ones
 * @param memoryBytes     weights plus a KV cache for the evaluation context: what running it holds
 * @param onFrontier      no other configuration is both no larger and lower in KL divergence
 */
public record ConfigResult(String name, String method, String setting, String status, String message,
                           long fileBytes, double bitsPerWeight, double matrixBitsPerWeight,
                           double ppl, double pplError, double kldMean, double kldP99, double sameTopPct,
                           double rmsDeltaP, double prefillTps, double decodeTps, long memoryBytes,
                           double quantizeSeconds, double taskAccuracy, double taskAccuracyNorm, boolean onFrontier,
                           List<LayerErrors.TensorError> layers) {

    public ConfigResult {
        layers = List.copyOf(layers);
    }

    public boolean ok() {
        return status.equals("ok");
    }

    static ConfigResult notRun(String name, String method, String setting, String status, String message) {
        return new ConfigResult(name, method, setting, status, message, -1, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, -1, Double.NaN,
                Double.NaN, Double.NaN, false, List.of());
    }

    ConfigResult withFrontier(boolean frontier) {
        return new ConfigResult(name, method, setting, status, message, fileBytes, bitsPerWeight, matrixBitsPerWeight,
                ppl, pplError, kldMean, kldP99, sameTopPct, rmsDeltaP, prefillTps, decodeTps, memoryBytes,
                quantizeSeconds, taskAccuracy, taskAccuracyNorm, frontier, layers);
    }
}
