package dev.jquant.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses tokens from logits according to {@link SamplingParams}; deterministic for a given seed. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** Picks the next token. {@code history} is every token so far; only the last repeatLastN matter. */
    public int sample(float[] logits, int[] history, int historyLength) {
        float[] l = logits.clone();
        applyRepetitionPenalty(l, history, historyLength);
        if (params.greedy()) {
            return argmax(l);
        }
        Integer[] order = candidates(l);
        double[] probs = new double[order.length];
        double max = l[order[0]];
        double sum = 0;
        for (int i = 0; i < order.length; i++) {
            probs[i] = Math.exp((l[order[i]] - max) / params.temperature());
            sum += probs[i];
        }
        int keep = order.length;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < order.length; i++) {
                cumulative += probs[i] / sum;
                if (cumulative >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            double threshold = params.minP() * probs[0];
            int k = 1;
            while (k < keep && probs[k] >= threshold) {
                k++;
            }
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += probs[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= probs[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    private void applyRepetitionPenalty(float[] l, int[] history, int length) {
        float penalty = params.repetitionPenalty();
        if (penalty == 1f || params.repeatLastN() == 0) {
            return;
        }
        boolean[] seen = new boolean[l.length];
        for (int i = Math.max(0, length - params.repeatLastN()); i < length; i++) {
            int t = history[i];
            if (t >= 0 && t < l.length && !seen[t]) {
                seen[t] = true;
                l[t] = l[t] > 0 ? l[t] / penalty : l[t] * penalty;
            }
        }
    }

    /** Token ids sorted by descending logit, cut to top-k when set. */
    private Integer[] candidates(float[] l) {
        Integer[] ids = new Integer[l.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        Arrays.sort(ids, (a, b) -> Float.compare(l[b], l[a]));
        int k = params.topK() > 0 ? Math.min(params.topK(), ids.length) : ids.length;
        return Arrays.copyOf(ids, k);
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
