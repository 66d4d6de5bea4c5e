package dev.jquant.cli;

import dev.jquant.kernel.Parallel;
import dev.jquant.train.LearningRate;
import dev.jquant.train.Trainer;
import picocli.CommandLine.Option;

import java.util.Locale;

/**
 * The options of a short training run on top of an existing model (qat, finetune): step count,
 * batch shape, seed, threads, progress. The peak learning rate stays with each command, whose
 * default differs.
 */
final class TrainingRunOptions {
    @Option(names = "--steps", defaultValue = "200", paramLabel = "N", description = "optimizer steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "sequences per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq", defaultValue = "256", paramLabel = "N", description = "tokens per sequence (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "random seed: initialisation, dropout, batches (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = {"-q", "--quiet"}, description = "no progress lines")
    boolean quiet;

    void applyThreads() {
        if (threads != null) {
            Parallel.setThreads(threads);
        }
    }

    /** AdamW without weight decay, warmup over a tenth of the steps (at most 50), cosine to a tenth of {@code lr}. */
    Trainer.Options trainerOptions(float lr, float beta2) {
        int warmup = Math.min(steps / 10, 50);
        return new Trainer.Options(batch, seq, 1, steps, new LearningRate(lr, lr / 10, warmup, steps),
                0f, 0.9f, beta2, 1e-8f, 1f, seed, 0);
    }

    /** A progress line per step with loss, learning rate and throughput. */
    Trainer.Listener progress(Progress progress) {
        return s -> progress.update(s.step(), s.steps(), String.format(Locale.ROOT, "loss %.4f  lr %.2e  %.0f tok/s",
                s.loss(), s.lr(), s.tokensPerSecond()));
    }
}
