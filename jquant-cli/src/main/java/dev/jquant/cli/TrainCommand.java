package dev.jquant.cli;

import dev.jquant.format.Formats;
import dev.jquant.kernel.Parallel;
import dev.jquant.train.Pretraining;
import dev.jquant.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Pretrain a Llama-family model from scratch on a text file and write it as GGUF.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "JSON",
            description = "model shape and training settings (see README: Training)")
    Path config;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training text; documents separated by blank lines")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "OUT.gguf", description = "the trained model")
    Path out;

    @Option(names = "--out-type", defaultValue = "F32", paramLabel = "TYPE",
            description = "storage of the model's matrices: F32, F16, BF16 (default: ${DEFAULT-VALUE})")
    String outType;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "training state (default: OUT.ckpt.gguf)")
    Path checkpoint;

    @Option(names = "--loss-csv", paramLabel = "FILE", description = "loss curve (default: OUT.loss.csv)")
    Path lossCsv;

    @Option(names = "--resume", description = "continue from the checkpoint")
    boolean resume;

    @Option(names = "--seed", paramLabel = "S", description = "overrides the config's seed")
    Long seed;

    @Option(names = "--steps", paramLabel = "N", description = "overrides the config's step count")
    Integer steps;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = {"-q", "--quiet"}, description = "no progress lines")
    boolean quiet;

    @Override
    public Integer call() {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        TrainConfig cfg = TrainConfig.read(config);
        if (seed != null) {
            cfg = cfg.withSeed(seed);
        }
        if (steps != null) {
            cfg = cfg.withSteps(steps);
        }
        Path ckpt = checkpoint != null ? checkpoint : out.resolveSibling(out.getFileName() + ".ckpt.gguf");
        Path csv = lossCsv != null ? lossCsv : out.resolveSibling(out.getFileName() + ".loss.csv");
        Progress progress = new Progress("step", quiet);
        Pretraining.Result r = Pretraining.run(cfg, new Pretraining.Locations(data, out, ckpt, csv, Formats.byName(outType)),
                resume, s -> progress.update(s.step(), s.steps(), String.format(Locale.ROOT,
                        "loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s", s.loss(), s.lr(), s.gradNorm(), s.tokensPerSecond())));
        progress.done();
        System.err.printf(Locale.ROOT, "trained %,d parameters on %,d tokens for %d steps, final loss %.4f; wrote %s%n",
                r.parameters(), r.trainingTokens(), r.steps(), r.finalLoss(), out);
        return 0;
    }
}
