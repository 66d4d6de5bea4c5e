package dev.jquant.train;

import dev.jquant.JQuantException;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;

import java.util.Arrays;

import static dev.jquant.model.TensorNames.*;

/**
 * Forward and backward pass of the Llama-family decoder over a batch of sequences, written out by
 * hand: token embedding, per layer RMSNorm, q/k/v projections, RoPE (either pairing), causal GQA
 * attention, output projection, RMSNorm, SwiGLU MLP, then the final RMSNorm, the (tied or separate)
 * output projection and the cross-entropy loss. The forward pass computes what the inference
 * {@code Session} computes, position 0 at the start of every sequence; it keeps the activations the
 * backward pass needs, which then adds every parameter's gradient into a {@link Parameters}.
 *
 * <p>Not thread-safe: one instance owns its activation buffers, reused while the batch shape stays.
 */
public final class TrainingModel {
    /** Targets with this value are not scored (padding, prompt tokens). */
    public static final int IGNORE = -1;

    private final ModelConfig cfg;
    private final float[] invFreq;
    /** Layers whose product is not a plain F32 weight, by weight name (QLoRA); empty for full training. */
    private final java.util.Map<String, LinearLayer> linears;
    private Activations act;

    public TrainingModel(ModelConfig config) {
        this(config, java.util.Map.of());
    }

