package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.kernel.Attention;
import dev.jquant.kernel.MatMul;
import dev.jquant.kernel.Parallel;

/**
 * Inference state over a {@link Transformer}: the KV cache and the current position. The same
 * batched forward pass serves prefill (many tokens) and decode (one token at a time).
 */
public final class Session {
    private final Transformer model;
    private final ModelConfig cfg;
    private final int maxContext;
    private final KvCache cache;
    private int position;
    private LinearInputObserver observer;

    Session(Transformer model, int maxContext, KvCacheType cacheType) {
        if (maxContext < 1) {
            throw new JQuantException("context length must be at least 1, got " + maxContext);
        }
        this.model = model;
        this.cfg = model.config();
        this.maxContext = maxContext;
        this.cache = KvCache.create(cacheType, cfg, maxContext);
    }

    public int position() {
        return position;
    }

    public int maxContext() {
        return maxContext;
    }

    public ModelConfig config() {
        return cfg;
    }

    /** Bytes the KV cache occupies (for every position up to {@link #maxContext()}). */
    public long kvCacheBytes() {
        return cache.bytes();
    }

    /** Reports every linear layer's input to {@code observer} from now on; null stops reporting. */
    public void observeLinearInputs(LinearInputObserver observer) {
        this.observer = observer;
    }

