package dev.jquant.eval.compare;

import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.ModelWriter;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.quantize.WeightError;
import dev.jquant.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Writes a model with some tensors replaced by a method and sums up what it did, for the candidates that work that way. */
final class ReplacedTensors {
    private ReplacedTensors() {
    }

    /**
     * Writes {@code source} with {@code replaced} to {@code out}. The per-tensor list holds the
     * replaced weights that {@code comparable} accepts: those whose stored values stand for the
     * original weights (not ones rescaled by smoothing or split into parts), with their error.
     */
    static QuantizationSummary write(Checkpoint source, Map<String, Tensor> replaced, Path out, long startNanos,
                                     String method, Predicate<String> comparable) {
        ModelWriter.write(source, replaced, out);
        List<QuantizationSummary.TensorResult> results = new ArrayList<>();
        long params = 0;
        long bytes = 0;
        for (Tensor original : source.tensors().values()) {
            Tensor t = replaced.getOrDefault(original.name(), original);
            params += t.elementCount();
            bytes += t.byteSize();
            if (t != original && original.rank() == 2 && comparable.test(original.name())) {
                Format f = t.format();
                results.add(new QuantizationSummary.TensorResult(new TensorPlan(t.name(), f, method), t.elementCount(),
                        original.byteSize(), t.byteSize(), WeightError.relativeRms(original, t)));
            }
        }
        // tensors the method added (outlier columns, static scales) count towards the size
        for (Tensor t : replaced.values()) {
            if (!source.tensors().containsKey(t.name())) {
                bytes += t.byteSize();
            }
        }
        return new QuantizationSummary(out, out.toFile().length(), params, bytes, (System.nanoTime() - startNanos) / 1e9,
                dev.jquant.MemoryStats.peakRssBytes(), results);
    }
}
