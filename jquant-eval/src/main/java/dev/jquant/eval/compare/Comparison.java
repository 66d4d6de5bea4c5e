package dev.jquant.eval.compare;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.eval.ModelSize;
import dev.jquant.eval.Perplexity;
import dev.jquant.eval.QualityComparison;
import dev.jquant.eval.ReferenceLogProbs;
import dev.jquant.eval.SpeedBenchmark;
import dev.jquant.eval.task.MultipleChoiceItem;
import dev.jquant.eval.task.MultipleChoiceScorer;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantizes a model with each configuration and measures every result on the same text against the
 * same reference: the full-precision model's log-probabilities are computed once and saved, then
 * each quantized model is compared with them. One configuration failing becomes a "failed" row; the
 * run goes on.
 */
public final class Comparison {

    /**
     * @param ctx               tokens per evaluation chunk
     * @param chunks            evaluation chunks (0: all the text allows)
     * @param calibrationChunks chunks of calibration text for activation statistics
     * @param speedPromptTokens prefill batch of the speed measurement (0: skip speed)
     * @param histogramTensor   weight tensor whose distribution the report draws (null: a middle layer's ffn_gate)
     * @param keepModels        keep the quantized files under out/models instead of deleting them
     * @param tasks             multiple-choice items to score each configuration on (empty: none)
     */
    public record Options(int ctx, int chunks, int calibrationChunks, int speedPromptTokens, int speedGenTokens,
                          String histogramTensor, boolean keepModels, List<MultipleChoiceItem> tasks, String taskFile) {
        public Options {
            tasks = List.copyOf(tasks);
        }
    }

    /** Where a run is: stages with their own counts (quantize tensors, evaluate chunks, ...). */
    public interface Listener {
        void stage(String configuration, String stage, int total);

        void step(int done, String detail);

        void configurationDone(ConfigResult result, int index, int total);
    }

    private static final int SAMPLE_ROWS = 64;

    private Comparison() {
    }

