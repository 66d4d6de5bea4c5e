package dev.jquant.quantize.calibrate;

import dev.jquant.model.LinearInputObserver;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.Session;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Records {@link ChannelStats} for every linear layer's input while a model runs. Layers reading
 * the same activations share one record: q/k/v ({@code attn_q}), gate/up ({@code ffn_gate}),
 * {@code attn_output}, {@code ffn_down}. Use it as the session's observer, or let {@link #run}
 * feed a whole calibration set through the full-precision model.
 *
 * @param hessian  also accumulate XᵀX (channels² floats per input: large for big models)
 * @param keepRows input rows to keep per input, for methods that replay them (AWQ)
 */
public final class Calibrator implements LinearInputObserver {
    private final ModelConfig config;
    private final boolean hessian;
    private final int keepRows;
    private final Map<String, ChannelStats> stats = new LinkedHashMap<>();

    public Calibrator(ModelConfig config, boolean hessian, int keepRows) {
        this.config = config;
        this.hessian = hessian;
        this.keepRows = keepRows;
    }

    /** Runs every sample through {@code model} from position 0 and records its linear inputs. */
    public static Calibrator run(Transformer model, CalibrationSet samples, boolean hessian, int keepRows) {
        Calibrator c = new Calibrator(model.config(), hessian, keepRows);
        Session session = model.newSession(samples.sequenceLength());
        session.observeLinearInputs(c);
        for (int[] sample : samples.samples()) {
            session.rewind(0);
            session.forward(sample, sample.length - 1);
        }
        return c;
    }

    /** The tensor whose record holds {@code tensor}'s input (the first of those sharing it). */
    public static String inputOwner(String tensor) {
        return switch (tensor) {
            case TensorNames.ATTN_K, TensorNames.ATTN_V -> TensorNames.ATTN_Q;
            case TensorNames.FFN_UP -> TensorNames.FFN_GATE;
            default -> tensor;
        };
    }

    @Override
    public void observe(int layer, String tensor, float[] input, int tokens) {
        if (!inputOwner(tensor).equals(tensor)) {
            return;
        }
        int channels = switch (tensor) {
            case TensorNames.ATTN_OUTPUT -> config.qDim();
            case TensorNames.FFN_DOWN -> config.ffnDim();
            default -> config.dim();
        };
        stats.computeIfAbsent(TensorNames.block(layer, tensor), k -> new ChannelStats(channels, hessian, keepRows))
                .add(input, tokens);
    }

    /** The statistics of the input of {@code blk.<layer>.<tensor>}, or null when it never ran. */
    public ChannelStats stats(int layer, String tensor) {
        return stats.get(TensorNames.block(layer, inputOwner(tensor)));
    }

    /** Every record, under the full name of the tensor that owns it. */
    public Map<String, ChannelStats> all() {
        return java.util.Collections.unmodifiableMap(stats);
    }
}
