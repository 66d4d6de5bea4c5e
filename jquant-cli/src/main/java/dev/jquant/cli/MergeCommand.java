package dev.jquant.cli;

import dev.jquant.format.Formats;
import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.train.lora.LoraMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a PEFT LoRA adapter into a GGUF model's weights and write the model re-quantized.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "IN.gguf", description = "the base model")
    Path model;

    @Option(names = "--lora", required = true, paramLabel = "DIR", description = "PEFT adapter directory")
    Path lora;

    @Option(names = "--out", required = true, paramLabel = "OUT.gguf", description = "the merged model")
    Path out;

    @Option(names = "--format", paramLabel = "TYPE",
            description = "quantize the merged model to this format as 'jquant quantize' would (default: every tensor keeps its stored format)")
    String format;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        QuantizationSummary s = LoraMerge.merge(model, lora, out, format == null ? null : Formats.byName(format));
        System.err.printf(Locale.ROOT, "merged %s into %s; wrote %s (%,d bytes, %.2f bits/weight)%n", lora, model.getFileName(),
                out, s.fileBytes(), s.bitsPerWeight());
        return 0;
    }
}
