package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.quantize.w8a8.Int8Methods;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Convert every matrix to one format with round-to-nearest (like llama-quantize --pure), or run a "
                + "calibrated int8 method (--method w8a8|smoothquant|int8-outlier), a recipe or preset, or a mixed-precision "
                + "search (--target-bpw/--target-size); norms stay F32.")
final class QuantizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "OUT.gguf", description = "output file")
    Path out;

    @Option(names = "--method", defaultValue = "rtn",
            description = "rtn (default), w8a8, smoothquant, int8-outlier, hqq or feedback")
    String method;

    @Mixin
    PtqOptions ptq;

    @Option(names = "--format", paramLabel = "TYPE", description = "target format, e.g. Q4_K, Q8_0, IQ4_NL, F16")
    String format;

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
        if (ptq.active(method)) {
            try (Checkpoint c = modelOptions.load()) {
                ptq.run(c, method, format, out);
            }
            return 0;
        }
        if (!method.equals("rtn")) {
            throw new JQuantException("--method: unknown method '" + method + "'; known: rtn, " + String.join(", ", Int8Methods.NAMES)
                    + ", " + String.join(", ", PtqOptions.INT_METHODS));
        }
        if (format == null) {
            throw new JQuantException("--format is required with --method rtn");
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

    private static Pattern pattern(String p) {
        try {
            return Pattern.compile(p);
        } catch (PatternSyntaxException e) {
            throw new JQuantException("--keep: '" + p + "' is not a valid regular expression: " + e.getDescription());
        }
    }
}
