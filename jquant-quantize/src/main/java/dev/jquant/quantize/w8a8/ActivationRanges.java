package dev.jquant.quantize.w8a8;

import dev.jquant.model.LinearInputObserver;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.Session;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The largest |x| per input channel of every linear layer of a model, over calibration sequences:
 * what SmoothQuant, static activation scales and the outlier split need. Keyed by the full weight
 * name ({@code blk.0.attn_q.weight}); layers sharing an input (q/k/v, gate/up) have equal ranges.
 */
public final class ActivationRanges implements LinearInputObserver {
    private final ModelConfig config;
    private final Map<String, float[]> absMax = new HashMap<>();

    public ActivationRanges(ModelConfig config) {
        this.config = config;
    }

    /** Runs each sample from position 0 through the full-precision model and records its linear inputs. */
    public static ActivationRanges collect(Transformer model, List<int[]> samples) {
        ActivationRanges r = new ActivationRanges(model.config());
        int longest = samples.stream().mapToInt(s -> s.length).max().orElseThrow();
        Session session = model.newSession(longest);
        session.observeLinearInputs(r);
        for (int[] sample : samples) {
            session.rewind(0);
            session.forward(sample, sample.length - 1);
        }
        return r;
    }

    @Override
    public void observe(int layer, String tensor, float[] input, int tokens) {
        String name = TensorNames.block(layer, tensor);
        int cols = switch (tensor) {
            case TensorNames.ATTN_OUTPUT -> config.qDim();
            case TensorNames.FFN_DOWN -> config.ffnDim();
            default -> config.dim();
        };
        float[] max = absMax.computeIfAbsent(name, k -> new float[cols]);
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                max[c] = Math.max(max[c], Math.abs(input[t * cols + c]));
            }
        }
    }

    /** Per-channel max |x| of the input of weight {@code name}; fails when it never ran. */
    public float[] absMax(String weightName) {
        float[] v = absMax.get(weightName);
        if (v == null) {
            throw new IllegalArgumentException("no activation range recorded for " + weightName);
        }
        return v;
    }

    /** The largest |x| over all channels. */
    public float absMaxOverall(String weightName) {
        float m = 0;
        for (float v : absMax(weightName)) {
            m = Math.max(m, v);
        }
        return m;
    }
}
