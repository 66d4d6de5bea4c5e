package dev.jquant.quantize;

import dev.jquant.kernel.MatMul;
import dev.jquant.tensor.Tensor;

/** How much a quantized linear layer's outputs move on given inputs. */
public final class OutputError {
    private OutputError() {
    }

    /** ‖(W − Ŵ)X‖ / ‖WX‖ over the {@code tokens} input rows of {@code x}. */
    public static double relative(Tensor original, Tensor quantized, float[] x, int tokens) {
        int rows = original.rows();
        float[] a = new float[tokens * rows];
        float[] b = new float[tokens * rows];
        MatMul.matmul(original, x, tokens, a);
        MatMul.matmul(quantized, x, tokens, b);
        double err = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            err += d * d;
            norm += (double) a[i] * a[i];
        }
        return norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
    }
}
