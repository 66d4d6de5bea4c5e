package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.kernel.Int8MatMul;
import dev.jquant.kernel.MatMul;
import dev.jquant.tensor.Tensor;

import java.util.Optional;

/**
 * How a W8A8 linear layer prepares its input beyond what the weight's format implies, read from
 * companion tensors stored beside the weight ({@link TensorNames#companion}):
 * <ul>
 *   <li>{@code input_scale}: a static activation scale fixed from calibration, instead of a scale per token;</li>
 *   <li>{@code outlier_columns} + {@code outlier_weight}: LLM.int8()'s decomposition — these input columns
 *       are multiplied in 16 bits by their own weights, the rest in int8 (their int8 weights are zero there).</li>
 * </ul>
 *
 * @param staticScale    {@link Int8MatMul#DYNAMIC} for per-token scales
 * @param outlierColumns null when no columns are split off
 */
record LinearInputs(Tensor weight, float staticScale, int[] outlierColumns, Tensor outlierWeight) {

    /** The plan for a weight, or empty when it runs as its format says. */
    static Optional<LinearInputs> find(Checkpoint c, Tensor weight) {
        Optional<Tensor> scale = c.optionalTensor(TensorNames.companion(weight.name(), TensorNames.INPUT_SCALE));
        Optional<Tensor> columns = c.optionalTensor(TensorNames.companion(weight.name(), TensorNames.OUTLIER_COLUMNS));
        if (scale.isEmpty() && columns.isEmpty()) {
            return Optional.empty();
        }
        if (!Int8MatMul.handles(weight.format())) {
            throw new JQuantException(c.source() + ": " + weight.name() + " has int8 activation companions but is stored as "
                    + weight.format().name() + ", not " + Int8MatMul.WEIGHTS.name());
        }
        float s = scale.map(t -> t.toFloats()).map(v -> checkScale(c, weight, v)).orElse(Int8MatMul.DYNAMIC);
        if (columns.isEmpty()) {
            return Optional.of(new LinearInputs(weight, s, null, null));
        }
        Tensor outliers = c.tensor(TensorNames.companion(weight.name(), TensorNames.OUTLIER_WEIGHT));
        int[] cols = columns(c, weight, columns.get().toFloats());
        if (outliers.rank() != 2 || outliers.dim(0) != weight.rows() || outliers.dim(1) != cols.length) {
            throw new JQuantException(c.source() + ": " + outliers.name() + " must have shape [" + weight.rows() + ", "
                    + cols.length + "]");
        }
        return Optional.of(new LinearInputs(weight, s, cols, outliers));
    }

    private static float checkScale(Checkpoint c, Tensor weight, float[] v) {
        if (v.length != 1 || !(v[0] > 0) || !Float.isFinite(v[0])) {
            throw new JQuantException(c.source() + ": the input scale of " + weight.name() + " must be one positive number");
        }
        return v[0];
    }

    private static int[] columns(Checkpoint c, Tensor weight, float[] v) {
        int[] cols = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            cols[i] = (int) v[i];
            if (cols[i] != v[i] || cols[i] < 0 || cols[i] >= weight.cols() || (i > 0 && cols[i] <= cols[i - 1])) {
                throw new JQuantException(c.source() + ": outlier columns of " + weight.name()
                        + " must be ascending column indices below " + weight.cols());
            }
        }
        return cols;
    }

    /** {@code out = W · x} for {@code tokens} rows of {@code x}, as this plan says. */
    void apply(float[] x, int tokens, float[] out) {
        if (outlierColumns == null) {
            Int8MatMul.matmul(weight, x, tokens, out, staticScale);
            return;
        }
        int cols = weight.cols();
        int k = outlierColumns.length;
        float[] inliers = java.util.Arrays.copyOf(x, tokens * cols);
        float[] outliers = new float[tokens * k];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                int c = t * cols + outlierColumns[j];
                outliers[t * k + j] = inliers[c];
                inliers[c] = 0;
            }
        }
        Int8MatMul.matmul(weight, inliers, tokens, out, staticScale);
        float[] high = new float[tokens * weight.rows()];
        MatMul.matmul(outlierWeight, outliers, tokens, high);
        for (int i = 0; i < high.length; i++) {
            out[i] += high[i];
        }
    }
}
