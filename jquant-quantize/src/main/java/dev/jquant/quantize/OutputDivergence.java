package dev.jquant.quantize;

import dev.jquant.model.Session;
import dev.jquant.model.Transformer;

import java.util.ArrayList;
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

    /** The reference model's log-probabilities at every scored position, computed once for many comparisons. */
    public record Reference(List<int[]> sequences, int firstScored, List<double[][]> logProbs) {

        public static Reference of(Transformer reference, List<int[]> sequences, int firstScored) {
            List<double[][]> lp = new ArrayList<>();
            Session s = reference.newSession(sequences.stream().mapToInt(q -> q.length).max().orElseThrow());
            for (int[] seq : sequences) {
                s.rewind(0);
                float[][] logits = s.forward(seq, firstScored);
                double[][] rows = new double[seq.length - 1 - firstScored][];
                for (int j = 0; j < rows.length; j++) {
                    rows[j] = logSoftmax(logits[j]);
                }
                lp.add(rows);
            }
            return new Reference(List.copyOf(sequences), firstScored, List.copyOf(lp));
        }
    }

    public static OutputDivergence measure(Transformer reference, Transformer model, List<int[]> sequences,
                                           int firstScored) {
        return measure(Reference.of(reference, sequences, firstScored), model);
    }

    public static OutputDivergence measure(Reference reference, Transformer model) {
        int first = reference.firstScored();
        Session test = model.newSession(reference.sequences().stream().mapToInt(q -> q.length).max().orElseThrow());
        double kl = 0;
        double nll = 0;
        double refNll = 0;
        int n = 0;
        for (int i = 0; i < reference.sequences().size(); i++) {
            int[] seq = reference.sequences().get(i);
            double[][] p = reference.logProbs().get(i);
            test.rewind(0);
            float[][] q = test.forward(seq, first);
            for (int j = 0; j < p.length; j++) {
                double[] lp = p[j];
                double[] lq = logSoftmax(q[j]);
                int next = seq[first + j + 1];
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
