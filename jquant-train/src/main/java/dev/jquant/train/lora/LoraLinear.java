package dev.jquant.train.lora;

import dev.jquant.train.Linear;
import dev.jquant.train.LinearLayer;
import dev.jquant.train.Parameters;

import java.util.SplittableRandom;

/**
 * A frozen base layer plus a LoRA adapter: {@code y = base(x) + s B (A drop(x))} with A {@code [r, in]},
 * B {@code [out, r]} and {@code s = alpha / r}; dropout (inverted, rate p) applies to the adapter's input
 * only, as PEFT's lora_dropout does. The backward pass adds the gradients of A and B and passes the
 * input gradient through both paths; the base gets none.
 */
public final class LoraLinear implements LinearLayer {
    private final LinearLayer base;
    private final String aName;
    private final String bName;
    private final int rank;
    private final int in;
    private final int out;
    private final float scale;
    private final float dropout;
    private SplittableRandom rnd;
    private boolean training = true;
    /** Of the last forward pass: the adapter's input (x, or x with dropout applied), the mask (null without dropout), A x. */
    private float[] xd;
    private float[] mask;
    private float[] u;

    /**
     * @param aName the name of A {@code [rank, in]} among the parameters
     * @param bName the name of B {@code [out, rank]}
     */
    public LoraLinear(LinearLayer base, String aName, String bName, int rank, int in, int out, float scale, float dropout,
                      long seed) {
        this.base = base;
        this.aName = aName;
        this.bName = bName;
        this.rank = rank;
        this.in = in;
        this.out = out;
        this.scale = scale;
        this.dropout = dropout;
        this.rnd = new SplittableRandom(seed);
    }

    /** Restarts the dropout masks from {@code seed} (a gradient check replays the same masks). */
    public void reseed(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    @Override
    public void training(boolean on) {
        this.training = on;
    }

    @Override
    public void forward(Parameters w, float[] x, int n, float[] y) {
        base.forward(w, x, n, y);
        if (training && dropout > 0) {
            float keep = 1f / (1f - dropout);
            mask = new float[n * in];
            xd = new float[n * in];
            for (int i = 0; i < xd.length; i++) {
                mask[i] = rnd.nextDouble() < dropout ? 0f : keep;
                xd[i] = x[i] * mask[i];
            }
        } else {
            mask = null;
            xd = x;
        }
        u = new float[n * rank];
        Linear.forward(xd, n, w.get(aName), rank, in, u);
        float[] delta = new float[n * out];
        Linear.forward(u, n, w.get(bName), out, rank, delta);
        for (int i = 0; i < n * out; i++) {
            y[i] += scale * delta[i];
        }
    }

    @Override
    public void backward(Parameters w, Parameters grads, float[] dy, float[] x, int n, float[] dx, boolean accumulate) {
        base.backward(w, grads, dy, x, n, dx, accumulate);
        float[] dys = new float[n * out];
        for (int i = 0; i < dys.length; i++) {
            dys[i] = scale * dy[i];
        }
        if (grads.contains(bName)) {
            Linear.backwardWeight(dys, u, n, out, rank, grads.get(bName));
        }
        float[] du = new float[n * rank];
        Linear.backwardInput(dys, n, w.get(bName), out, rank, du, false);
        if (grads.contains(aName)) {
            Linear.backwardWeight(du, xd, n, rank, in, grads.get(aName));
        }
        float[] dxd = new float[n * in];
        Linear.backwardInput(du, n, w.get(aName), rank, in, dxd, false);
        for (int i = 0; i < dxd.length; i++) {
            dx[i] += mask == null ? dxd[i] : dxd[i] * mask[i];
        }
    }
}
