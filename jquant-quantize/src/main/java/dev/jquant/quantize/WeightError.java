package dev.jquant.quantize;

import dev.jquant.tensor.Tensor;

/** How far a quantized tensor is from its original. */
public final class WeightError {
    private WeightError() {
    }

    /** ‖W − Ŵ‖ / ‖W‖ (relative Frobenius error); 0 when both are identical. */
    public static double relativeRms(Tensor original, Tensor quantized) {
        if (original == quantized) {
            return 0;
        }
        int cols = original.cols();
        float[] a = new float[cols];
        float[] b = new float[cols];
        double err = 0;
        double norm = 0;
        for (int r = 0, rows = original.rows(); r < rows; r++) {
            original.decodeRow(r, a, 0);
            quantized.decodeRow(r, b, 0);
            for (int i = 0; i < cols; i++) {
                double d = a[i] - b[i];
                err += d * d;
                norm += (double) a[i] * a[i];
            }
        }
        return norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
    }
}
