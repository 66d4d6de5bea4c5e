package dev.jquant.quantize;

import dev.jquant.tensor.Tensor;

import java.util.Map;

/**
 * A post-training quantization method, applied by {@link LayerwiseQuantizer} one decoder block at
 * a time. A method reads the block's original weights, its target grids and (when it asks for
 * them) the statistics of the block's inputs, and returns the block's new tensors by full name:
 * every quantized linear weight, plus anything else it rewrote (AWQ's scaled norms). Register new
 * methods in {@link QuantMethods}.
 */
public interface QuantMethod {

    /** The name {@code --method} selects it by. */
    String name();

    /** The calibration statistics this method needs; {@link CalibrationNeeds#NONE} for data-free methods. */
    CalibrationNeeds needs();

    /** The block's new tensors, by full name ({@code blk.N.attn_q.weight}, ...). */
    Map<String, Tensor> quantizeBlock(BlockJob job);

    /**
     * @param activations per-channel input statistics are needed
     * @param hessian     XᵀX of each linear input (channels² floats each)
     * @param keepRows    input rows to keep per linear input (0: none)
     */
    record CalibrationNeeds(boolean activations, boolean hessian, int keepRows) {
        public static final CalibrationNeeds NONE = new CalibrationNeeds(false, false, 0);
    }
}
