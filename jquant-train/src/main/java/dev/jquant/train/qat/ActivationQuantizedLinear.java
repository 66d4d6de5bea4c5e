package dev.jquant.train.qat;

import dev.jquant.train.Linear;
import dev.jquant.train.LinearLayer;
import dev.jquant.train.Parameters;

/**
 * A linear layer whose input is fake-quantized per token (row), symmetric and dynamic as W8A8 engines
 * quantize activations: {@code x' = s round(x / s)} with {@code s = max|x| / (2^(bits-1) - 1)}. The
 * straight-through estimator passes the input gradient through the rounding ({@code dx = dy W}); the
 * weight's gradient uses the quantized input the product saw ({@code dW += dy^T x'}).
 */
public final class ActivationQuantizedLinear implements LinearLayer {
    private final String weight;
    private final int out;
    private final int in;
    private final int levels;
    /** The quantized input of the last forward pass. */
    private float[] xq;

    public ActivationQuantizedLinear(String weight, int out, int in, int bits) {
        if (bits < 2 || bits > 16) {
            throw new dev.jquant.JQuantException("--act-bits must be 2..16, got " + bits);
        }
        this.weight = weight;
        this.out = out;
        this.in = in;
        this.levels = (1 << (bits - 1)) - 1;
    }

    /** Each row of {@code n} x {@code in} values rounded to its own symmetric grid. */
    static float[] quantizeRows(float[] x, int n, int in, int levels) {
        float[] q = new float[n * in];
        for (int t = 0; t < n; t++) {
            float amax = 0;
            for (int c = 0; c < in; c++) {
                amax = Math.max(amax, Math.abs(x[t * in + c]));
            }
            if (amax == 0) {
                continue;
            }
            float s = amax / levels;
            for (int c = 0; c < in; c++) {
                q[t * in + c] = s * (float) Math.rint(x[t * in + c] / s);
            }
        }
        return q;
    }

    @Override
    public void forward(Parameters w, float[] x, int n, float[] y) {
        xq = quantizeRows(x, n, in, levels);
        Linear.forward(xq, n, w.get(weight), out, in, y);
    }

    @Override
    public void backward(Parameters w, Parameters grads, float[] dy, float[] x, int n, float[] dx, boolean accumulate) {
        Linear.backwardInput(dy, n, w.get(weight), out, in, dx, accumulate);
        if (grads.contains(weight)) {
            Linear.backwardWeight(dy, xq, n, out, in, grads.get(weight));
        }
    }
}
