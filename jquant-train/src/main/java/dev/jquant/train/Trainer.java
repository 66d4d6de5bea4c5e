package dev.jquant.train;

import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.io.AtomicFile;
import dev.jquant.io.gguf.GgufCheckpointLoader;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The training loop: random windows of a token stream, gradient accumulation over micro-batches,
 * global-norm clipping, AdamW on a warmup + cosine schedule. Which windows a step sees depends only on
 * the seed and the step, and every sum runs in a fixed order, so a run is reproducible bit for bit and
 * a run resumed from a checkpoint continues exactly as if it had not stopped.
 *
 * <p>The checkpoint is a GGUF file: the model as every command reads it, plus the optimizer moments
 * ({@code adam.m.*}, {@code adam.v.*}) and the step; it is written atomically, as is the loss curve (CSV).
 */
public final class Trainer {
    private static final String MOMENT1 = "adam.m.";
    private static final String MOMENT2 = "adam.v.";
    private static final String STEP_KEY = "train.step";
    private static final String CSV_HEADER = "step,loss,lr,grad_norm,tokens_per_s";

    /**
     * @param batch           sequences per micro-batch
     * @param accumulation    micro-batches per optimizer step
     * @param clip            maximum global gradient norm (0: no clipping)
     * @param checkpointEvery steps between checkpoints (0: only at the end)
     */
    public record Options(int batch, int seq, int accumulation, int steps, LearningRate schedule, float weightDecay,
                          float beta1, float beta2, float eps, float clip, long seed, int checkpointEvery) {
        public Options {
            if (batch < 1 || seq < 1 || accumulation < 1 || steps < 1) {
                throw new JQuantException("batch, sequence length, accumulation and steps must be positive (got "
                        + batch + ", " + seq + ", " + accumulation + ", " + steps + ")");
            }
        }
    }

    /** What one optimizer step did; {@code etaSeconds} extrapolates from the steps run in this process. */
    public record StepStats(int step, int steps, double loss, float lr, double gradNorm, double tokensPerSecond,
                            double etaSeconds) {
    }

    @FunctionalInterface
    public interface Listener {
        void onStep(StepStats stats);
    }

    /** Micro-batch {@code micro} of optimizer step {@code step}; must depend only on its arguments (and the seed). */
    @FunctionalInterface
    public interface BatchSource {
        Batch batch(int step, int micro);
    }

    private final TrainingModel model;
    private final Parameters params;
    private final Parameters grads;
    private final AdamW optimizer;
    private final BatchSource batches;
    private final Options opt;
    private final List<String> lossRows;
    private UnaryOperator<Parameters> forwardWeights = UnaryOperator.identity();
    private java.util.function.BiConsumer<Parameters, Parameters> gradientTransform;
    private Parameters teacher;
    private TrainingModel teacherModel;
    private int step;

    private Trainer(TrainingModel model, Parameters params, AdamW optimizer, int step, List<String> lossRows,
                    BatchSource batches, Options opt) {
        this.model = model;
        this.params = params;
        this.grads = params.zerosLike();
        this.optimizer = optimizer;
        this.step = step;
        this.lossRows = lossRows;
        this.batches = batches;
        this.opt = opt;
    }

    private Trainer(Parameters params, AdamW optimizer, int step, List<String> lossRows, int[] data, Options opt) {
        this(new TrainingModel(params.config()), params, optimizer, step, lossRows, windows(data, opt), opt);
    }

    /** A trainer that starts from {@code initial} (fresh or pretrained weights, updated in place). */
    public static Trainer start(Parameters initial, int[] data, Options opt) {
        AdamW adam = AdamW.forParameters(initial, opt.beta1(), opt.beta2(), opt.eps(), opt.weightDecay());
        return new Trainer(initial, adam, 0, new ArrayList<>(), data, opt);
    }

    /**
     * A trainer of {@code trainable} alone (e.g. LoRA factors, updated in place) on {@code model}, whose
     * forward pass sees the weights {@link #forwardWith} makes of them, batches from {@code batches}.
     */
    public static Trainer start(TrainingModel model, Parameters trainable, BatchSource batches, Options opt) {
        AdamW adam = AdamW.forParameters(trainable, opt.beta1(), opt.beta2(), opt.eps(), opt.weightDecay());
        return new Trainer(model, trainable, adam, 0, new ArrayList<>(), batches, opt);
    }

    /** A trainer that continues from a checkpoint written by {@link #saveCheckpoint} and its loss curve. */
    public static Trainer resume(Path checkpoint, Path lossCsv, int[] data, Options opt) {
        try (Checkpoint c = GgufCheckpointLoader.load(checkpoint)) {
            Parameters p = Parameters.fromCheckpoint(c);
            Parameters m = Parameters.zeros(p.config());
            Parameters v = Parameters.zeros(p.config());
            for (String name : p.names()) {
                System.arraycopy(c.tensor(MOMENT1 + name).toFloats(), 0, m.get(name), 0, m.get(name).length);
                System.arraycopy(c.tensor(MOMENT2 + name).toFloats(), 0, v.get(name), 0, v.get(name).length);
            }
            if (!(c.metadata().get(STEP_KEY) instanceof Number n)) {
                throw new JQuantException(checkpoint + ": not a training checkpoint (metadata " + STEP_KEY + " is missing)");
            }
            int step = n.intValue();
            AdamW adam = new AdamW(opt.beta1(), opt.beta2(), opt.eps(), opt.weightDecay(), m, v, step);
            return new Trainer(p, adam, step, lossRowsUpTo(lossCsv, step), data, opt);
        }
    }

