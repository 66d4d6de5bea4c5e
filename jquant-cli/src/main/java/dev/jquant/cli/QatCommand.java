package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.train.Trainer;
import dev.jquant.train.qat.QuantizationAwareTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.concurrent.Callable;

@Command(name = "qat", mixinStandardHelpOptions = true,
        description = "Quantization-aware training: fine-tune with fake-quantized weights (straight-through estimator), "
                + "then write the real quantized model.")
final class QatCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "IN.gguf", description = "the model to quantize")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "OUT.gguf", description = "the quantized model")
    Path out;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training text; documents separated by blank lines")
    Path data;

    @Option(names = "--bits", defaultValue = "4", paramLabel = "B", description = "integer bits per weight, 2..8 (default: ${DEFAULT-VALUE})")
    int bits;

    @Option(names = "--group", defaultValue = "64", paramLabel = "G", description = "weights per scale and zero point (default: ${DEFAULT-VALUE})")
    int group;

    @Option(names = "--format", paramLabel = "TYPE", description = "any storage format instead of --bits/--group: Q2_K, Q3_K, Q4_0, IQ4_NL, NF4, ...")
    String format;

    @Option(names = "--keep", paramLabel = "PATTERN",
            description = "leave tensors whose name matches this regular expression as they are (repeatable)")
    List<String> keep = new ArrayList<>();

    @Option(names = "--distill", description = "train towards the original model's output distribution (KL) instead of the text's next tokens")
    boolean distill;

    @Option(names = "--lsq", description = "learn each group's step size (LSQ, Esser et al. 2019), starting from round-to-nearest; integer formats")
    boolean lsq;

    @Option(names = "--act-bits", defaultValue = "0", paramLabel = "B",
            description = "also fake-quantize the inputs of every linear layer per token, symmetric, to B bits (e.g. 8); 0: off")
    int actBits;

    @Mixin
    TrainingRunOptions run;

    @Option(names = "--lr", defaultValue = "5e-4", paramLabel = "LR", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    float lr;


    @Override
    public Integer call() {
        run.applyThreads();
        if (actBits < 0 || actBits == 1 || actBits > 16) {
            throw new JQuantException("--act-bits must be 0 (off) or 2..16, got " + actBits);
        }
        Format target = format != null ? Formats.byName(format) : intFormat();
        Trainer.Options options = run.trainerOptions(lr, 0.95f);
        Progress progress = new Progress("step", run.quiet);
        QuantizationAwareTraining.Result r = QuantizationAwareTraining.run(model, data, out, target,
                keep.stream().map(Pattern::compile).toList(), distill,
                new QuantizationAwareTraining.Extras(lsq, actBits), options, run.progress(progress));
        progress.done();
        System.err.printf(Locale.ROOT, "%s: %s%s, %d steps, %s loss %.4f with round-to-nearest weights, %.4f after; wrote %s (%,d bytes, %.2f bits/weight)%n",
                model.getFileName(), target.name(), (lsq ? " LSQ" : "") + (actBits > 0 ? " A" + actBits : ""), r.steps(), distill ? "distillation" : "training", r.firstLoss(),
                r.lastLoss(), out, r.written().fileBytes(), r.written().bitsPerWeight());
        return 0;
    }

    private Format intFormat() {
        if (bits < 2 || bits > 8 || group < 8) {
            throw new JQuantException("--bits must be 2..8 and --group at least 8 (got " + bits + ", " + group + ")");
        }
        return new IntFormat(bits, group, false, ScaleType.F16);
    }
}