    public static ComparisonResult run(Path modelPath, Path calibFile, Path evalFile, Path outDir,
                                       List<CandidateCatalog.Entry> entries, Options options, Listener listener) {
        long t0 = System.nanoTime();
        String evalText = TextFiles.read(evalFile);
        createDirectories(outDir);
        Path models = outDir.resolve("models");
        createDirectories(models);
        try (Checkpoint fp = JQuant.load(modelPath)) {
            Tokenizer tokenizer = fp.tokenizer();
            if (tokenizer == null) {
                throw new JQuantException(modelPath + ": the model has no tokenizer; compare needs one to read the text");
            }
            if (!fp.sourceFormat().equals("gguf")) {
                throw new JQuantException(modelPath + ": compare writes GGUF and needs a GGUF model for now (convert it first)");
            }
            int bos = tokenizer.bos();
            int[] evalTokens = tokenizer.encode(evalText, tokenizer.addBosByDefault(), false);
            Transformer fpModel = new Transformer(fp);
            int chunks = Perplexity.chunkCount(evalTokens.length, options.ctx(), options.chunks());
            if (chunks == 0) {
                throw new JQuantException(evalFile + ": " + evalTokens.length + " tokens, fewer than one chunk of " + options.ctx());
            }
            // One file for both: calibration reads the chunks after the evaluated ones, so the two never overlap.
            int[] calibTokens = sameFile(calibFile, evalFile)
                    ? Arrays.copyOfRange(evalTokens, chunks * options.ctx(), evalTokens.length)
                    : tokenizer.encode(TextFiles.read(calibFile), tokenizer.addBosByDefault(), false);

            listener.stage("reference", "activations", options.calibrationChunks());
            Map<String, ActivationProbe.Site> sites = ActivationProbe.run(fpModel, calibTokens, options.ctx(),
                    options.calibrationChunks(), bos, SAMPLE_ROWS);
            listener.step(options.calibrationChunks(), "done");

            Path refFile = outDir.resolve("reference.logp");
            ConfigResult reference = reference(fp, fpModel, evalTokens, chunks, bos, refFile, options, listener);
            String histTensor = options.histogramTensor() != null ? options.histogramTensor()
                    : TensorNames.block(fp.config().layers() / 2, TensorNames.FFN_GATE);
            Tensor histOriginal = fp.tensor(histTensor);
            double[] range = WeightHistogram.range(histOriginal);
            Map<String, WeightHistogram> histograms = new LinkedHashMap<>();
            histograms.put("reference", WeightHistogram.of(histOriginal, range[0], range[1], histOriginal, 1));

            List<ConfigResult> rows = new ArrayList<>();
            Calibration calibration = new Calibration(calibFile, calibTokens);
            try (ReferenceLogProbs saved = ReferenceLogProbs.open(refFile)) {
                int index = 0;
                for (CandidateCatalog.Entry entry : entries) {
                    ConfigResult row = switch (entry) {
                        case CandidateCatalog.Unavailable u ->
                                ConfigResult.notRun(u.method() + "-" + u.setting(), u.method(), u.setting(), "unavailable", u.reason());
                        case CandidateCatalog.Planned p -> measure(p.candidate(), fp, calibration, models, saved, evalTokens,
                                chunks, bos, sites, histTensor, range, histograms, options, listener);
                    };
                    rows.add(row);
                    listener.configurationDone(row, ++index, entries.size());
                }
            }
            if (!options.keepModels()) {
                deleteIfEmpty(models);
            }
            rows = Pareto.mark(rows);
            rows.sort(Comparator.comparing((ConfigResult r) -> !r.ok())
                    .thenComparingLong(ConfigResult::fileBytes).thenComparing(ConfigResult::name));
            return new ComparisonResult(modelPath.toString(), evalFile.toString(), calibFile.toString(), options.ctx(),
                    chunks, chunks * (options.ctx() - 1 - options.ctx() / 2), options.taskFile(), options.tasks().size(),
                    reference, rows, histograms, sites, inputWeightAbsMax(fp, sites), Parallel.get().threads(),
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The full-precision model's own row, computing and saving the reference log-probabilities on the way. */
    private static ConfigResult reference(Checkpoint fp, Transformer model, int[] tokens, int chunks, int bos,
                                          Path refFile, Options options, Listener listener) {
        int ctx = options.ctx();
        listener.stage("reference", "evaluate", chunks);
        Perplexity.Result ppl;
        try (ReferenceLogProbs.Writer writer = new ReferenceLogProbs.Writer(refFile, ctx, chunks, model.config().vocabSize())) {
            int[] current = {-1};
            ppl = Perplexity.compute(model, tokens, ctx, chunks, bos, (chunk, position, logits, target) -> {
                if (chunk != current[0]) {
                    int[] chunkTokens = Arrays.copyOfRange(tokens, chunk * ctx, (chunk + 1) * ctx);
                    if (bos >= 0) {
                        chunkTokens[0] = bos;
                    }
                    writer.beginChunk(chunkTokens);
                    current[0] = chunk;
                }
                writer.add(dev.jquant.eval.Distributions.logSoftmax(logits));
            }, (done, total, running) -> listener.step(done, String.format("ppl %.4f", running)));
            writer.commit();
        }
        Speed speed = speed(model, options, listener, "reference");
        Task task = task(model, fp.tokenizer(), options, listener, "reference");
        ModelSize size = ModelSize.of(fp);
        return new ConfigResult("reference", "none", mainFormat(fp), "ok",
                "the full-precision model", size.fileBytes(), size.bitsPerWeight(), size.matrixBitsPerWeight(), ppl.ppl(),
                ppl.pplError(), 0, 0, 100, 0, speed.prefill, speed.decode, memoryBytes(fp, ctx), 0, task.acc, task.accNorm,
                false, List.of());
    }

    private static ConfigResult measure(Candidate candidate, Checkpoint fp, Calibration calibration, Path models,
                                        ReferenceLogProbs saved, int[] tokens, int chunks, int bos,
                                        Map<String, ActivationProbe.Site> sites, String histTensor, double[] range,
                                        Map<String, WeightHistogram> histograms, Options options, Listener listener) {
        Path file = models.resolve(candidate.name() + ".gguf");
        try {
            listener.stage(candidate.name(), "quantize", fp.tensors().size());
            QuantizationSummary summary = candidate.quantize(fp, calibration, file,
                    (done, total, tensor) -> listener.step(done, tensor));
            try (Checkpoint q = JQuant.load(file)) {
                Transformer model = new Transformer(q);
                listener.stage(candidate.name(), "evaluate", chunks);
                QualityComparison.Result quality = QualityComparison.compare(model,
                        new QualityComparison.SavedReference(saved), tokens, options.ctx(), chunks, bos, null,
                        (done, total, running) -> listener.step(done, String.format("ppl %.4f", running)));
                Speed speed = speed(model, options, listener, candidate.name());
                Task task = task(model, q.tokenizer() != null ? q.tokenizer() : fp.tokenizer(), options, listener,
                        candidate.name());
                List<LayerErrors.TensorError> layers = new ArrayList<>();
                int fallbacks = 0;
                for (QuantizationSummary.TensorResult t : summary.tensors()) {
                    Tensor original = fp.tensor(t.plan().name());
                    if (original.rank() < 2) {
                        continue;
                    }
                    Tensor quantized = q.tensor(t.plan().name());
                    layers.add(new LayerErrors.TensorError(t.plan().name(), t.plan().target().name(), t.relativeError(),
                            LayerErrors.outputError(original, quantized, sites)));
                    if (t.plan().reason().startsWith("fallback")) {
                        fallbacks++;
                    }
                }
                Tensor histQuantized = q.tensor(histTensor);
                histograms.put(candidate.name(), WeightHistogram.of(histQuantized, range[0], range[1], fp.tensor(histTensor),
                        histQuantized.format().blockSize()));
                ModelSize size = ModelSize.of(q);
                String note = fallbacks == 0 ? "" : fallbacks + " matrices in a fallback format (rows not a multiple of the block)";
                return new ConfigResult(candidate.name(), candidate.method(), candidate.setting(), "ok", note,
                        size.fileBytes(), size.bitsPerWeight(), size.matrixBitsPerWeight(), quality.ppl(),
                        quality.pplError(), quality.kldMean(), quality.kldP99(), quality.sameTopPct(), quality.rmsDeltaP(),
                        speed.prefill, speed.decode, memoryBytes(q, options.ctx()), summary.seconds(), task.acc,
                        task.accNorm, false, layers);
            }
        } catch (RuntimeException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            return ConfigResult.notRun(candidate.name(), candidate.method(), candidate.setting(), "failed", why);
        } finally {
            if (!options.keepModels()) {
                deleteQuietly(file);
            }
        }
    }

    private record Speed(double prefill, double decode) {
    }

    private record Task(double acc, double accNorm) {
    }

    private static Speed speed(Transformer model, Options options, Listener listener, String name) {
        if (options.speedPromptTokens() <= 0) {
            return new Speed(Double.NaN, Double.NaN);
        }
        listener.stage(name, "speed", 1);
        int limit = model.config().contextLength();
        SpeedBenchmark.Result r = SpeedBenchmark.run(model, Math.min(options.speedPromptTokens(), limit),
                Math.min(options.speedGenTokens(), limit - 1), 1, Parallel.get().threads());
        listener.step(1, String.format("decode %.0f tokens/s", r.decodeTps()));
        return new Speed(r.prefillTps(), r.decodeTps());
    }

    private static Task task(Transformer model, Tokenizer tokenizer, Options options, Listener listener, String name) {
        if (options.tasks().isEmpty()) {
            return new Task(Double.NaN, Double.NaN);
        }
        listener.stage(name, "tasks", options.tasks().size());
        MultipleChoiceScorer.Result r = MultipleChoiceScorer.score(model, tokenizer, options.tasks(),
                (done, total, acc) -> listener.step(done, String.format("acc %.3f", acc)));
        return new Task(r.accuracy(), r.accuracyNorm());
    }

    /** Weights plus the KV cache a context of {@code ctx} tokens needs in F32: what running the model holds. */
    static long memoryBytes(Checkpoint c, int ctx) {
        ModelConfig cfg = c.config();
        return c.tensorBytes() + 2L * cfg.layers() * ctx * cfg.kvDim() * Float.BYTES;
    }

    /** Per site, the largest |w| of each input channel over the matrices reading that input (SmoothQuant's max|W_j|). */
    static Map<String, float[]> inputWeightAbsMax(Checkpoint fp, Map<String, ActivationProbe.Site> sites) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Tensor t : fp.tensors().values()) {
            String site = t.rank() == 2 ? ActivationProbe.siteOf(t.name()) : null;
            if (site == null || !sites.containsKey(site) || sites.get(site).width() != t.cols()) {
                continue;
            }
            float[] max = out.computeIfAbsent(site, s -> new float[t.cols()]);
            float[] row = new float[t.cols()];
            for (int r = 0; r < t.rows(); r++) {
                t.decodeRow(r, row, 0);
                for (int i = 0; i < row.length; i++) {
                    max[i] = Math.max(max[i], Math.abs(row[i]));
                }
            }
        }
        return out;
    }

    /** The format holding most matrix parameters, e.g. F32 for a full-precision model. */
    private static String mainFormat(Checkpoint c) {
        Map<String, Long> byFormat = new LinkedHashMap<>();
        for (Tensor t : c.tensors().values()) {
            if (t.rank() >= 2) {
                byFormat.merge(t.format().name(), t.elementCount(), Long::sum);
            }
        }
        return byFormat.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }


    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new JQuantException(dir + ": cannot create the directory: " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover temporary model is harmless
        }
    }

    private static void deleteIfEmpty(Path dir) {
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                Files.delete(dir);
            }
        } catch (IOException ignored) {
            // keep a non-empty or unreadable directory
        }
    }
}
