package dev.jquant.quantize.mixed;

import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.quantize.calibrate.Calibrator;
import dev.jquant.quantize.recipe.Recipe;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Automatic mixed precision: measure every tensor's {@link Sensitivity} at every candidate setting,
 * let the {@link BudgetAllocator} choose the mix with the least predicted KL that fits the byte
 * budget, build it, and verify it by measuring the mixed model's real KL. The choice is returned as
 * a {@link Recipe} (one rule per tensor) so it can be written next to the output and reused.
 */
public final class MixedPrecision {

    /**
     * @param predictedKl sum of the chosen settings' single-tensor KLs
     * @param measuredKl  KL of the mixed model on the same calibration sequences
     * @param bytes       bytes of the searched tensors in their chosen settings
     */
    public record Result(Recipe recipe, Map<String, Tensor> tensors, Sensitivity table, int[] choice, long bytes,
                         long parameters, double predictedKl, double measuredKl) {
        public double bitsPerWeight() {
            return 8.0 * bytes / parameters;
        }
    }

    private MixedPrecision() {
    }

    /**
     * The default candidates: HQQ at 3 to 8 bits, with a scale and zero point per group of 64 or per
     * row (the cheapest for rows that are not a multiple of 64), and per group of 32 at 4 and 5 bits;
     * with calibration Hessians also GPTQ at 3, 4 and 5 bits per row and per group of 64.
     */
    public static List<Setting> defaultCandidates(boolean withGptq) {
        List<Setting> s = new ArrayList<>();
        if (withGptq) {
            for (int bits : new int[] {3, 4, 5}) {
                s.add(new Setting("gptq", new IntFormat(bits, IntFormat.ROW, false, ScaleType.F16)));
                s.add(new Setting("gptq", new IntFormat(bits, 64, false, ScaleType.F16)));
            }
        }
        for (int bits : new int[] {3, 4, 5, 6, 8}) {
            s.add(new Setting("hqq", new IntFormat(bits, IntFormat.ROW, false, ScaleType.F16)));
            s.add(new Setting("hqq", new IntFormat(bits, 64, false, ScaleType.F16)));
        }
        s.add(new Setting("hqq", new IntFormat(4, 32, false, ScaleType.F16)));
        s.add(new Setting("hqq", new IntFormat(5, 32, false, ScaleType.F16)));
        return s;
    }

    /** Hessians of every linear input of the full-precision model on {@code windows}, for gptq settings. */
    public static Setting.Hessians hessians(Checkpoint model, List<int[]> windows) {
        int length = windows.stream().mapToInt(w -> w.length).max().orElseThrow();
        Calibrator c = Calibrator.run(new Transformer(model), new CalibrationSet(windows, length), true, 0);
        return name -> {
            String[] parts = name.split("\\.", 3);
            return c.stats(Integer.parseInt(parts[1]), parts[2]).hessian();
        };
    }

    /** Bytes the searched tensors may take so that they average {@code bitsPerWeight}. */
    public static long budgetForBitsPerWeight(Checkpoint model, List<String> tensors, double bitsPerWeight) {
        long params = tensors.stream().mapToLong(n -> model.tensor(n).elementCount()).sum();
        return (long) Math.floor(bitsPerWeight * params / 8);
    }

    /** Bytes the searched tensors may take so that the whole model's tensors take {@code totalBytes}. */
    public static long budgetForTotalSize(Checkpoint model, List<String> tensors, long totalBytes) {
        long others = model.tensors().values().stream().filter(t -> !tensors.contains(t.name()))
                .mapToLong(Tensor::byteSize).sum();
        if (totalBytes <= others) {
            throw new JQuantException("--target-size " + totalBytes + " is below the " + others
                    + " bytes of the tensors that are not searched");
        }
        return totalBytes - others;
    }

    public static Result search(Checkpoint model, List<String> tensors, List<Setting> candidates,
                                OutputDivergence.Reference reference, Setting.Hessians hessians, long budgetBytes,
                                Sensitivity.Listener listener, Arena arena) {
        long smallest = tensors.stream().mapToLong(n -> candidates.stream()
                .mapToLong(c -> c.bytes(model.tensor(n))).min().orElseThrow()).sum();
        if (smallest > budgetBytes) {
            // refuse before the (long) sensitivity measurement
            throw new JQuantException("the budget of " + budgetBytes + " bytes is below the smallest candidate mix ("
                    + smallest + " bytes)");
        }
        Sensitivity table = Sensitivity.measure(model, tensors, candidates, reference, hessians, listener);
        int[] choice = BudgetAllocator.allocate(table, budgetBytes);
        Map<String, Tensor> quantized = new LinkedHashMap<>();
        List<Recipe.Rule> rules = new ArrayList<>();
        long params = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = model.tensor(tensors.get(i));
            Setting s = candidates.get(choice[i]);
            quantized.put(t.name(), s.apply(t, arena, hessians));
            rules.add(Recipe.Rule.of("^" + t.name().replace(".", "\\.") + "$", s.method(), s.format().name()));
            params += t.elementCount();
        }
        double measured = OutputDivergence.measure(reference, new Transformer(model.withTensors(quantized))).meanKl();
        Recipe recipe = new Recipe(String.format("mixed-%.3fbpw", 8.0 * table.bytes(choice) / params), rules);
        return new Result(recipe, quantized, table, choice, table.bytes(choice), params, table.predictedKl(choice), measured);
    }
}
