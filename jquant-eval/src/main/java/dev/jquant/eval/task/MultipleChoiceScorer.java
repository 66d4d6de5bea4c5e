package dev.jquant.eval.task;

import dev.jquant.JQuantException;
import dev.jquant.eval.Perplexity;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;
import dev.jquant.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Multiple-choice accuracy by log-likelihood, as lm-eval scores HellaSwag and ARC: each choice's
 * continuation is scored by the sum of its tokens' log-probabilities after the context; "acc" picks
 * the highest sum, "acc_norm" the highest sum per character of the choice (so long answers are not
 * penalised for having more tokens). The context is evaluated once and its KV cache reused for
 * every choice.
 */
public final class MultipleChoiceScorer {

    /**
     * @param logLikelihoods per item, per choice: summed log-probability of the continuation
     * @param accStderr      standard error of the accuracy (lm-eval's sqrt(p(1-p)/(n-1)))
     */
    public record Result(int items, double accuracy, double accStderr, double accuracyNorm, double accNormStderr,
                         double[][] logLikelihoods, double seconds) {
    }

    /** Progress callback: items done of total, running accuracy. */
    @FunctionalInterface
    public interface ProgressListener {
        void update(int done, int total, double runningAccuracy);
    }

    private MultipleChoiceScorer() {
    }

    public static Result score(Transformer model, Tokenizer tokenizer, List<MultipleChoiceItem> items,
                               ProgressListener progress) {
        long t0 = System.nanoTime();
        double[][] ll = new double[items.size()][];
        int correct = 0;
        int correctNorm = 0;
        for (int i = 0; i < items.size(); i++) {
            MultipleChoiceItem item = items.get(i);
            ll[i] = logLikelihoods(model, tokenizer, item);
            if (argmax(ll[i], null) == item.label()) {
                correct++;
            }
            if (argmax(ll[i], item.choices()) == item.label()) {
                correctNorm++;
            }
            if (progress != null) {
                progress.update(i + 1, items.size(), (double) correct / (i + 1));
            }
        }
        int n = items.size();
        double acc = (double) correct / n;
        double accNorm = (double) correctNorm / n;
        return new Result(n, acc, stderr(acc, n), accNorm, stderr(accNorm, n), ll, (System.nanoTime() - t0) / 1e9);
    }

    /** Summed log-probability of each choice's tokens after the context. */
    public static double[] logLikelihoods(Transformer model, Tokenizer tokenizer, MultipleChoiceItem item) {
        // lm-eval moves the context's trailing spaces to the continuation, so "... is" + " blue" tokenizes naturally.
        String context = item.context().stripTrailing();
        String moved = item.context().substring(context.length());
        boolean bos = tokenizer.addBosByDefault();
        int[] contextTokens = tokenizer.encode(context, bos, false);
        if (contextTokens.length == 0) {
            throw new JQuantException("an item has an empty context and the tokenizer adds no BOS; nothing to condition on");
        }
        int[][] continuations = new int[item.choices().size()][];
        int longest = 0;
        for (int c = 0; c < continuations.length; c++) {
            int[] whole = tokenizer.encode(context + moved + item.choices().get(c), bos, false);
            continuations[c] = continuation(contextTokens, whole);
            longest = Math.max(longest, continuations[c].length);
        }
        Session session = model.newSession(contextTokens.length + longest);
        float[] afterContext = session.prefillLast(contextTokens);
        double[] out = new double[continuations.length];
        for (int c = 0; c < continuations.length; c++) {
            int[] cont = continuations[c];
            session.rewind(contextTokens.length);
            float[][] logits = cont.length > 1 ? session.forward(Arrays.copyOf(cont, cont.length - 1), 0) : new float[0][];
            double sum = 0;
            for (int t = 0; t < cont.length; t++) {
                float[] l = t == 0 ? afterContext : logits[t - 1];
                sum += l[cont[t]] - Perplexity.logSumExp(l);
            }
            out[c] = sum;
        }
        return out;
    }

    /** The tokens after the context's own token count, as lm-eval cuts them; at least one. */
    static int[] continuation(int[] contextTokens, int[] whole) {
        if (whole.length <= contextTokens.length) {
            throw new JQuantException("a choice adds no tokens to its context");
        }
        return Arrays.copyOfRange(whole, contextTokens.length, whole.length);
    }

    /** The best choice by summed log-likelihood, or per character when {@code normalizeBy} gives the choices. */
    private static int argmax(double[] ll, List<String> normalizeBy) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < ll.length; c++) {
            double score = normalizeBy == null ? ll[c] : ll[c] / characters(normalizeBy.get(c));
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    private static int characters(String s) {
        return Math.max(1, s.codePointCount(0, s.length()));
    }

    private static double stderr(double p, int n) {
        return n > 1 ? Math.sqrt(p * (1 - p) / (n - 1)) : 0;
    }
}
