package dev.jquant.quantize.outlier;

import dev.jquant.JQuantException;
import dev.jquant.format.F16;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.ActivationRanges;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * LLM.int8()-style mixed decomposition (Dettmers et al. 2022): the few input channels whose
 * activations exceed {@code threshold} in calibration stay in 16 bits — their weight columns are
 * stored F16 beside the weight ({@code outlier_columns}, {@code outlier_weight}) — and everything
 * else runs W8A8 with activation scales the outliers no longer inflate: per token, or
 * ({@link ActivationMode#STATIC}) one per tensor from the inlier columns' calibration range. Unlike
 * the paper, the columns are chosen once from calibration, not per batch at run time.
 */
public record OutlierSplit(float threshold, ActivationMode mode) {
    public static final float DEFAULT_THRESHOLD = 6.0f;

    public OutlierSplit {
        if (!(threshold > 0)) {
            throw new JQuantException("the outlier threshold must be positive, got " + threshold);
        }
    }

    public Map<String, Tensor> quantize(Checkpoint model, ActivationRanges ranges, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String suffix : W8A8.LINEARS) {
                split(model.tensor(TensorNames.block(l, suffix)), ranges.absMax(TensorNames.block(l, suffix)), out, arena);
            }
        }
        return out;
    }

    private void split(Tensor w, float[] actMax, Map<String, Tensor> out, Arena arena) {
        int rows = w.rows();
        int cols = w.cols();
        int[] outliers = IntStream.range(0, cols).filter(c -> actMax[c] > threshold).toArray();
        float[] values = w.toFloats();
        if (outliers.length > 0) {
            int k = outliers.length;
            float[] high = new float[rows * k];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < k; j++) {
                    high[r * k + j] = values[r * cols + outliers[j]];
                    values[r * cols + outliers[j]] = 0;
                }
            }
            String colsName = TensorNames.companion(w.name(), TensorNames.OUTLIER_COLUMNS);
            float[] indices = new float[k];
            for (int j = 0; j < k; j++) {
                indices[j] = outliers[j];
            }
            out.put(colsName, Tensor.ofFloats(colsName, indices, arena, k));
            String highName = TensorNames.companion(w.name(), TensorNames.OUTLIER_WEIGHT);
            MemorySegment seg = arena.allocate(2L * rows * k, 64);
            F16.INSTANCE.encode(high, 0, high.length, seg, 0);
            out.put(highName, new Tensor(highName, F16.INSTANCE, new long[] {rows, k}, seg));
        }
        out.put(w.name(), W8A8.int8Weight(w.name(), values, rows, cols, arena));
        if (mode == ActivationMode.STATIC) {
            float inlierMax = 0;
            for (int c = 0; c < cols; c++) {
                if (actMax[c] <= threshold) {
                    inlierMax = Math.max(inlierMax, actMax[c]);
                }
            }
            W8A8.putStaticScale(out, w.name(), inlierMax, arena);
        }
    }
}
