package dev.jquant.quantize;

import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The grid each tensor is quantized onto; tensors without one are kept as stored (1-D tensors in
 * F32). Two shapes of plan: every matrix in one storage format as llama-quantize does (with its
 * block fallbacks), or block linears on a uniform integer grid with embeddings and output kept, as
 * the GPTQ/AWQ toolkits do.
 */
public record GridPlan(Map<String, Entry> entries) {

    /** {@code grid} null: keep the tensor as it is. */
    public record Entry(WeightGrid grid, String reason) {
    }

    public GridPlan {
        entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** Every matrix (embeddings and output too) in {@code format}, with llama.cpp's fallback for rows that do not fit. */
    public static GridPlan format(Checkpoint c, Format format, List<Pattern> keep) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (TensorPlan p : new RtnPlanner(format, null, null, keep).plan(c)) {
            Tensor t = c.tensor(p.name());
            boolean kept = t.rank() < 2 || p.reason().startsWith("kept");
            out.put(p.name(), new Entry(kept ? null : new FormatGrid(p.target()), p.reason()));
        }
        return new GridPlan(out);
    }

    /** The linear weights of every block on {@code grid}; everything else kept. */
    public static GridPlan blockLinears(Checkpoint c, WeightGrid grid, List<Pattern> keep) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Tensor t : c.tensors().values()) {
            String name = t.name();
            boolean linear = t.rank() == 2 && name.startsWith("blk.") && LINEARS.contains(suffix(name));
            boolean kept = keep.stream().anyMatch(p -> p.matcher(name).find());
            out.put(name, linear && !kept ? new Entry(grid, "default")
                    : new Entry(null, kept ? "kept (pattern)" : t.rank() < 2 ? "1-D" : "kept (not a block linear)"));
        }
        return new GridPlan(out);
    }

    /** The linear layers of a block, in the order the forward pass uses them. */
    public static final List<String> LINEARS = List.of(TensorNames.ATTN_Q, TensorNames.ATTN_K, TensorNames.ATTN_V,
            TensorNames.ATTN_OUTPUT, TensorNames.FFN_GATE, TensorNames.FFN_UP, TensorNames.FFN_DOWN);

    /** {@code attn_q.weight} of {@code blk.3.attn_q.weight}. */
    public static String suffix(String name) {
        int second = name.indexOf('.', name.indexOf('.') + 1);
        return name.substring(second + 1);
    }

    public Entry entry(String name) {
        return entries.getOrDefault(name, new Entry(null, "not planned"));
    }

    /** True when {@code grid} stores floats (F32/F16/BF16): nothing for a method to optimise. */
    public static boolean isFloat(WeightGrid grid) {
        return grid instanceof FormatGrid(Format f) && (f == F32.INSTANCE || f.name().equals("F16") || f.name().equals("BF16"));
    }
}
