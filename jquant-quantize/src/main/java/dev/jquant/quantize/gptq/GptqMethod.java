package dev.jquant.quantize.gptq;

import dev.jquant.quantize.BlockJob;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.quantize.calibrate.Calibrator;
import dev.jquant.quantize.calibrate.ChannelStats;
import dev.jquant.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GPTQ for every linear of a block, each from the Hessian of its own input (q/k/v and gate/up share
 * theirs). Parameters: {@code damp} (0.01), {@code block-size} (128), {@code act-order},
 * {@code static-groups}.
 */
public final class GptqMethod implements QuantMethod {
    private final GptqOptions options;

    public GptqMethod(MethodParams p) {
        this(new GptqOptions(p.number("damp", 0.01), (int) p.number("block-size", 128), p.flag("act-order"),
                p.flag("static-groups")));
    }

    public GptqMethod(GptqOptions options) {
        this.options = options;
    }

    @Override
    public String name() {
        return "gptq";
    }

    @Override
    public CalibrationNeeds needs() {
        return new CalibrationNeeds(true, true, 0);
    }

    @Override
    public Map<String, Tensor> quantizeBlock(BlockJob job) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, Gptq.Prepared> prepared = new LinkedHashMap<>();
        for (String s : GridPlan.LINEARS) {
            ChannelStats stats = job.stats(s);
            if (!job.quantized(s) || stats == null) {
                out.put(job.name(s), job.roundToNearest(s));
                continue;
            }
            Tensor t = job.tensor(s);
            Gptq.Prepared p = prepared.computeIfAbsent(Calibrator.inputOwner(s),
                    k -> Gptq.prepare(stats.hessian(), t.cols(), options));
            float[] w = job.weights(s);
            GridEncoder enc = job.grid(s).encoder(w, t.rows(), t.cols());
            Gptq.quantize(w, t.rows(), p, enc, options);
            out.put(job.name(s), enc.finish(job.name(s), job.arena()));
        }
        return out;
    }
}
