package dev.jquant.eval;

import dev.jquant.JQuantException;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;

import java.util.Arrays;

/**
 * How much a (quantized) model departs from its reference on the same text, measured as
 * llama-perplexity --kl-divergence does: perplexity of both, KL divergence of the model's
 * next-token distribution from the reference's at every scored position, how often both pick the
 * same top token, and the RMS change in the probability of the actual next token.
 */
public final class QualityComparison {

    /** Where the reference distributions come from: a model run now, or a file saved earlier. */
    public sealed interface Reference permits LiveReference, SavedReference {
    }

    public record LiveReference(Transformer model) implements Reference {
    }

    public record SavedReference(ReferenceLogProbs file) implements Reference {
    }

    public record Result(double ppl, double pplError, double pplReference, double kldMean, double kldMedian,
                         double kldP90, double kldP99, double kldMax, double sameTopPct, double rmsDeltaP,
                         int tokensScored, int chunks, int ctx, double seconds) {
        public double deltaPpl() {
            return ppl - pplReference;
        }
    }

    private QualityComparison() {
    }

    /**
     * Compares {@code model} against {@code reference} on {@code tokens} (BOS + text, as for
     * perplexity). With a saved reference, its own token chunks are used and must match the text's.
     */
    public static Result compare(Transformer model, Reference reference, int[] tokens, int ctx, int maxChunks, int bos,
                                 ReferenceLogProbs.Writer save, Perplexity.ProgressListener progress) {
        int chunks = Perplexity.chunkCount(tokens.length, ctx, maxChunks);
        if (reference instanceof SavedReference(ReferenceLogProbs file)) {
            if (file.ctx() != ctx || file.vocab() != model.config().vocabSize()) {
                throw new JQuantException("the saved reference was made with ctx " + file.ctx() + " and vocabulary "
                        + file.vocab() + "; this run uses ctx " + ctx + " and vocabulary " + model.config().vocabSize());
            }
            chunks = Math.min(chunks, file.chunks());
        }
        if (chunks == 0) {
            throw new JQuantException("the text has " + tokens.length + " tokens, fewer than one chunk of " + ctx);
        }
        int first = ctx / 2;
        int perChunk = ctx - 1 - first;
        double[] kld = new double[chunks * perChunk];
        double nll = 0;
        double nllSq = 0;
        double nllRef = 0;
        double dpSq = 0;
        int same = 0;
        int n = 0;
        long t0 = System.nanoTime();
        Session session = model.newSession(ctx);
        Session refSession = reference instanceof LiveReference(Transformer ref) ? ref.newSession(ctx) : null;
        for (int c = 0; c < chunks; c++) {
            int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            double[][] refLogProbs = new double[perChunk][];
            if (reference instanceof SavedReference(ReferenceLogProbs file)) {
                if (!Arrays.equals(file.tokens(c), chunk)) {
                    throw new JQuantException("the saved reference was computed on a different text (chunk " + c
                            + " differs); recompute it with --save-reference");
                }
                for (int j = 0; j < perChunk; j++) {
                    refLogProbs[j] = file.logProbs(c, j);
                }
            } else {
                refSession.rewind(0);
                float[][] refLogits = refSession.forward(chunk, first);
                for (int j = 0; j < perChunk; j++) {
                    refLogProbs[j] = Distributions.logSoftmax(refLogits[j]);
                }
            }
            if (save != null) {
                save.beginChunk(chunk);
                for (double[] row : refLogProbs) {
                    save.add(row);
                }
            }
            session.rewind(0);
            float[][] logits = session.forward(chunk, first);
            for (int j = 0; j < perChunk; j++) {
                double[] lp = Distributions.logSoftmax(logits[j]);
                double[] ref = refLogProbs[j];
                int target = chunk[first + j + 1];
                nll -= lp[target];
                nllSq += lp[target] * lp[target];
                nllRef -= ref[target];
                kld[n] = Distributions.klDivergence(ref, lp);
                if (Distributions.argmax(ref) == Distributions.argmax(lp)) {
                    same++;
                }
                double dp = Math.exp(lp[target]) - Math.exp(ref[target]);
                dpSq += dp * dp;
                n++;
            }
            if (progress != null) {
                progress.update(c + 1, chunks, Math.exp(nll / n));
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double mean = nll / n;
        double ppl = Math.exp(mean);
        double err = ppl * Math.sqrt(Math.max(0, nllSq / n - mean * mean) / n);
        double[] sorted = kld.clone();
        Arrays.sort(sorted);
        return new Result(ppl, err, Math.exp(nllRef / n), Arrays.stream(kld).average().orElse(0),
                quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99), sorted[sorted.length - 1],
                100.0 * same / n, Math.sqrt(dpSq / n), n, chunks, ctx, seconds);
    }

    /** Linear-interpolated quantile of sorted values. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
