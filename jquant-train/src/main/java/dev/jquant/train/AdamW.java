package dev.jquant.train;

import dev.jquant.model.ModelConfig;

/**
 * AdamW (Loshchilov and Hutter): Adam's moment estimates with bias correction, and weight decay
 * applied to the weights directly rather than through the gradient. Only matrices are decayed;
 * norm weights are left alone, as is usual for transformers.
 */
public final class AdamW {
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Parameters m;
    private final Parameters v;
    private int t;

    public AdamW(ModelConfig config, float beta1, float beta2, float eps, float weightDecay) {
        this(beta1, beta2, eps, weightDecay, Parameters.zeros(config), Parameters.zeros(config), 0);
    }

    /** Fresh moments for {@code params}' names and shapes (a whole model or any subset, e.g. adapter factors). */
    public static AdamW forParameters(Parameters params, float beta1, float beta2, float eps, float weightDecay) {
        return new AdamW(beta1, beta2, eps, weightDecay, params.zerosLike(), params.zerosLike(), 0);
    }

    /** Resumes with saved moments after {@code steps} updates. */
    public AdamW(float beta1, float beta2, float eps, float weightDecay, Parameters m, Parameters v, int steps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = m;
        this.v = v;
        this.t = steps;
    }

    /** One update of {@code params} by {@code grads} at learning rate {@code lr}. */
    public void step(Parameters params, Parameters grads, float lr) {
        t++;
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        for (String name : params.names()) {
            float[] p = params.get(name);
            float[] g = grads.get(name);
            float[] mm = m.get(name);
            float[] vv = v.get(name);
            float decay = params.shape(name).length == 2 ? weightDecay : 0f;
            for (int i = 0; i < p.length; i++) {
                mm[i] = beta1 * mm[i] + (1 - beta1) * g[i];
                vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
                double mHat = mm[i] / c1;
                double vHat = vv[i] / c2;
                p[i] -= (float) (lr * (mHat / (Math.sqrt(vHat) + eps) + decay * p[i]));
            }
        }
    }

    public Parameters firstMoment() {
        return m;
    }

    public Parameters secondMoment() {
        return v;
    }

    /** Updates made so far. */
    public int steps() {
        return t;
    }
}
