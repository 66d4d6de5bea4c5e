package dev.jquant.cli;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.eval.Perplexity;
import dev.jquant.model.Checkpoint;
import dev.jquant.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of a text file with llama.cpp's convention (BOS per chunk, second half of each chunk scored).")
final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    EngineOptions engine;

    @Option(names = {"-f", "--file"}, required = true, description = "UTF-8 text to score")
    Path file;

    @Option(names = {"-c", "--ctx"}, defaultValue = "512", description = "tokens per chunk (default: ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", defaultValue = "0", description = "score at most N chunks (default: all)")
    int chunks;

    @Option(names = "--json", description = "print one JSON object with ppl, tokens_scored, chunks, ...")
    boolean json;

    @Override
    public Integer call() {
        String text = TextFiles.read(file);
        try (Checkpoint checkpoint = modelOptions.load()) {
            Tokenizer tokenizer = checkpoint.tokenizer();
            if (tokenizer == null) {
                throw new JQuantException(modelOptions.model + ": the model has no tokenizer; pass one with --tokenizer");
            }
            int[] tokens = tokenizer.encode(text, tokenizer.addBosByDefault(), false);
            Progress progress = new Progress("perplexity", json);
            long t0 = System.nanoTime();
            Perplexity.Result r = Perplexity.compute(engine.transformer(checkpoint), tokens, ctx, chunks, tokenizer.bos(),
                    null, (done, total, running) -> progress.update(done, total, String.format("ppl %.4f", running)));
            double seconds = (System.nanoTime() - t0) / 1e9;
            progress.done();
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ppl", r.ppl());
                out.put("ppl_error", r.pplError());
                out.put("nll", r.nll());
                out.put("tokens_scored", r.tokensScored());
                out.put("chunks", r.chunks());
                out.put("ctx", r.ctx());
                out.put("tokens_evaluated", (long) r.chunks() * r.ctx());
                out.put("seconds", seconds);
                out.put("tokens_per_second", r.chunks() * (double) r.ctx() / seconds);
                System.out.println(Json.write(out));
            } else {
                System.out.printf("perplexity: %.4f ± %.4f  (%d chunks of %d, %d tokens scored, %.1f tokens/s)%n",
                        r.ppl(), r.pplError(), r.chunks(), r.ctx(), r.tokensScored(), r.chunks() * r.ctx() / seconds);
            }
        }
        return 0;
    }
}
