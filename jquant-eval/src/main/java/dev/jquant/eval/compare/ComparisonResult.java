package dev.jquant.eval.compare;

import java.util.List;
import java.util.Map;

/**
 * Everything one {@code jquant compare} run measured: the full-precision reference, one row per
 * configuration (sorted by size), and the material the report's distribution charts draw.
 *
 * @param histograms  the chosen weight tensor: the original first, then each configuration's, by name
 * @param activations per linear input site of the full-precision model on the calibration text
 * @param inputWeightAbsMax per site, the largest |w| of each input channel over the matrices it feeds
 */
public record ComparisonResult(String model, String evalFile, String calibrationFile, int ctx, int chunks,
                               int tokensScored, String taskFile, int taskItems, ConfigResult reference,
                               List<ConfigResult> rows, Map<String, WeightHistogram> histograms,
                               Map<String, ActivationProbe.Site> activations, Map<String, float[]> inputWeightAbsMax,
                               int threads, double seconds) {
}
