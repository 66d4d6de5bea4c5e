package dev.jquant.eval.compare;

import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;

import java.nio.file.Path;
import java.util.List;

/** Round-to-nearest of every matrix into one format (llama-quantize --pure), with llama.cpp's block fallbacks. */
public record RtnCandidate(String method, Format format) implements FormatCandidate {


    @Override
    public QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path out,
                                        GgufQuantizer.Listener listener) {
        return GgufQuantizer.quantize(model, new RtnPlanner(format, null, null, List.of()).plan(model), out, listener);
    }
}
