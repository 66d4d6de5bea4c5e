package dev.jquant.quantize;

import dev.jquant.model.Session;
import dev.jquant.model.Transformer;

import java.util.List;

/**
 * How far a quantized model's next-token distributions are from the reference's on some sequences,
 * scored as llama-perplexity scores chunks: every position from {@code firstScored} to the one before
 * last predicts the next token. The quality measure the methods here are compared and tuned by.
 *
 * @param meanKl   mean KL(reference || model) per scored position, in nats
 * @param nll      the model's mean negative log-likelihood of the actual next tokens
 * @param refNll   the reference's
 */
public record OutputDivergence(double meanKl, double nll, double refNll, int positions) {

    public double ppl() {
        return Math.exp(nll);
    }

    public double refPpl() {
        return Math.exp(refNll);
    }

    public static OutputDivergence measure(Transformer reference, Transformer model, List<int[]> sequences,
                                           int firstScored) {
        int longest = sequences.stream().mapToInt(s -> s.length).max().orElseThrow();
        Session ref = reference.newSession(longest);
        Session test = model.newSession(longest);
        double kl = 0;
        double nll = 0;
        double refNll = 0;
        int n = 0;
        for (int[] seq : sequences) {
            ref.rewind(0);
            test.rewind(0);
            float[][] p = ref.forward(seq, firstScored);
            float[][] q = test.forward(seq, firstScored);
            for (int j = 0; j + firstScored < seq.length - 1; j++) {
                double[] lp = logSoftmax(p[j]);
                double[] lq = logSoftmax(q[j]);
                int next = seq[firstScored + j + 1];
                for (int v = 0; v < lp.length; v++) {
                    kl += Math.exp(lp[v]) * (lp[v] - lq[v]);
                }
                nll -= lq[next];
                refNll -= lp[next];
                n++;
            }
        }
        return new OutputDivergence(kl / n, nll / n, refNll / n, n);
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = logits[i] - lse;
        }
        return out;
    }
}
