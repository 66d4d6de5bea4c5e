package dev.jquant.eval.compare;

import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.LayerwiseQuantizer;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.quantize.QuantMethods;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A calibrated method (GPTQ, AWQ, ...) run block by block by {@link LayerwiseQuantizer} into one
 * storage format, so its rows compare directly with round-to-nearest into the same format.
 */
public record LayerwiseCandidate(String method, Format format, int calibrationSamples, int calibrationLength)
        implements FormatCandidate {


    @Override
    public QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path out,
                                        GgufQuantizer.Listener listener) {
        long t0 = System.nanoTime();
        QuantMethod quantMethod = QuantMethods.create(method, MethodParams.NONE);
        CalibrationSet samples = calibration.windows(model, calibrationSamples, calibrationLength);
        try (Arena arena = Arena.ofShared()) {
            GridPlan plan = GridPlan.format(model, format, List.of());
            LayerwiseQuantizer.Result r = LayerwiseQuantizer.run(model, plan, quantMethod, samples, arena,
                    (done, total, seconds) -> {
                        if (listener != null) {
                            listener.converted(done, total, "block " + done);
                        }
                    });
            GgufQuantizer.write(model, r.tensors(), out);
            Map<String, LayerwiseQuantizer.TensorError> errors = r.errors().stream()
                    .collect(Collectors.toMap(LayerwiseQuantizer.TensorError::name, Function.identity(), (a, b) -> a));
            List<QuantizationSummary.TensorResult> results = new ArrayList<>();
            long params = 0;
            long bytes = 0;
            for (Tensor t : r.tensors()) {
                Tensor original = model.tensor(t.name());
                LayerwiseQuantizer.TensorError e = errors.get(t.name());
                results.add(new QuantizationSummary.TensorResult(new TensorPlan(t.name(), t.format(),
                        e != null ? e.grid() : "unchanged"), t.elementCount(), original.byteSize(), t.byteSize(),
                        e != null ? e.weightError() : 0));
                params += t.elementCount();
                bytes += t.byteSize();
            }
            return new QuantizationSummary(out, out.toFile().length(), params, bytes, (System.nanoTime() - t0) / 1e9,
                    dev.jquant.MemoryStats.peakRssBytes(), results);
        }
    }
}
