package dev.jquant.quantize;

import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Round-to-nearest planning as {@code llama-quantize --pure} does it: every matrix (token
 * embeddings and output included) in one format, 1-D tensors (norms, biases) in F32, with optional
 * overrides for the embeddings, the output, and tensors matching "keep" patterns.
 *
 * @param embeddingFormat null: same as {@code format}
 * @param outputFormat    null: same as {@code format}
 * @param keep            name patterns (regular expressions, matched anywhere in the name) left as they are
 */
public record RtnPlanner(Format format, Format embeddingFormat, Format outputFormat, List<Pattern> keep) {

    public RtnPlanner {
        keep = List.copyOf(keep);
    }

    public List<TensorPlan> plan(Checkpoint checkpoint) {
        List<TensorPlan> plans = new ArrayList<>();
        for (Tensor t : checkpoint.tensors().values()) {
            plans.add(plan(t));
        }
        return plans;
    }

    private TensorPlan plan(Tensor t) {
        String name = t.name();
        for (Pattern p : keep) {
            if (p.matcher(name).find()) {
                return new TensorPlan(name, t.format(), "kept (matches " + p.pattern() + ")");
            }
        }
        if (t.rank() < 2) {
            return new TensorPlan(name, F32.INSTANCE, "1-D");
        }
        Format wanted = format;
        String reason = "default";
        if (name.equals(TensorNames.TOKEN_EMBEDDING) && embeddingFormat != null) {
            wanted = embeddingFormat;
            reason = "embedding format";
        } else if (name.equals(TensorNames.OUTPUT) && outputFormat != null) {
            wanted = outputFormat;
            reason = "output format";
        }
        Format target = BlockFallback.forColumns(wanted, t.cols());
        if (target != wanted) {
            reason = "fallback: " + t.cols() + " columns are not a multiple of " + wanted.name() + "'s block of "
                    + wanted.blockSize();
        }
        return new TensorPlan(name, target, reason);
    }
}
