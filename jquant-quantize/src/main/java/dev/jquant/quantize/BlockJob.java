package dev.jquant.quantize;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;
import dev.jquant.quantize.calibrate.Calibrator;
import dev.jquant.quantize.calibrate.ChannelStats;
import dev.jquant.quantize.rtn.Rtn;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;

/**
 * One decoder block to quantize: its original weights (from the mmapped source), the plan's grid
 * for each of them, and the statistics of its inputs as produced by the already-quantized blocks
 * before it. Results go into {@link #arena()}.
 */
public record BlockJob(int layer, Checkpoint source, GridPlan plan, Calibrator calibration, Arena arena) {

    public ModelConfig config() {
        return source.config();
    }

    /** {@code blk.<layer>.<suffix>}. */
    public String name(String suffix) {
        return TensorNames.block(layer, suffix);
    }

    public Tensor tensor(String suffix) {
        return source.tensor(name(suffix));
    }

    /** The original weight decoded to floats, row-major. */
    public float[] weights(String suffix) {
        return tensor(suffix).toFloats();
    }

    /** The target grid, or null when the tensor is kept as it is. */
    public WeightGrid grid(String suffix) {
        return plan.entry(name(suffix)).grid();
    }

    /** True when the plan quantizes this tensor onto a lossy grid (not kept, not a float format). */
    public boolean quantized(String suffix) {
        WeightGrid g = grid(suffix);
        return g != null && !GridPlan.isFloat(g);
    }

    /** Statistics of the tensor's input, or null without calibration. */
    public ChannelStats stats(String suffix) {
        return calibration == null ? null : calibration.stats(layer, suffix);
    }

    /** {@code values} ({@code tensor(suffix)}'s shape) rounded to nearest on the tensor's grid. */
    public Tensor roundToNearest(String suffix, float[] values) {
        Tensor t = tensor(suffix);
        return Rtn.quantize(name(suffix), values, t.rows(), t.cols(), grid(suffix), arena);
    }

    /** The tensor unchanged when kept, else its original weights rounded to nearest. */
    public Tensor roundToNearest(String suffix) {
        WeightGrid g = grid(suffix);
        return g == null ? tensor(suffix) : roundToNearest(suffix, weights(suffix));
    }
}
