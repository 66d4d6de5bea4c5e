package dev.jquant.eval.compare;

import dev.jquant.JQuantException;
import dev.jquant.format.Formats;
import dev.jquant.format.IntFormat;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.quantize.feedback.Feedback;
import dev.jquant.quantize.hqq.Hqq;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * HQQ (calibration-free) and quantization with feedback (calibrated) as {@code jquant quantize
 * --method hqq|feedback} run them, onto the same asymmetric integer grid as the {@code int} rows
 * (groups of 32, F16 scales and zero points), so each pairs with round-to-nearest on that grid:
 * the method works on the block linears, and every other matrix is rounded to nearest as in that row.
 */
public record IntGridCandidate(String method, IntFormat format, int calibrationSamples, int calibrationLength)
        implements FormatCandidate {
    /** Feedback's refinement passes per block at most, as the CLI's default. */
    static final int MAX_PASSES = 8;

    public IntGridCandidate {
        if (!method.equals("hqq") && !method.equals("feedback")) {
            throw new JQuantException("not an integer-grid method: " + method);
        }
        if (format.symmetric()) {
            throw new JQuantException(method + " refines zero points: needs an asymmetric format, not " + format.name());
        }
    }

    /** The {@code int} rows' grid at {@code bits}. */
    static IntGridCandidate of(String method, int bits, int calibrationSamples, int calibrationLength) {
        if (!(Formats.byName("INT" + bits + "_G32_ASYM_F16") instanceof IntFormat f)) {
            throw new JQuantException("no asymmetric integer grid at " + bits + " bits");
        }
        return new IntGridCandidate(method, f, calibrationSamples, calibrationLength);
    }


    @Override
    public QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path out,
                                        GgufQuantizer.Listener listener) {
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> replaced;
            if (method.equals("hqq")) {
                replaced = Hqq.DEFAULT.quantize(model, format, arena);
            } else {
                int layers = model.config().layers();
                replaced = new Feedback(format, true, MAX_PASSES).quantize(model,
                        calibration.windows(model, calibrationSamples, calibrationLength).samples(), arena,
                        (layer, passes, before, after) -> {
                            if (listener != null) {
                                listener.converted(layer + 1, layers, "block " + (layer + 1));
                            }
                        });
            }
            // every other matrix rounded to nearest as the int row has it, so the two differ only where the method works
            Map<String, Tensor> all = new java.util.LinkedHashMap<>(replaced);
            for (TensorPlan p : new RtnPlanner(format, null, null, List.of()).plan(model)) {
                Tensor original = model.tensor(p.name());
                if (!all.containsKey(p.name()) && original.rank() == 2 && p.target() != original.format()) {
                    all.put(p.name(), TensorConverter.convert(original, p.target(), arena));
                }
            }
            return ReplacedTensors.write(model, all, out, t0, method, replaced::containsKey);
        }
    }
}