    private static List<String> lossRowsUpTo(Path csv, int step) {
        List<String> rows = new ArrayList<>();
        if (csv == null || !Files.exists(csv)) {
            return rows;
        }
        try {
            for (String line : Files.readAllLines(csv)) {
                if (!line.isBlank() && !line.equals(CSV_HEADER) && Integer.parseInt(line.substring(0, line.indexOf(','))) <= step) {
                    rows.add(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new JQuantException(csv + ": cannot read the loss curve: " + e.getMessage());
        }
        return rows;
    }

    public Parameters parameters() {
        return params;
    }

    /**
     * Runs the forward and backward passes on {@code transform(weights)} and applies the gradient to the
     * weights themselves: with a fake quantizer, quantization-aware training with the straight-through estimator.
     */
    public Trainer forwardWith(UnaryOperator<Parameters> transform) {
        this.forwardWeights = transform;
        return this;
    }

    /**
     * After the backward pass of each step (before clipping), lets {@code transform} turn the gradient of
     * the forward weights into that of the trained parameters, given both (LSQ: clip masks, step sizes).
     */
    public Trainer gradientsWith(java.util.function.BiConsumer<Parameters, Parameters> transform) {
        this.gradientTransform = transform;
        return this;
    }

    /** Trains towards {@code teacherWeights}' output distribution (KL divergence) instead of the next tokens. */
    public Trainer distillFrom(Parameters teacherWeights) {
        this.teacher = teacherWeights;
        this.teacherModel = new TrainingModel(teacherWeights.config());
        return this;
    }

    /** Optimizer steps completed. */
    public int step() {
        return step;
    }

    /**
     * Trains up to step {@code until} (at most the configured steps), calling {@code listener} after each
     * step and {@code checkpoint} every {@code checkpointEvery} steps and at the end.
     */
    public void run(int until, Listener listener, Runnable checkpoint) {
        int last = Math.min(until, opt.steps());
        long start = System.nanoTime();
        int first = step;
        while (step < last) {
            double loss = 0;
            grads.zero();
            Parameters weights = forwardWeights.apply(params);
            for (int micro = 0; micro < opt.accumulation(); micro++) {
                Batch b = batch(step, micro);
                float scale = 1f / opt.accumulation();
                loss += teacher == null ? model.forwardBackward(weights, b, grads, scale)
                        : model.forwardBackwardDistill(weights, b, teacherModel.forward(teacher, b.inputs(), b.size(), b.seq()),
                        grads, scale);
            }
            loss /= opt.accumulation();
            if (gradientTransform != null) {
                gradientTransform.accept(params, grads);
            }
            double norm = Math.sqrt(grads.squaredNorm());
            if (opt.clip() > 0 && norm > opt.clip()) {
                grads.scale((float) (opt.clip() / norm));
            }
            float lr = opt.schedule().at(step);
            optimizer.step(params, grads, lr);
            step++;
            double elapsed = (System.nanoTime() - start) / 1e9;
            double tokensPerSecond = (double) (step - first) * opt.batch() * opt.accumulation() * opt.seq() / elapsed;
            double eta = elapsed / (step - first) * (last - step);
            lossRows.add(String.format(java.util.Locale.ROOT, "%d,%.6f,%.6g,%.6g,%.1f", step, loss, lr, norm, tokensPerSecond));
            if (listener != null) {
                listener.onStep(new StepStats(step, opt.steps(), loss, lr, norm, tokensPerSecond, eta));
            }
            if (checkpoint != null && (step == last || opt.checkpointEvery() > 0 && step % opt.checkpointEvery() == 0)) {
                checkpoint.run();
            }
        }
    }

    Batch batch(int step, int micro) {
        return batches.batch(step, micro);
    }

    /**
     * Random windows of a token stream: micro-batch {@code micro} of step {@code step} drawn from a generator
     * seeded by (seed, step, micro).
     */
    public static BatchSource windows(int[] data, Options opt) {
        if (data.length < opt.seq() + 2) {
            throw new JQuantException("the training data has " + data.length + " tokens, fewer than one window of "
                    + (opt.seq() + 1));
        }
        return (step, micro) -> {
            SplittableRandom rnd = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + (long) step * opt.accumulation() + micro);
            int window = opt.seq() + 1;
            int[] tokens = new int[opt.batch() * window];
            for (int b = 0; b < opt.batch(); b++) {
                int from = rnd.nextInt(data.length - window + 1);
                System.arraycopy(data, from, tokens, b * window, window);
            }
            return Batch.ofWindows(tokens, opt.batch(), opt.seq());
        };
    }

    /** Writes the weights, optimizer moments and step to a GGUF checkpoint with {@code tokenizer}'s vocabulary. */
    public void saveCheckpoint(Path file, GgufFile tokenizer, String name) {
        try (Arena arena = Arena.ofConfined()) {
            GgufWriter w = ModelFiles.writer(params, tokenizer, name, F32.INSTANCE, arena);
            w.putU32(STEP_KEY, step);
            optimizer.firstMoment().toTensors(arena, n -> MOMENT1 + n).values().forEach(w::addTensor);
            optimizer.secondMoment().toTensors(arena, n -> MOMENT2 + n).values().forEach(w::addTensor);
            w.write(file);
        }
    }

    /** Writes the loss curve so far as CSV, atomically. */
    public void saveLossCurve(Path csv) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        lossRows.forEach(r -> sb.append(r).append('\n'));
        AtomicFile.writeString(csv, sb.toString());
    }
}
