package dev.jquant.eval;

import dev.jquant.JQuantException;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;

/**
 * Perplexity with llama.cpp's convention (llama-perplexity), so numbers compare directly: the text
 * is tokenized with BOS, cut into chunks of {@code ctx} tokens, each chunk's first token is set to
 * BOS, and only the second half of each chunk is scored (positions ctx/2 .. ctx-2 predicting the next
 * token), so every scored token has at least ctx/2 tokens of context.
 */
public final class Perplexity {

    /** Sees the logits of every scored position (for KL divergence and agreement against a reference). */
    @FunctionalInterface
    public interface LogitsObserver {
        void scored(int chunk, int position, float[] logits, int target);
    }

    /**
     * @param nll      mean negative log-likelihood per scored token (nats)
     * @param pplError standard error of the perplexity, from the spread of per-token NLL (llama.cpp's ±)
     */
    public record Result(double ppl, double pplError, double nll, int tokensScored, int chunks, int ctx,
                         double[] chunkPpl) {
    }

    private Perplexity() {
    }

    /** Number of chunks a token list allows: at most {@code maxChunks} (0 or negative: all). */
    public static int chunkCount(int tokens, int ctx, int maxChunks) {
        int available = tokens / ctx;
        return maxChunks > 0 ? Math.min(available, maxChunks) : available;
    }

    public static Result compute(Transformer model, int[] tokens, int ctx, int maxChunks, int bos,
                                 LogitsObserver observer, ProgressListener progress) {
        if (ctx < 4 || ctx % 2 != 0) {
            throw new JQuantException("--ctx must be an even number of at least 4, got " + ctx);
        }
        int chunks = chunkCount(tokens.length, ctx, maxChunks);
        if (chunks == 0) {
            throw new JQuantException("the text has " + tokens.length + " tokens, fewer than one chunk of " + ctx);
        }
        int first = ctx / 2;
        double nll = 0;
        double nllSquares = 0;
        int count = 0;
        double[] chunkPpl = new double[chunks];
        Session session = model.newSession(ctx);
        for (int c = 0; c < chunks; c++) {
            int[] chunk = java.util.Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            session.rewind(0);
            float[][] logits = session.forward(chunk, first);
            double chunkNll = 0;
            for (int j = first; j < ctx - 1; j++) {
                float[] l = logits[j - first];
                int target = chunk[j + 1];
                double tokenNll = logSumExp(l) - l[target];
                chunkNll += tokenNll;
                nllSquares += tokenNll * tokenNll;
                if (observer != null) {
                    observer.scored(c, j, l, target);
                }
            }
            nll += chunkNll;
            count += ctx - 1 - first;
            chunkPpl[c] = Math.exp(chunkNll / (ctx - 1 - first));
            if (progress != null) {
                progress.update(c + 1, chunks, Math.exp(nll / count));
            }
        }
        double mean = nll / count;
        double variance = Math.max(0, nllSquares / count - mean * mean);
        double ppl = Math.exp(mean);
        return new Result(ppl, ppl * Math.sqrt(variance / count), mean, count, chunks, ctx, chunkPpl);
    }

    public static double logSumExp(float[] l) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : l) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : l) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    /** Progress callback: chunks done of total, running perplexity. */
    @FunctionalInterface
    public interface ProgressListener {
        void update(int done, int total, double runningPpl);
    }
}
