package dev.jquant.quantize.w8a8;

import dev.jquant.kernel.Int8MatMul;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * W8A8 with round to nearest: every linear weight of the decoder blocks becomes
 * {@link Int8MatMul#WEIGHTS} (int8, one absmax scale per output channel), which the runtime
 * multiplies with int8 activations; with {@link ActivationMode#STATIC} each layer also gets an
 * {@code input_scale} from the calibration range. Embeddings, output and norms stay as they are.
 * The baseline SmoothQuant and the outlier split improve on.
 */
public final class W8A8 {
    /** The linear weights of a block, as {@link TensorNames} suffixes. */
    public static final List<String> LINEARS = List.of(TensorNames.ATTN_Q, TensorNames.ATTN_K, TensorNames.ATTN_V,
            TensorNames.ATTN_OUTPUT, TensorNames.FFN_GATE, TensorNames.FFN_UP, TensorNames.FFN_DOWN);

    private W8A8() {
    }

    /** The replaced and added tensors (weights, and static input scales when asked for). */
    public static Map<String, Tensor> quantize(Checkpoint model, ActivationRanges ranges, ActivationMode mode, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String suffix : LINEARS) {
                Tensor w = model.tensor(TensorNames.block(l, suffix));
                out.put(w.name(), int8Weight(w.name(), w.toFloats(), w.rows(), w.cols(), arena));
                if (mode == ActivationMode.STATIC) {
                    putStaticScale(out, w.name(), ranges.absMaxOverall(w.name()), arena);
                }
            }
        }
        return out;
    }

    /** Encodes row-major floats as an {@link Int8MatMul#WEIGHTS} tensor. */
    public static Tensor int8Weight(String name, float[] values, int rows, int cols, Arena arena) {
        long rowBytes = Int8MatMul.WEIGHTS.rowBytes(cols);
        MemorySegment seg = arena.allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r++) {
            Int8MatMul.WEIGHTS.encode(values, r * cols, cols, seg, r * rowBytes);
        }
        return new Tensor(name, Int8MatMul.WEIGHTS, new long[] {rows, cols}, seg);
    }

    /** Adds the {@code input_scale} companion for inputs whose largest calibration |x| is {@code absMax}. */
    public static void putStaticScale(Map<String, Tensor> out, String weightName, float absMax, Arena arena) {
        String name = TensorNames.companion(weightName, TensorNames.INPUT_SCALE);
        float scale = absMax > 0 ? absMax / 127f : Float.MIN_NORMAL;
        out.put(name, Tensor.ofFloats(name, new float[] {scale}, arena, 1));
    }
}
