package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;
import dev.jquant.quantize.TensorPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a model. Without --method: every matrix to --format with round-to-nearest, like llama-quantize --pure.",
                "With --method rtn|gptq|awq|...: block by block, each block calibrated on the outputs of the already quantized ones,",
                "onto --format (a GGUF type, GPTQ/AWQ-corrected values in its own blocks) or onto --bits/--group/--sym|--asym integer grids.",
                "--method w8a8|smoothquant|int8-outlier write int8 models the runtime executes with int8 activations;",
                "hqq|feedback refine asymmetric integer formats; --recipe/--preset and --target-bpw/--target-size choose per tensor."})
final class QuantizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "OUT.gguf", description = "output file")
    Path out;

    @Option(names = "--format", paramLabel = "TYPE", description = "target format, e.g. Q4_K, Q8_0, IQ4_NL, F16, INT4_G32_ASYM_F16")
    String format;

    @Option(names = "--method", paramLabel = "NAME",
            description = "rtn, gptq, awq (layer-wise pipeline); w8a8, smoothquant, int8-outlier, hqq, feedback")
    String method;

    @Mixin
    PtqOptions ptq;

    @Option(names = "--bits", paramLabel = "B", description = "integer grid of B bits (2..8) for the block linears, instead of --format")
    Integer bits;

    @Option(names = "--group", paramLabel = "G", defaultValue = "128",
            description = "columns per scale with --bits; 0 = per channel, -1 = per tensor (default: ${DEFAULT-VALUE})")
    int group;

    @Option(names = "--sym", description = "symmetric (absmax) grid with --bits; default: asymmetric (min-max with zero point)")
    boolean symmetric;

    @Option(names = "--asym", description = "asymmetric grid (the default)")
    boolean asymmetric;

    @Option(names = "--observer", paramLabel = "KIND", defaultValue = "minmax",
            description = "range of each weight group with --bits: minmax, mse, percentile[:P], entropy (default: ${DEFAULT-VALUE})")
    String observer;

    @Option(names = "--calib", paramLabel = "FILE", description = "calibration text (needed by gptq and awq)")
    Path calib;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "32", description = "calibration sequences (default: ${DEFAULT-VALUE})")
    int calibSamples;

    @Option(names = "--calib-seqlen", paramLabel = "L", defaultValue = "512", description = "tokens per calibration sequence (default: ${DEFAULT-VALUE}, capped at the model's context)")
    int calibSeqlen;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1234", description = "seed for sampling calibration sequences (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--act-order", description = "gptq: columns by decreasing Hessian diagonal (implies static groups)")
    boolean actOrder;

    @Option(names = "--static-groups", description = "gptq: fix every group's scales before any update")
    boolean staticGroups;

    @Option(names = "--damp", paramLabel = "F", description = "gptq: dampening, fraction of the mean Hessian diagonal (default 0.01)")
    Double damp;

    @Option(names = "--param", paramLabel = "KEY=VALUE", description = "a method parameter, e.g. grid=20 for awq (repeatable)")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--output-format", paramLabel = "TYPE", description = "format of output.weight (default: --format)")
    String outputFormat;

    @Option(names = "--embedding-format", paramLabel = "TYPE", description = "format of token_embd.weight (default: --format)")
    String embeddingFormat;

    @Option(names = "--keep", paramLabel = "PATTERN", description = "leave tensors whose name matches this regular expression as they are (repeatable)")
    List<String> keep = List.of();

    @Option(names = "--quiet", description = "no per-tensor table")
    boolean quiet;

    @Override
    public Integer call() {
        var layerwise = ptq.layerwiseRecipe();
        if (layerwise.isPresent()) {
            return new LayerwiseRun(this).call(layerwise.get());
        }
        if (ptq.active(method)) {
            try (Checkpoint c = modelOptions.load()) {
                ptq.run(c, method, format, out, new PtqOptions.CalibrationSpec(calib, calibSamples, calibSeqlen, seed));
            }
            return 0;
        }
        if (method != null) {
            return new LayerwiseRun(this).call();
        }
        if (format == null) {
            throw new JQuantException("give --format TYPE, or --method with --format or --bits");
        }
        RtnPlanner planner = new RtnPlanner(parse(format, "--format"), parseOrNull(embeddingFormat, "--embedding-format"),
                parseOrNull(outputFormat, "--output-format"), keep.stream().map(QuantizeCommand::pattern).toList());
        try (Checkpoint c = modelOptions.load()) {
            if (c.source().toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new JQuantException(out + ": the output would overwrite the input");
            }
            List<TensorPlan> plans = planner.plan(c);
            Progress progress = new Progress("quantize", false);
            QuantizationSummary s = GgufQuantizer.quantize(c, plans, out,
                    (done, total, name) -> progress.update(done, total, name));
            progress.done();
            print(s);
        }
        return 0;
    }

    private void print(QuantizationSummary s) {
        if (!quiet) {
            System.out.printf("%-32s %-7s %12s %12s %10s  %s%n", "tensor", "type", "bytes in", "bytes out", "rel err", "why");
            for (QuantizationSummary.TensorResult t : s.tensors()) {
                System.out.printf("%-32s %-7s %,12d %,12d %10.5f  %s%n", t.plan().name(), t.plan().target().name(),
                        t.bytesBefore(), t.bytesAfter(), t.relativeError(), t.plan().reason());
            }
        }
        System.out.printf("wrote %s: %,d bytes, %,d parameters, %.3f bits per weight, %.1f s, peak memory %,d bytes%n",
                s.output(), s.fileBytes(), s.parameters(), s.bitsPerWeight(), s.seconds(), s.peakRssBytes());
    }

    static Format parse(String name, String flag) {
        try {
            return Formats.byName(name);
        } catch (JQuantException e) {
            throw new JQuantException(flag + ": " + e.getMessage());
        }
    }

    private static Format parseOrNull(String name, String flag) {
        return name == null ? null : parse(name, flag);
    }

    static Pattern pattern(String p) {
        try {
            return Pattern.compile(p);
        } catch (PatternSyntaxException e) {
            throw new JQuantException("--keep: '" + p + "' is not a valid regular expression: " + e.getDescription());
        }
    }
}
