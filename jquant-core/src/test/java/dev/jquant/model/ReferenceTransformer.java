package dev.jquant.model;

import java.util.ArrayList;
import java.util.List;

import static dev.jquant.model.TensorNames.*;

/**
 * The specification of the forward pass: plain scalar loops in double precision over weights
 * decoded to floats, one token at a time, with the whole history recomputed. Slow and obvious on
 * purpose; the engine is tested against it.
 */
final class ReferenceTransformer {
    private final Checkpoint c;
    private final ModelConfig cfg;
    private final List<double[]>[] keys;
    private final List<double[]>[] values;

    @SuppressWarnings("unchecked")
    ReferenceTransformer(Checkpoint c) {
        this.c = c;
        this.cfg = c.config();
        keys = new List[cfg.layers()];
        values = new List[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++) {
            keys[l] = new ArrayList<>();
            values[l] = new ArrayList<>();
        }
    }

    private float[] w(String name) {
        return c.tensor(name).toFloats();
    }

    private float[] optional(String name) {
        return c.optionalTensor(name).map(t -> t.toFloats()).orElse(null);
    }

    /** Feeds one token at the next position and returns the logits. */
    double[] forward(int token) {
        int pos = keys[0].size();
        int dim = cfg.dim();
        double[] x = new double[dim];
        float[] emb = w(TOKEN_EMBEDDING);
        for (int i = 0; i < dim; i++) {
            x[i] = emb[token * dim + i];
        }
        for (int l = 0; l < cfg.layers(); l++) {
            double[] xb = rmsNorm(x, w(block(l, ATTN_NORM)));
            double[] q = matvec(w(block(l, ATTN_Q)), xb, cfg.qDim());
            double[] k = matvec(w(block(l, ATTN_K)), xb, cfg.kvDim());
            double[] v = matvec(w(block(l, ATTN_V)), xb, cfg.kvDim());
            addIfPresent(q, optional(block(l, ATTN_Q_BIAS)));
            addIfPresent(k, optional(block(l, ATTN_K_BIAS)));
            addIfPresent(v, optional(block(l, ATTN_V_BIAS)));
            float[] qn = optional(block(l, ATTN_Q_NORM));
            if (qn != null) {
                headNorm(q, qn, cfg.heads());
                headNorm(k, optional(block(l, ATTN_K_NORM)), cfg.kvHeads());
            }
            rope(q, cfg.heads(), pos);
            rope(k, cfg.kvHeads(), pos);
            keys[l].add(k);
            values[l].add(v);
            double[] att = new double[cfg.qDim()];
            int hd = cfg.headDim();
            int group = cfg.heads() / cfg.kvHeads();
            for (int h = 0; h < cfg.heads(); h++) {
                int kvh = h / group;
                double[] s = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    double dot = 0;
                    for (int i = 0; i < hd; i++) {
                        dot += q[h * hd + i] * keys[l].get(p)[kvh * hd + i];
                    }
                    s[p] = dot / Math.sqrt(hd);
                    max = Math.max(max, s[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) {
                    s[p] = Math.exp(s[p] - max);
                    sum += s[p];
                }
                for (int p = 0; p <= pos; p++) {
                    for (int i = 0; i < hd; i++) {
                        att[h * hd + i] += s[p] / sum * values[l].get(p)[kvh * hd + i];
                    }
                }
            }
            add(x, matvec(w(block(l, ATTN_OUTPUT)), att, dim));
            xb = rmsNorm(x, w(block(l, FFN_NORM)));
            double[] g = matvec(w(block(l, FFN_GATE)), xb, cfg.ffnDim());
            double[] u = matvec(w(block(l, FFN_UP)), xb, cfg.ffnDim());
            for (int i = 0; i < g.length; i++) {
                g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            }
            add(x, matvec(w(block(l, FFN_DOWN)), g, dim));
        }
        double[] xn = rmsNorm(x, w(OUTPUT_NORM));
        float[] out = c.optionalTensor(OUTPUT).orElse(c.tensor(TOKEN_EMBEDDING)).toFloats();
        return matvec(out, xn, cfg.vocabSize());
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + cfg.rmsEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    private void headNorm(double[] v, float[] weight, int heads) {
        int hd = cfg.headDim();
        for (int h = 0; h < heads; h++) {
            double[] head = java.util.Arrays.copyOfRange(v, h * hd, (h + 1) * hd);
            System.arraycopy(rmsNorm(head, weight), 0, v, h * hd, hd);
        }
    }

    private void rope(double[] v, int heads, int pos) {
        int hd = cfg.headDim();
        float[] factors = optional("rope_freqs.weight");
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double freq = 1.0 / Math.pow(cfg.ropeTheta(), 2.0 * i / hd);
                if (cfg.ropeScaling() != null) {
                    freq = cfg.ropeScaling().scale(freq);
                }
                if (factors != null) {
                    freq /= factors[i];
                }
                double angle = pos * freq;
                int a = cfg.ropeStyle() == RopeStyle.ADJACENT_PAIRS ? h * hd + 2 * i : h * hd + i;
                int b = cfg.ropeStyle() == RopeStyle.ADJACENT_PAIRS ? a + 1 : a + hd / 2;
                double x0 = v[a];
                double x1 = v[b];
                v[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                v[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
            }
        }
    }

    private static double[] matvec(float[] w, double[] x, int rows) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) {
                s += w[r * x.length + i] * x[i];
            }
            out[r] = s;
        }
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    private static void addIfPresent(double[] x, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
    }
}
