package dev.jquant.quantize.recipe;

import dev.jquant.JQuantException;
import dev.jquant.format.Formats;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.BlockFallback;
import dev.jquant.quantize.BlockJob;
import dev.jquant.quantize.FormatGrid;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.quantize.QuantMethods;
import dev.jquant.quantize.WeightGrid;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.rtn.UniformGrid;
import dev.jquant.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A recipe with layer-wise rules (gptq or awq with bits, as opposed to gptq with a per-tensor
 * integer format), run by the layer-wise pipeline: every tensor lands on its own rule's grid, the
 * layer-wise method quantizes the block linears its rules match, {@code rtn} rules round the others
 * to nearest, {@code keep} rules and unmatched tensors stay as they are. One layer-wise method per
 * recipe. AWQ rescales whole input groups (q/k/v, gate/up, ...) and folds the scales into their
 * neighbours, so next to awq only {@code keep} rules may touch block linears.
 */
public final class LayerwiseRecipe {
    private static final Set<String> LAYERWISE = Set.of("gptq", "awq");

    private final Recipe recipe;
    private final String method;

    private LayerwiseRecipe(Recipe recipe, String method) {
        this.recipe = recipe;
        this.method = method;
    }

    /** Whether {@code r} is a rule the layer-wise pipeline runs. */
    static boolean isLayerwise(Recipe.Rule r) {
        return !r.keep() && LAYERWISE.contains(r.method()) && r.format() == null;
    }

    /** The recipe as a layer-wise run, or empty when it has no layer-wise rule; bad combinations are one-line errors. */
    public static Optional<LayerwiseRecipe> of(Recipe recipe) {
        List<Recipe.Rule> layerwise = recipe.rules().stream().filter(LayerwiseRecipe::isLayerwise).toList();
        if (layerwise.isEmpty()) {
            return Optional.empty();
        }
        String method = layerwise.getFirst().method();
        for (Recipe.Rule r : recipe.rules()) {
            if (r.keep()) {
                continue;
            }
            if (LAYERWISE.contains(r.method()) && !method.equals(r.method())) {
                throw new JQuantException("recipe " + recipe.name() + ": one layer-wise method per recipe, not "
                        + method + " and " + r.method());
            }
            if (!r.method().equals(method) && !r.method().equals("rtn")) {
                throw new JQuantException("recipe " + recipe.name() + ": a " + method + " recipe combines with rtn and keep "
                        + "rules only, not " + r.method() + " ('" + r.pattern() + "')");
            }
            if (r.method().equals(method) && !isLayerwise(r)) {
                throw new JQuantException("recipe " + recipe.name() + ": " + method + " rules take bits (and group, "
                        + "symmetric), not a format, when combined with other layer-wise rules ('" + r.pattern() + "')");
            }
        }
        return Optional.of(new LayerwiseRecipe(recipe, method));
    }

    /** gptq or awq. */
    public String method() {
        return method;
    }

    /**
     * Every tensor's grid: its rule's, except that layer-wise rules reach only block linears (other
     * tensors they match are kept) and that tensors matching {@code keep} stay as they are.
     */
    public GridPlan plan(Checkpoint model, List<Pattern> keep) {
        Map<String, GridPlan.Entry> out = new LinkedHashMap<>();
        for (Tensor t : model.tensors().values()) {
            String name = t.name();
            Optional<Recipe.Rule> rule = recipe.ruleFor(name).filter(r -> !r.keep());
            boolean blockLinear = t.rank() == 2 && name.startsWith("blk.") && GridPlan.LINEARS.contains(GridPlan.suffix(name));
            GridPlan.Entry entry;
            if (keep.stream().anyMatch(p -> p.matcher(name).find())) {
                entry = new GridPlan.Entry(null, "kept (pattern)");
            } else if (rule.isEmpty() || t.rank() < 2) {
                entry = new GridPlan.Entry(null, t.rank() < 2 ? "1-D" : "kept (no rule)");
            } else if (rule.get().method().equals(method) && !blockLinear) {
                entry = new GridPlan.Entry(null, "kept (not a block linear)");
            } else {
                Recipe.Rule r = rule.get();
                if (method.equals("awq") && r.method().equals("rtn") && blockLinear) {
                    throw new JQuantException("recipe " + recipe.name() + ": awq rescales whole blocks, so rtn rules "
                            + "cannot pick block linears beside it (" + name + " matches '" + r.pattern() + "'); use keep");
                }
                entry = new GridPlan.Entry(grid(r, t.cols()), r.method() + " ('" + r.pattern() + "')");
            }
            out.put(name, entry);
        }
        return new GridPlan(out);
    }

    private static WeightGrid grid(Recipe.Rule r, int columns) {
        if (r.format() != null) {
            return new FormatGrid(BlockFallback.forColumns(Formats.byName(r.format()), columns));
        }
        boolean symmetric = r.symmetric() == null || r.symmetric();
        RangeObserver observer = RangeObserver.parse(r.observer() == null ? "minmax" : r.observer());
        return new UniformGrid(r.bits(), r.group() == null ? 128 : r.group(), symmetric, observer);
    }

    /**
     * The method for {@link dev.jquant.quantize.LayerwiseQuantizer}: the layer-wise method on the
     * tensors of its rules (it sees the others as kept), then round to nearest for the rtn ones.
     */
    public QuantMethod quantMethod(GridPlan plan, MethodParams params) {
        QuantMethod inner = QuantMethods.create(method, params);
        Map<String, GridPlan.Entry> own = new LinkedHashMap<>();
        plan.entries().forEach((name, e) -> {
            boolean mine = e.grid() != null && recipe.ruleFor(name).map(r -> r.method().equals(method)).orElse(false);
            own.put(name, mine ? e : new GridPlan.Entry(null, e.reason()));
        });
        GridPlan ownPlan = new GridPlan(own);
        return new QuantMethod() {
            public String name() {
                return method;
            }

            public CalibrationNeeds needs() {
                return inner.needs();
            }

            public Map<String, Tensor> quantizeBlock(BlockJob job) {
                Map<String, Tensor> out = inner.quantizeBlock(
                        new BlockJob(job.layer(), job.source(), ownPlan, job.calibration(), job.arena()));
                for (String s : GridPlan.LINEARS) {
                    String name = job.name(s);
                    if (ownPlan.entry(name).grid() == null && job.grid(s) != null) {
                        out.put(name, job.roundToNearest(s)); // an rtn rule (only beside gptq: awq refuses them)
                    }
                }
                return out;
            }
        };
    }
}
