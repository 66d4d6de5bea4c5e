package dev.jquant.quantize.w8a8;

import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.ModelWriter;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.smoothquant.SmoothQuant;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The calibrated int8 methods behind {@code jquant quantize --method w8a8|smoothquant|int8-outlier}:
 * calibrate activation ranges on text, rewrite the model's tensors, write a GGUF (jquant types:
 * llama.cpp cannot load it) that every jquant command runs with integer W8A8 kernels.
 */
public final class Int8Methods {
    public static final List<String> NAMES = List.of("w8a8", "smoothquant", "int8-outlier");

    /**
     * @param alpha            SmoothQuant migration strength
     * @param outlierThreshold int8-outlier: calibration |x| above which an input column stays 16-bit
     */
    public record Options(String method, ActivationMode mode, double alpha, float outlierThreshold,
                          Path calibrationText, int samples, int sequenceLength, long seed) {
    }

    private Int8Methods() {
    }

    /** Quantizes {@code source} as {@code options} say and writes it to {@code out} atomically; returns the bytes written. */
    public static long run(Checkpoint source, Options options, Path out) {
        List<int[]> calibration = CalibrationSet.fromFile(options.calibrationText(), source.tokenizer(), options.samples(),
                options.sequenceLength(), options.seed()).samples();
        ActivationRanges ranges = ActivationRanges.collect(new Transformer(source), calibration);
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> replaced = switch (options.method().toLowerCase(Locale.ROOT)) {
                case "w8a8" -> W8A8.quantize(source, ranges, options.mode(), arena);
                case "smoothquant" -> new SmoothQuant(options.alpha(), options.mode()).quantize(source, ranges, arena);
                case "int8-outlier" -> new OutlierSplit(options.outlierThreshold(), options.mode()).quantize(source, ranges, arena);
                default -> throw new JQuantException("unknown int8 method '" + options.method() + "'");
            };
            return ModelWriter.write(source, replaced, out);
        }
    }
}
