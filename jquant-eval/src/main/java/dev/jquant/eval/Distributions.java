package dev.jquant.eval;

/** Log-probabilities and divergences of next-token distributions given as logits. */
public final class Distributions {
    private Distributions() {
    }

    /** log softmax of {@code logits}, in double precision. */
    public static double[] logSoftmax(float[] logits) {
        double lse = Perplexity.logSumExp(logits);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - lse;
        }
        return out;
    }

    /** KL(P || Q) = Σ p (log p − log q), both given as log-probabilities. */
    public static double klDivergence(double[] logP, double[] logQ) {
        double kl = 0;
        for (int i = 0; i < logP.length; i++) {
            double p = Math.exp(logP[i]);
            if (p > 0) {
                kl += p * (logP[i] - logQ[i]);
            }
        }
        return Math.max(0, kl);
    }

    public static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
