package dev.jquant.train.lora;

import dev.jquant.kernel.MatMul;
import dev.jquant.kernel.Parallel;
import dev.jquant.tensor.Tensor;
import dev.jquant.train.Linear;
import dev.jquant.train.LinearLayer;
import dev.jquant.train.Parameters;

/**
 * A frozen linear layer whose weight stays in its quantized bytes (QLoRA's base). The forward product
 * is the inference engine's (rows decoded tile by tile, no full copy); the input gradient
 * {@code dx = dy W} decodes the weight into a scratch array shared by every layer of the model (one
 * matrix's worth of floats, reused), so no F32 copy of the model is ever kept.
 */
public final class QuantizedLinear implements LinearLayer {

    /** The decode buffer the layers of one model share; it grows to the largest matrix and is reused. */
    public static final class Scratch {
        private float[] buffer = new float[0];

        float[] get(int floats) {
            if (buffer.length < floats) {
                buffer = new float[floats];
            }
            return buffer;
        }

        /** Bytes held now. */
        public long bytes() {
            return 4L * buffer.length;
        }
    }

    private final Tensor weight;
    private final Scratch scratch;

    public QuantizedLinear(Tensor weight, Scratch scratch) {
        this.weight = weight;
        this.scratch = scratch;
    }

    public Tensor weight() {
        return weight;
    }

    @Override
    public void forward(Parameters w, float[] x, int n, float[] y) {
        MatMul.matmul(weight, x, n, y);
    }

    @Override
    public void backward(Parameters w, Parameters grads, float[] dy, float[] x, int n, float[] dx, boolean accumulate) {
        int rows = weight.rows();
        int cols = weight.cols();
        float[] decoded = scratch.get(rows * cols);
        Parallel.get().forRange(rows, 8, (start, end) -> {
            for (int r = start; r < end; r++) {
                weight.decodeRow(r, decoded, r * cols);
            }
        });
        Linear.backwardInput(dy, n, decoded, rows, cols, dx, accumulate);
    }
}