    /** Forgets everything from {@code newPosition} on (to reuse a shared prompt prefix, or start over with 0). */
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + " from " + position);
        }
        position = newPosition;
    }

    /** Feeds one token and returns the logits that predict the next one. */
    public float[] forward(int token) {
        return forward(new int[] {token}, 0)[0];
    }

    /** Feeds all tokens and returns the logits after the last one. */
    public float[] prefillLast(int[] tokens) {
        return forward(tokens, tokens.length - 1)[0];
    }

    /** Feeds all tokens and returns logits for every position. */
    public float[][] prefill(int[] tokens) {
        return forward(tokens, 0);
    }

    /**
     * Feeds {@code tokens} at the current position and returns the logits of positions
     * {@code firstLogit .. tokens.length-1} (relative to this batch).
     */
    public float[][] forward(int[] tokens, int firstLogit) {
        int n = tokens.length;
        checkRoom(n);
        float[] x = embed(tokens);
        Buffers buf = new Buffers(cfg, n);
        for (int l = 0; l < cfg.layers(); l++) {
            layer(l, model.layers()[l], x, n, buf);
        }
        position += n;
        return logits(x, n, firstLogit);
    }

    /** The hidden states block 0 takes for {@code tokens}: their embeddings, one row of {@code dim} per token. */
    public float[] embed(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        int dim = cfg.dim();
        float[] x = new float[tokens.length * dim];
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= cfg.vocabSize()) {
                throw new JQuantException("token id " + tokens[t] + " is outside the vocabulary (0.." + (cfg.vocabSize() - 1) + ")");
            }
            model.tokenEmbedding().decodeRow(tokens[t], x, t * dim);
        }
        return x;
    }

    /**
     * Runs decoder block {@code layer} alone, in place, on the hidden states of {@code tokens}
     * positions starting at {@link #position()}: what layer-wise quantization needs to feed block i
     * the outputs of blocks 0..i-1. Writes only that block's KV cache and leaves the position
     * alone; {@link #rewind} (or a new session) starts the next sequence.
     */
    public void forwardBlock(int layer, float[] hidden, int tokens) {
        if (layer < 0 || layer >= cfg.layers()) {
            throw new IllegalArgumentException("no block " + layer + " in a model of " + cfg.layers());
        }
        if (hidden.length < tokens * cfg.dim()) {
            throw new IllegalArgumentException(tokens + " tokens need " + tokens * cfg.dim() + " hidden values, got " + hidden.length);
        }
        checkRoom(tokens);
        layer(layer, model.layers()[layer], hidden, tokens, new Buffers(cfg, tokens));
    }

    private void checkRoom(int n) {
        if (position + n > maxContext) {
            throw new JQuantException("context is full: " + position + " + " + n + " tokens exceed " + maxContext);
        }
    }

    /** Scratch activations for one batch. */
    private static final class Buffers {
        final float[] xb;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] att;
        final float[] proj;
        final float[] gate;
        final float[] up;

        Buffers(ModelConfig c, int n) {
            xb = new float[n * c.dim()];
            q = new float[n * c.qDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            att = new float[n * c.qDim()];
            proj = new float[n * c.dim()];
            gate = new float[n * c.ffnDim()];
            up = new float[n * c.ffnDim()];
        }
    }

    private void layer(int l, Transformer.Layer w, float[] x, int n, Buffers b) {
        int dim = cfg.dim();
        Ops.rmsNorm(x, w.attnNorm(), b.xb, n, dim, cfg.rmsEps());
        if (observer != null) {
            observer.observe(l, TensorNames.ATTN_Q, b.xb, n);
            observer.observe(l, TensorNames.ATTN_K, b.xb, n);
            observer.observe(l, TensorNames.ATTN_V, b.xb, n);
        }
        linear(w.wq(), b.xb, n, b.q);
        linear(w.wk(), b.xb, n, b.k);
        linear(w.wv(), b.xb, n, b.v);
        if (w.bq() != null) {
            Ops.addBias(b.q, w.bq(), n);
            Ops.addBias(b.k, w.bk(), n);
            Ops.addBias(b.v, w.bv(), n);
        }
        if (w.qNorm() != null) {
            Ops.rmsNorm(b.q, w.qNorm(), b.q, n * cfg.heads(), cfg.headDim(), cfg.rmsEps());
            Ops.rmsNorm(b.k, w.kNorm(), b.k, n * cfg.kvHeads(), cfg.headDim(), cfg.rmsEps());
        }
        positionAndCache(l, b, n);
        attention(l, b, n);
        if (observer != null) {
            observer.observe(l, TensorNames.ATTN_OUTPUT, b.att, n);
        }
        linear(w.wo(), b.att, n, b.proj);
        Ops.addInPlace(x, b.proj, n * dim);

        Ops.rmsNorm(x, w.ffnNorm(), b.xb, n, dim, cfg.rmsEps());
        if (observer != null) {
            observer.observe(l, TensorNames.FFN_GATE, b.xb, n);
            observer.observe(l, TensorNames.FFN_UP, b.xb, n);
        }
        linear(w.gate(), b.xb, n, b.gate);
        linear(w.up(), b.xb, n, b.up);
        Ops.swiglu(b.gate, b.up, n * cfg.ffnDim());
        if (observer != null) {
            observer.observe(l, TensorNames.FFN_DOWN, b.gate, n);
        }
        linear(w.down(), b.gate, n, b.proj);
        Ops.addInPlace(x, b.proj, n * dim);
    }

    /** {@code out = W · x}: as the weight's format says, or with the int8 input plan stored beside it; plus the LoRA product. */
    private void linear(dev.jquant.tensor.Tensor w, float[] x, int n, float[] out) {
        LinearInputs inputs = model.linearInputs(w.name());
        if (inputs == null) {
            MatMul.matmul(w, x, n, out);
        } else {
            inputs.apply(x, n, out);
        }
        if (model.lora() != null) {
            model.lora().addTo(w.name(), x, n, out);
        }
    }

    /** Rotates q and k by their positions and appends k and v to the cache. */
    private void positionAndCache(int l, Buffers b, int n) {
        int half = cfg.headDim() / 2;
        int kvDim = cfg.kvDim();
        float[] cos = new float[half];
        float[] sin = new float[half];
        for (int t = 0; t < n; t++) {
            RoPE.angles(model.inverseFrequencies(), position + t, cos, sin);
            RoPE.rotate(b.q, t * cfg.qDim(), cfg.heads(), cfg.headDim(), cfg.ropeStyle(), cos, sin);
            RoPE.rotate(b.k, t * kvDim, cfg.kvHeads(), cfg.headDim(), cfg.ropeStyle(), cos, sin);
        }
        cache.store(l, position, n, b.k, b.v);
    }

    /** Causal scaled dot-product attention for every (token, head), in parallel. */
    private void attention(int l, Buffers b, int n) {
        switch (cache) {
            case KvCache.Floats f -> attention(f.keys()[l], f.values()[l], b, n);
            case KvCache.Encoded e when e.dotsInPlace(cfg.headDim()) -> attention(e, l, b, n);
            case KvCache.Encoded e -> attention(e.decodeRows(false, l, position + n), e.decodeRows(true, l, position + n), b, n);
        }
    }

    private void attention(float[] keys, float[] values, Buffers b, int n) {
        Attention.causal(b.q, keys, values, cfg.heads(), cfg.kvHeads(), cfg.headDim(), position, n, b.att);
    }

    /** The same over an encoded cache whose heads are whole blocks: keys multiplied in their format, values decoded per head. */
    private void attention(KvCache.Encoded cache, int l, Buffers b, int n) {
        int heads = cfg.heads();
        int hd = cfg.headDim();
        int group = heads / cfg.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        Parallel.get().forRange(n * heads, 1, (start, end) -> {
            float[] scores = new float[position + n];
            float[] head = new float[hd];
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int kvOff = (h / group) * hd;
                int qOff = t * cfg.qDim() + h * hd;
                int len = position + t + 1;
                for (int p = 0; p < len; p++) {
                    scores[p] = cache.keyDot(l, p, kvOff, b.q, qOff, hd) * scale;
                }
                Ops.softmax(scores, len);
                java.util.Arrays.fill(b.att, qOff, qOff + hd, 0f);
                for (int p = 0; p < len; p++) {
                    cache.decodeValue(l, p, kvOff, hd, head);
                    Ops.axpy(scores[p], head, 0, b.att, qOff, hd);
                }
            }
        });
    }

    /** Logits of positions {@code firstLogit..n-1} from the last block's hidden states (final norm, output). */
    public float[][] logits(float[] x, int n, int firstLogit) {
        int dim = cfg.dim();
        int count = n - firstLogit;
        float[] normed = new float[count * dim];
        float[] tail = java.util.Arrays.copyOfRange(x, firstLogit * dim, n * dim);
        Ops.rmsNorm(tail, model.outputNorm(), normed, count, dim, cfg.rmsEps());
        float[] flat = new float[count * cfg.vocabSize()];
        MatMul.matmul(model.output(), normed, count, flat);
        float[][] out = new float[count][];
        for (int t = 0; t < count; t++) {
            out[t] = java.util.Arrays.copyOfRange(flat, t * cfg.vocabSize(), (t + 1) * cfg.vocabSize());
        }
        return out;
    }
}
