package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.eval.compare.CandidateCatalog;
import dev.jquant.eval.compare.Comparison;
import dev.jquant.eval.task.MultipleChoiceItem;
import dev.jquant.eval.task.MultipleChoiceTasks;
import dev.jquant.kernel.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Quantize a model with each configuration, measure each on the same text against the "
                + "full-precision model, print a table sorted by size with the Pareto frontier marked, and write "
                + "results.json, results.csv, results.md and report.html to --out.")
final class CompareCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FP", description = "the full-precision model (GGUF)")
    Path model;

    @Option(names = "--calib", required = true, paramLabel = "FILE", description = "calibration text (activation statistics; methods that learn from data)")
    Path calib;

    @Option(names = "--eval", required = true, paramLabel = "FILE", description = "evaluation text (when it is the calibration file, the two use disjoint chunks)")
    Path eval;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--methods", split = ",", defaultValue = "rtn", paramLabel = "M,...",
            description = "methods to compare (default: ${DEFAULT-VALUE}); known: rtn, int, nf4, fp4, mxfp4, fp8, gptq, awq, w8a8, smoothquant, int8-outlier, hqq, feedback")
    List<String> methods;

    @Option(names = "--bits", split = ",", defaultValue = "8,4,3,2", paramLabel = "B,...", description = "bit widths for each method (default: ${DEFAULT-VALUE})")
    List<Integer> bits;

    @Option(names = "--formats", split = ",", paramLabel = "TYPE,...", description = "also round-to-nearest into each of these formats, e.g. Q4_0,IQ4_NL")
    List<String> formats = List.of();

    @Option(names = {"-c", "--ctx"}, defaultValue = "512", description = "tokens per chunk (default: ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", defaultValue = "16", description = "evaluation chunks (default: ${DEFAULT-VALUE}; 0: all)")
    int chunks;

    @Option(names = "--calib-chunks", defaultValue = "4", description = "calibration chunks (default: ${DEFAULT-VALUE})")
    int calibChunks;

    @Option(names = "--tasks", paramLabel = "FILE.jsonl", description = "also score multiple-choice items ({context, choices, label}) on every configuration")
    Path tasks;

    @Option(names = "--histogram-tensor", paramLabel = "NAME", description = "weight tensor the report's histograms show (default: a middle layer's ffn_gate)")
    String histogramTensor;

    @Option(names = "--speed-prompt-tokens", defaultValue = "128", description = "prefill batch of the speed measurement; 0 skips it (default: ${DEFAULT-VALUE})")
    int speedPromptTokens;

    @Option(names = "--speed-gen-tokens", defaultValue = "32", description = "decode steps of the speed measurement (default: ${DEFAULT-VALUE})")
    int speedGenTokens;

    @Option(names = "--keep-models", description = "keep the quantized models in DIR/models")
    boolean keepModels;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        setThreads(threads);
        List<CandidateCatalog.Entry> entries = CandidateCatalog.resolve(methods, bits, formats);
        List<MultipleChoiceItem> items = tasks == null ? List.of() : MultipleChoiceTasks.read(tasks);
        Comparison.Options options = new Comparison.Options(ctx, chunks, calibChunks, speedPromptTokens, speedGenTokens,
                histogramTensor, keepModels, items, tasks == null ? null : tasks.toString());
        CompareRunner.run(model, calib, eval, out, entries, options);
        return 0;
    }

    static void setThreads(Integer threads) {
        if (threads != null) {
            if (threads < 1) {
                throw new JQuantException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
    }
}
