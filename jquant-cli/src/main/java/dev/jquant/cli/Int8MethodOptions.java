package dev.jquant.cli;

import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.Int8Methods;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of {@code quantize --method w8a8|smoothquant|int8-outlier} (calibrated int8 methods). */
final class Int8MethodOptions {
    @Option(names = "--act", defaultValue = "dynamic", paramLabel = "MODE",
            description = "W8A8 activations: dynamic (a scale per token at run time) or static (scales from calibration)")
    String act;

    @Option(names = "--alpha", defaultValue = "0.5", description = "SmoothQuant migration strength 0..1 (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--outlier-threshold", defaultValue = "" + OutlierSplit.DEFAULT_THRESHOLD,
            description = "int8-outlier: input columns whose calibration |x| exceeds this stay 16-bit (default: ${DEFAULT-VALUE})")
    float outlierThreshold;

    @Option(names = "--calib", paramLabel = "FILE", description = "calibration text")
    Path calib;

    @Option(names = "--calib-samples", defaultValue = "64", description = "calibration sequences (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--calib-seqlen", defaultValue = "256", description = "tokens per calibration sequence (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--seed", defaultValue = "1", description = "seed for drawing calibration sequences (default: ${DEFAULT-VALUE})")
    long seed;

    Int8Methods.Options options(String method) {
        return new Int8Methods.Options(method, ActivationMode.parse(act), alpha, outlierThreshold, calib, samples, seqLen, seed);
    }
}