    /**
     * A model whose linear layers named in {@code linears} (by weight name) run as those layers say; the
     * others multiply their F32 parameter. Parameters missing from the gradients passed to the backward
     * pass are frozen: their gradients are not computed.
     */
    public TrainingModel(ModelConfig config, java.util.Map<String, LinearLayer> linears) {
        this.linears = java.util.Map.copyOf(linears);
        this.cfg = Parameters.supported(config);
        int half = cfg.headDim() / 2;
        this.invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            // in float from a double power, as the inference engine (and llama2.c, ggml) computes them
            invFreq[i] = (float) (1.0 / Math.pow(cfg.ropeTheta(), (2.0 * i) / cfg.headDim()));
        }
    }

    public ModelConfig config() {
        return cfg;
    }

    /** Switches training-only behaviour of the layers (LoRA dropout) on or off. */
    public void training(boolean on) {
        linears.values().forEach(l -> l.training(on));
    }

    /** {@code y = x W^T} for weight {@code name} {@code [out, in]}: its layer, or its F32 parameter. */
    private void linear(Parameters w, String name, float[] x, int n, int out, int in, float[] y) {
        LinearLayer layer = linears.get(name);
        if (layer != null) {
            layer.forward(w, x, n, y);
        } else {
            Linear.forward(x, n, w.get(name), out, in, y);
        }
    }

    /** The input gradient into dx (added when {@code accumulate}), and the weight's gradient when it is not frozen. */
    private void linearBackward(Parameters w, Parameters grads, String name, float[] dy, float[] x, int n, int out, int in,
                                float[] dx, boolean accumulate) {
        LinearLayer layer = linears.get(name);
        if (layer != null) {
            layer.backward(w, grads, dy, x, n, dx, accumulate);
            return;
        }
        Linear.backwardInput(dy, n, w.get(name), out, in, dx, accumulate);
        if (grads.contains(name)) {
            Linear.backwardWeight(dy, x, n, out, in, grads.get(name));
        }
    }

    /** Activations of one batch shape, kept for the backward pass. */
    private static final class Activations {
        final int batch;
        final int seq;
        final int n;
        final float[][] xIn;
        final float[][] rms1;
        final float[][] xn1;
        final float[][] q;
        final float[][] k;
        final float[][] v;
        final float[][] probs;
        final float[][] att;
        final float[][] xMid;
        final float[][] rms2;
        final float[][] xn2;
        final float[][] gate;
        final float[][] up;
        final float[][] act;
        final float[] x;
        final float[] rmsOut;
        final float[] xnOut;
        final float[] logits;
        final float[] cos;
        final float[] sin;
        int[] tokens;

        Activations(ModelConfig c, int batch, int seq, float[] invFreq) {
            this.batch = batch;
            this.seq = seq;
            this.n = batch * seq;
            int layers = c.layers();
            xIn = new float[layers][n * c.dim()];
            rms1 = new float[layers][n];
            xn1 = new float[layers][n * c.dim()];
            q = new float[layers][n * c.qDim()];
            k = new float[layers][n * c.kvDim()];
            v = new float[layers][n * c.kvDim()];
            probs = new float[layers][batch * c.heads() * seq * seq];
            att = new float[layers][n * c.qDim()];
            xMid = new float[layers][n * c.dim()];
            rms2 = new float[layers][n];
            xn2 = new float[layers][n * c.dim()];
            gate = new float[layers][n * c.ffnDim()];
            up = new float[layers][n * c.ffnDim()];
            act = new float[layers][n * c.ffnDim()];
            x = new float[n * c.dim()];
            rmsOut = new float[n];
            xnOut = new float[n * c.dim()];
            logits = new float[n * c.vocabSize()];
            int half = invFreq.length;
            cos = new float[seq * half];
            sin = new float[seq * half];
            for (int p = 0; p < seq; p++) {
                for (int i = 0; i < half; i++) {
                    float angle = p * invFreq[i];
                    cos[p * half + i] = (float) Math.cos(angle);
                    sin[p * half + i] = (float) Math.sin(angle);
                }
            }
        }
    }

    /**
     * Runs the forward pass over {@code batch} sequences of {@code seq} tokens ({@code inputs} holds them
     * one after another) and returns the logits, {@code [batch * seq, vocab]}; the array is reused by the next call.
     */
    public float[] forward(Parameters w, int[] inputs, int batch, int seq) {
        if (inputs.length != batch * seq) {
            throw new IllegalArgumentException(inputs.length + " tokens for " + batch + " x " + seq);
        }
        if (act == null || act.batch != batch || act.seq != seq) {
            act = null; // let the old buffers go before the new ones are allocated
            act = new Activations(cfg, batch, seq, invFreq);
        }
        Activations a = act;
        a.tokens = inputs.clone();
        int dim = cfg.dim();
        float[] emb = w.get(TOKEN_EMBEDDING);
        for (int t = 0; t < a.n; t++) {
            int tok = inputs[t];
            if (tok < 0 || tok >= cfg.vocabSize()) {
                throw new JQuantException("token id " + tok + " is outside the vocabulary (0.." + (cfg.vocabSize() - 1) + ")");
            }
            System.arraycopy(emb, tok * dim, a.x, t * dim, dim);
        }
        for (int l = 0; l < cfg.layers(); l++) {
            layerForward(w, l, a);
        }
        rmsNorm(a.x, w.get(OUTPUT_NORM), a.xnOut, a.rmsOut, a.n, dim);
        Linear.forward(a.xnOut, a.n, outputWeight(w), cfg.vocabSize(), dim, a.logits);
        return a.logits;
    }

    private float[] outputWeight(Parameters w) {
        return cfg.tiedOutput() ? w.get(TOKEN_EMBEDDING) : w.get(OUTPUT);
    }

    private void layerForward(Parameters w, int l, Activations a) {
        int n = a.n;
        int dim = cfg.dim();
        int ffn = cfg.ffnDim();
        System.arraycopy(a.x, 0, a.xIn[l], 0, n * dim);
        rmsNorm(a.x, w.get(block(l, ATTN_NORM)), a.xn1[l], a.rms1[l], n, dim);
        linear(w, block(l, ATTN_Q), a.xn1[l], n, cfg.qDim(), dim, a.q[l]);
        linear(w, block(l, ATTN_K), a.xn1[l], n, cfg.kvDim(), dim, a.k[l]);
        linear(w, block(l, ATTN_V), a.xn1[l], n, cfg.kvDim(), dim, a.v[l]);
        rope(a, a.q[l], cfg.heads(), false);
        rope(a, a.k[l], cfg.kvHeads(), false);
        attentionForward(a, l);
        float[] proj = new float[n * dim];
        linear(w, block(l, ATTN_OUTPUT), a.att[l], n, dim, cfg.qDim(), proj);
        add(a.x, proj);
        System.arraycopy(a.x, 0, a.xMid[l], 0, n * dim);

        rmsNorm(a.x, w.get(block(l, FFN_NORM)), a.xn2[l], a.rms2[l], n, dim);
        linear(w, block(l, FFN_GATE), a.xn2[l], n, ffn, dim, a.gate[l]);
        linear(w, block(l, FFN_UP), a.xn2[l], n, ffn, dim, a.up[l]);
        float[] g = a.gate[l];
        float[] u = a.up[l];
        float[] h = a.act[l];
        for (int i = 0; i < h.length; i++) {
            h[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
        }
        linear(w, block(l, FFN_DOWN), h, n, dim, ffn, proj);
        add(a.x, proj);
    }

    /** Causal softmax attention per (sequence, head); probabilities are kept for the backward pass. */
    private void attentionForward(Activations a, int l) {
        int heads = cfg.heads();
        int hd = cfg.headDim();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        int group = heads / cfg.kvHeads();
        int seq = a.seq;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] q = a.q[l];
        float[] k = a.k[l];
        float[] v = a.v[l];
        float[] out = a.att[l];
        float[] probs = a.probs[l];
        Parallel.get().forRange(a.batch * heads, 1, (start, end) -> {
            for (int item = start; item < end; item++) {
                int b = item / heads;
                int h = item % heads;
                int kvOff = (h / group) * hd;
                for (int t = 0; t < seq; t++) {
                    int row = b * seq + t;
                    int pOff = (item * seq + t) * seq;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int p = 0; p <= t; p++) {
                        float s = Linear.dot(q, row * qDim + h * hd, k, (b * seq + p) * kvDim + kvOff, hd) * scale;
                        probs[pOff + p] = s;
                        max = Math.max(max, s);
                    }
                    float sum = 0;
                    for (int p = 0; p <= t; p++) {
                        float e = (float) Math.exp(probs[pOff + p] - max);
                        probs[pOff + p] = e;
                        sum += e;
                    }
                    float inv = 1f / sum;
                    int o = row * qDim + h * hd;
                    Arrays.fill(out, o, o + hd, 0f);
                    for (int p = 0; p <= t; p++) {
                        probs[pOff + p] *= inv;
                        Linear.axpy(probs[pOff + p], v, (b * seq + p) * kvDim + kvOff, out, o, hd);
                    }
                }
            }
        });
    }

    /**
     * Runs forward and backward over a batch; adds {@code lossScale} times the gradient of the mean
     * cross-entropy of the scored targets into {@code grads} and returns that mean (nats).
     */
    public double forwardBackward(Parameters w, Batch batch, Parameters grads, float lossScale) {
        forward(w, batch.inputs(), batch.size(), batch.seq());
        double loss = lossAndGradient(batch.targets(), null, lossScale);
        backward(w, grads);
        return loss;
    }

    /**
     * Knowledge distillation: like {@link #forwardBackward} but the loss is the mean KL divergence
     * KL(teacher || model) over the scored positions, the teacher's distribution given by its logits
     * ({@code [size * seq, vocab]}, as {@link #forward} returns them).
     */
    public double forwardBackwardDistill(Parameters w, Batch batch, float[] teacherLogits, Parameters grads,
                                         float lossScale) {
        if (teacherLogits.length != batch.inputs().length * cfg.vocabSize()) {
            throw new IllegalArgumentException("teacher logits for " + teacherLogits.length / cfg.vocabSize() + " positions, not "
                    + batch.inputs().length);
        }
        forward(w, batch.inputs(), batch.size(), batch.seq());
        double loss = lossAndGradient(batch.targets(), teacherLogits, lossScale);
        backward(w, grads);
        return loss;
    }

    /** The mean cross-entropy of the batch's scored targets, without gradients. */
    public double loss(Parameters w, Batch batch) {
        forward(w, batch.inputs(), batch.size(), batch.seq());
        return lossAndGradient(batch.targets(), null, 0f);
    }

    /**
     * The mean loss over the scored positions: cross-entropy against {@code targets}, or with
     * {@code teacher} logits the KL divergence from the teacher's distribution. Replaces the logits by
     * the loss's gradient times {@code scale}: (softmax - one-hot, or - teacher softmax) over the scored count.
     */
    private double lossAndGradient(int[] targets, float[] teacher, float scale) {
        Activations a = act;
        int vocab = cfg.vocabSize();
        int scored = 0;
        for (int t : targets) {
            if (t != IGNORE) {
                if (t < 0 || t >= vocab) {
                    throw new JQuantException("target token " + t + " is outside the vocabulary");
                }
                scored++;
            }
        }
        if (scored == 0) {
            throw new JQuantException("no target token to score in this batch");
        }
        double[] tokenLoss = new double[a.n];
        float g = scale / scored;
        Parallel.get().forRange(a.n, 16, (start, end) -> {
            double[] p = new double[vocab];
            double[] q = new double[vocab];
            for (int t = start; t < end; t++) {
                int off = t * vocab;
                double logZ = softmax(a.logits, off, vocab, p);
                int target = targets[t];
                if (target == IGNORE) {
                    java.util.Arrays.fill(a.logits, off, off + vocab, 0f);
                    continue;
                }
                if (teacher == null) {
                    tokenLoss[t] = logZ - a.logits[off + target];
                    for (int i = 0; i < vocab; i++) {
                        a.logits[off + i] = g * ((float) p[i] - (i == target ? 1f : 0f));
                    }
                } else {
                    double teacherLogZ = softmax(teacher, off, vocab, q);
                    double kl = 0;
                    for (int i = 0; i < vocab; i++) {
                        if (q[i] > 0) {
                            kl += q[i] * ((teacher[off + i] - teacherLogZ) - (a.logits[off + i] - logZ));
                        }
                    }
                    tokenLoss[t] = kl;
                    for (int i = 0; i < vocab; i++) {
                        a.logits[off + i] = g * ((float) p[i] - (float) q[i]);
                    }
                }
            }
        });
        double total = 0;
        for (double l : tokenLoss) {
            total += l;
        }
        return total / scored;
    }

    /** Softmax of {@code logits[off .. off + n)} into {@code p}; returns the log of the normalizer. */
    private static double softmax(float[] logits, int off, int n, double[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(logits[off + i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return max + Math.log(sum);
    }

    /** Backpropagates the logits' gradient (left in {@code act.logits}) through the whole model. */
    private void backward(Parameters w, Parameters grads) {
        Activations a = act;
        int n = a.n;
        int dim = cfg.dim();
        float[] dLogits = a.logits;
        float[] dxn = new float[n * dim];
        Linear.backwardInput(dLogits, n, outputWeight(w), cfg.vocabSize(), dim, dxn, false);
        String outputName = cfg.tiedOutput() ? TOKEN_EMBEDDING : OUTPUT;
        if (grads.contains(outputName)) {
            Linear.backwardWeight(dLogits, a.xnOut, n, cfg.vocabSize(), dim, grads.get(outputName));
        }
        // the residual stream's gradient, carried down through the layers
        float[] dx = new float[n * dim];
        rmsNormBackward(a.x, w.get(OUTPUT_NORM), a.rmsOut, dxn, dx, gradOrNull(grads, OUTPUT_NORM), n, dim);
        for (int l = cfg.layers() - 1; l >= 0; l--) {
            layerBackward(w, grads, l, a, dx);
        }
        if (!grads.contains(TOKEN_EMBEDDING)) {
            return;
        }
        float[] dEmb = grads.get(TOKEN_EMBEDDING);
        for (int t = 0; t < n; t++) {
            Linear.axpy(1f, dx, t * dim, dEmb, a.tokens[t] * dim, dim);
        }
    }

    /** The gradient array of {@code name}, or null when the parameter is frozen. */
    private static float[] gradOrNull(Parameters grads, String name) {
        return grads.contains(name) ? grads.get(name) : null;
    }

    private void layerBackward(Parameters w, Parameters grads, int l, Activations a, float[] dx) {
        int n = a.n;
        int dim = cfg.dim();
        int ffn = cfg.ffnDim();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();

        // MLP: x += down(silu(gate(xn2)) * up(xn2))
        float[] dAct = new float[n * ffn];
        linearBackward(w, grads, block(l, FFN_DOWN), dx, a.act[l], n, dim, ffn, dAct, false);
        float[] g = a.gate[l];
        float[] u = a.up[l];
        float[] dGate = new float[n * ffn];
        float[] dUp = new float[n * ffn];
        for (int i = 0; i < dAct.length; i++) {
            float s = 1f / (1f + (float) Math.exp(-g[i]));
            float silu = g[i] * s;
            dUp[i] = dAct[i] * silu;
            dGate[i] = dAct[i] * u[i] * s * (1f + g[i] * (1f - s));
        }
        float[] dxn = new float[n * dim];
        linearBackward(w, grads, block(l, FFN_GATE), dGate, a.xn2[l], n, ffn, dim, dxn, false);
        linearBackward(w, grads, block(l, FFN_UP), dUp, a.xn2[l], n, ffn, dim, dxn, true);
        rmsNormBackward(a.xMid[l], w.get(block(l, FFN_NORM)), a.rms2[l], dxn, dx, gradOrNull(grads, block(l, FFN_NORM)), n, dim);

        // attention: x += wo(attention(rope(wq xn1), rope(wk xn1), wv xn1))
        float[] dAtt = new float[n * qDim];
        linearBackward(w, grads, block(l, ATTN_OUTPUT), dx, a.att[l], n, dim, qDim, dAtt, false);
        float[] dq = new float[n * qDim];
        float[] dk = new float[n * kvDim];
        float[] dv = new float[n * kvDim];
        attentionBackward(a, l, dAtt, dq, dk, dv);
        rope(a, dq, cfg.heads(), true);
        rope(a, dk, cfg.kvHeads(), true);
        linearBackward(w, grads, block(l, ATTN_Q), dq, a.xn1[l], n, qDim, dim, dxn, false);
        linearBackward(w, grads, block(l, ATTN_K), dk, a.xn1[l], n, kvDim, dim, dxn, true);
        linearBackward(w, grads, block(l, ATTN_V), dv, a.xn1[l], n, kvDim, dim, dxn, true);
        rmsNormBackward(a.xIn[l], w.get(block(l, ATTN_NORM)), a.rms1[l], dxn, dx, gradOrNull(grads, block(l, ATTN_NORM)), n, dim);
    }

    /**
     * Gradients of q, k and v from the attention output's gradient. Work is split by (sequence, KV head),
     * so the query heads that share a key/value head add into it from one thread, in order.
     */
    private void attentionBackward(Activations a, int l, float[] dOut, float[] dq, float[] dk, float[] dv) {
        int heads = cfg.heads();
        int kvHeads = cfg.kvHeads();
        int hd = cfg.headDim();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        int group = heads / kvHeads;
        int seq = a.seq;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] q = a.q[l];
        float[] k = a.k[l];
        float[] v = a.v[l];
        float[] probs = a.probs[l];
        Parallel.get().forRange(a.batch * kvHeads, 1, (start, end) -> {
            float[] dScore = new float[seq];
            for (int item = start; item < end; item++) {
                int b = item / kvHeads;
                int kvOff = (item % kvHeads) * hd;
                for (int h = (item % kvHeads) * group; h < (item % kvHeads + 1) * group; h++) {
                    for (int t = 0; t < seq; t++) {
                        int row = b * seq + t;
                        int o = row * qDim + h * hd;
                        int pOff = ((b * heads + h) * seq + t) * seq;
                        float dot = 0;
                        for (int p = 0; p <= t; p++) {
                            int kv = (b * seq + p) * kvDim + kvOff;
                            float prob = probs[pOff + p];
                            float dp = Linear.dot(dOut, o, v, kv, hd);
                            Linear.axpy(prob, dOut, o, dv, kv, hd);
                            dScore[p] = dp;
                            dot += prob * dp;
                        }
                        for (int p = 0; p <= t; p++) {
                            int kv = (b * seq + p) * kvDim + kvOff;
                            float ds = probs[pOff + p] * (dScore[p] - dot) * scale;
                            Linear.axpy(ds, k, kv, dq, o, hd);
                            Linear.axpy(ds, q, o, dk, kv, hd);
                        }
                    }
                }
            }
        });
    }

    /** Rotates every head of every token by its position; {@code inverse} rotates back (the transpose, for gradients). */
    private void rope(Activations a, float[] x, int heads, boolean inverse) {
        int hd = cfg.headDim();
        int half = hd / 2;
        boolean adjacent = cfg.ropeStyle() == RopeStyle.ADJACENT_PAIRS;
        float sign = inverse ? -1f : 1f;
        for (int t = 0; t < a.n; t++) {
            int pos = t % a.seq;
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * hd;
                for (int i = 0; i < half; i++) {
                    int p0 = adjacent ? base + 2 * i : base + i;
                    int p1 = adjacent ? p0 + 1 : p0 + half;
                    float c = a.cos[pos * half + i];
                    float s = sign * a.sin[pos * half + i];
                    float x0 = x[p0];
                    float x1 = x[p1];
                    x[p0] = x0 * c - x1 * s;
                    x[p1] = x0 * s + x1 * c;
                }
            }
        }
    }

    /** RMSNorm of each row; keeps each row's 1/rms for the backward pass. */
    private void rmsNorm(float[] x, float[] weight, float[] out, float[] invRms, int rows, int dim) {
        float eps = cfg.rmsEps();
        Parallel.get().forRange(rows, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                int off = r * dim;
                double ss = 0;
                for (int i = 0; i < dim; i++) {
                    ss += (double) x[off + i] * x[off + i];
                }
                float scale = (float) (1.0 / Math.sqrt(ss / dim + eps));
                invRms[r] = scale;
                for (int i = 0; i < dim; i++) {
                    out[off + i] = weight[i] * (x[off + i] * scale);
                }
            }
        });
    }

    /**
     * y = w * x * r with r = 1/rms(x): adds dL/dx = r (w dy) - r³/dim x Σ(w dy x) into {@code dx} and
     * Σ_rows dy x r into {@code dWeight} (unless it is null: a frozen norm).
     */
    private static void rmsNormBackward(float[] x, float[] weight, float[] invRms, float[] dy, float[] dx,
                                        float[] dWeight, int rows, int dim) {
        Parallel.get().forRange(rows, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                int off = r * dim;
                float inv = invRms[r];
                double dot = 0;
                for (int i = 0; i < dim; i++) {
                    dot += (double) weight[i] * dy[off + i] * x[off + i];
                }
                float c = (float) (dot * inv * inv * inv / dim);
                for (int i = 0; i < dim; i++) {
                    dx[off + i] += inv * weight[i] * dy[off + i] - c * x[off + i];
                }
            }
        });
        if (dWeight == null) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            int off = r * dim;
            float inv = invRms[r];
            for (int i = 0; i < dim; i++) {
                dWeight[i] += dy[off + i] * x[off + i] * inv;
            }
        }
    }

    private static void add(float[] x, float[] y) {
        Linear.axpy(1f, y, 0, x, 0, x.length);
    }
}
