package dev.jquant.cli;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.eval.ModelSize;
import dev.jquant.eval.QualityComparison;
import dev.jquant.eval.ReferenceLogProbs;
import dev.jquant.eval.SpeedBenchmark;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Quality, size, memory and speed of a model against its full-precision reference on the same text.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--reference", paramLabel = "FP", description = "the full-precision model to compare against")
    Path reference;

    @Option(names = "--reference-logits", paramLabel = "FILE", description = "reference log-probabilities saved earlier with --save-reference")
    Path referenceLogits;

    @Option(names = "--save-reference", paramLabel = "FILE", description = "save the reference's log-probabilities for later runs")
    Path saveReference;

    @Option(names = {"-f", "--file"}, required = true, description = "UTF-8 evaluation text")
    Path file;

    @Option(names = {"-c", "--ctx"}, defaultValue = "512", description = "tokens per chunk (default: ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", defaultValue = "0", description = "evaluate at most N chunks (default: all)")
    int chunks;

    @Option(names = "--speed-prompt-tokens", defaultValue = "128", description = "prefill batch of the speed measurement; 0 skips it")
    int speedPromptTokens;

    @Option(names = "--speed-gen-tokens", defaultValue = "32", description = "decode steps of the speed measurement")
    int speedGenTokens;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        if ((reference == null) == (referenceLogits == null)) {
            throw new JQuantException("give exactly one of --reference FP or --reference-logits FILE");
        }
        if (saveReference != null && reference == null) {
            throw new JQuantException("--save-reference needs --reference");
        }
        String text = TextFiles.read(file);
        try (Checkpoint model = modelOptions.load();
             Checkpoint refModel = reference != null ? JQuant.load(reference, modelOptions.tokenizer) : null;
             ReferenceLogProbs saved = referenceLogits != null ? ReferenceLogProbs.open(referenceLogits) : null) {
            Tokenizer tokenizer = model.tokenizer();
            if (tokenizer == null) {
                throw new JQuantException(modelOptions.model + ": the model has no tokenizer; pass one with --tokenizer");
            }
            if (refModel != null && refModel.config().vocabSize() != model.config().vocabSize()) {
                throw new JQuantException("the models have different vocabularies (" + model.config().vocabSize()
                        + " and " + refModel.config().vocabSize() + " tokens)");
            }
            int[] tokens = tokenizer.encode(text, tokenizer.addBosByDefault(), false);
            Transformer transformer = new Transformer(model);
            QualityComparison.Reference ref = refModel != null
                    ? new QualityComparison.LiveReference(new Transformer(refModel))
                    : new QualityComparison.SavedReference(saved);
            int plannedChunks = dev.jquant.eval.Perplexity.chunkCount(tokens.length, ctx, chunks);
            Progress progress = new Progress("eval", json);
            QualityComparison.Result q;
            try (ReferenceLogProbs.Writer writer = saveReference != null
                    ? new ReferenceLogProbs.Writer(saveReference, ctx, plannedChunks, model.config().vocabSize()) : null) {
                q = QualityComparison.compare(transformer, ref, tokens, ctx, chunks, tokenizer.bos(), writer,
                        (done, total, running) -> progress.update(done, total, String.format("ppl %.4f", running)));
                if (writer != null) {
                    writer.commit();
                }
            }
            progress.done();
            SpeedBenchmark.Result speed = speedPromptTokens > 0
                    ? SpeedBenchmark.run(transformer, speedPromptTokens, speedGenTokens, 1, Parallel.get().threads()) : null;
            ModelSize size = ModelSize.of(model);
            print(q, size, speed);
        }
        return 0;
    }

    private void print(QualityComparison.Result q, ModelSize size, SpeedBenchmark.Result speed) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", modelOptions.model.toString());
        out.put("ppl", q.ppl());
        out.put("ppl_error", q.pplError());
        out.put("ppl_reference", q.pplReference());
        out.put("delta_ppl", q.deltaPpl());
        out.put("kld_mean", q.kldMean());
        out.put("kld_median", q.kldMedian());
        out.put("kld_p90", q.kldP90());
        out.put("kld_p99", q.kldP99());
        out.put("kld_max", q.kldMax());
        out.put("same_top_pct", q.sameTopPct());
        out.put("rms_delta_p", q.rmsDeltaP());
        out.put("tokens_scored", q.tokensScored());
        out.put("chunks", q.chunks());
        out.put("ctx", q.ctx());
        out.put("file_bytes", size.fileBytes());
        out.put("tensor_bytes", size.allBytes());
        out.put("bits_per_weight", size.bitsPerWeight());
        out.put("matrix_bits_per_weight", size.matrixBitsPerWeight());
        out.put("prefill_tps", speed != null ? speed.prefillTps() : null);
        out.put("decode_tps", speed != null ? speed.decodeTps() : null);
        out.put("peak_rss_bytes", MemoryStats.peakRssBytes());
        if (json) {
            System.out.println(Json.write(out));
            return;
        }
        System.out.printf("perplexity        %.4f ± %.4f   (reference %.4f, Δ %+.4f)%n", q.ppl(), q.pplError(),
                q.pplReference(), q.deltaPpl());
        System.out.printf("KL divergence     mean %.6f  median %.6f  p90 %.6f  p99 %.6f  max %.6f%n", q.kldMean(),
                q.kldMedian(), q.kldP90(), q.kldP99(), q.kldMax());
        System.out.printf("same top token    %.2f %%%n", q.sameTopPct());
        System.out.printf("RMS Δp            %.4f %%%n", 100 * q.rmsDeltaP());
        System.out.printf("scored            %d tokens in %d chunks of %d%n", q.tokensScored(), q.chunks(), q.ctx());
        System.out.printf("size              %,d bytes on disk; %.3f bits/weight (matrices %.3f)%n", size.fileBytes(),
                size.bitsPerWeight(), size.matrixBitsPerWeight());
        if (speed != null) {
            System.out.printf("speed             prefill %.1f tokens/s, decode %.1f tokens/s%n", speed.prefillTps(),
                    speed.decodeTps());
        }
        System.out.printf("peak memory       %,d bytes resident%n", MemoryStats.peakRssBytes());
    }
}
