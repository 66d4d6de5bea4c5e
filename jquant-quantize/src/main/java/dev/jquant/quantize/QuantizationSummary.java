package dev.jquant.quantize;

import java.nio.file.Path;
import java.util.List;

/**
 * What a quantization run produced.
 *
 * @param tensors      per tensor: its plan, bytes before and after, and relative RMS error of the weights
 * @param peakRssBytes the process's peak resident memory, or -1 when unknown
 */
public record QuantizationSummary(Path output, long fileBytes, long parameters, long tensorBytes, double seconds,
                                  long peakRssBytes, List<TensorResult> tensors) {

    public record TensorResult(TensorPlan plan, long elements, long bytesBefore, long bytesAfter, double relativeError) {
    }

    public double bitsPerWeight() {
        return parameters == 0 ? 0 : 8.0 * tensorBytes / parameters;
    }
}
