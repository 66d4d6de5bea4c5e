package dev.jquant.eval.compare;

import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.smoothquant.SmoothQuant;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.ActivationRanges;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The int8 methods that {@code jquant quantize --method w8a8|smoothquant|int8-outlier} runs, with
 * their defaults (per-token dynamic activations, SmoothQuant α 0.5, outlier threshold 6): block
 * linears as int8 weights that the runtime multiplies with int8 activations, ranges from the
 * calibration text. Plain w8a8 is the round-to-nearest row the other two improve on.
 */
public record Int8Candidate(String method, int calibrationSamples, int calibrationLength) implements Candidate {
    static final double ALPHA = 0.5;

    public Int8Candidate {
        if (!method.equals("w8a8") && !method.equals("smoothquant") && !method.equals("int8-outlier")) {
            throw new JQuantException("not an int8 method: " + method);
        }
    }

    @Override
    public String name() {
        return method.equals("w8a8") ? "w8a8" : method + "-w8a8";
    }

    @Override
    public String setting() {
        return switch (method) {
            case "smoothquant" -> "W8A8, α " + ALPHA;
            case "int8-outlier" -> "W8A8 + F16 columns |x| > " + OutlierSplit.DEFAULT_THRESHOLD;
            default -> "W8A8";
        };
    }

    @Override
    public QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path out,
                                        GgufQuantizer.Listener listener) {
        long t0 = System.nanoTime();
        ActivationRanges ranges = ActivationRanges.collect(new Transformer(model),
                calibration.windows(model, calibrationSamples, calibrationLength).samples());
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> replaced = switch (method) {
                case "smoothquant" -> new SmoothQuant(ALPHA, ActivationMode.DYNAMIC).quantize(model, ranges, arena);
                case "int8-outlier" -> new OutlierSplit(OutlierSplit.DEFAULT_THRESHOLD, ActivationMode.DYNAMIC)
                        .quantize(model, ranges, arena);
                default -> W8A8.quantize(model, ranges, ActivationMode.DYNAMIC, arena);
            };
            return ReplacedTensors.write(model, replaced, out, t0, method, comparable(method, replaced));
        }
    }

    /** Weights whose int8 values stand for the original ones: not smoothed, not missing their outlier columns. */
    private static Predicate<String> comparable(String method, Map<String, Tensor> replaced) {
        return switch (method) {
            case "smoothquant" -> name -> name.endsWith(TensorNames.ATTN_OUTPUT) || name.endsWith(TensorNames.FFN_DOWN);
            case "int8-outlier" -> name -> !replaced.containsKey(TensorNames.companion(name, TensorNames.OUTLIER_COLUMNS));
            default -> name -> true;
        };
    }
}
