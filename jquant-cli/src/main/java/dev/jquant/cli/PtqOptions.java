package dev.jquant.cli;

import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.format.Formats;
import dev.jquant.format.IntFormat;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.ModelWriter;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.feedback.Feedback;
import dev.jquant.quantize.hqq.Hqq;
import dev.jquant.quantize.mixed.MixedPrecision;
import dev.jquant.quantize.mixed.Setting;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.recipe.LayerwiseRecipe;
import dev.jquant.quantize.recipe.Presets;
import dev.jquant.quantize.recipe.Recipe;
import dev.jquant.quantize.recipe.RecipeQuantizer;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.Int8Methods;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;
import picocli.CommandLine.Option;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code quantize}'s options for the calibrated int8 methods, recipes, presets and the
 * mixed-precision search, and what runs them.
 */
final class PtqOptions {
    @Option(names = "--act", defaultValue = "dynamic", paramLabel = "MODE",
            description = "W8A8 activations: dynamic (a scale per token at run time) or static (scales from calibration)")
    String act;

    @Option(names = "--alpha", defaultValue = "0.5", description = "SmoothQuant migration strength 0..1 (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--outlier-threshold", defaultValue = "" + OutlierSplit.DEFAULT_THRESHOLD,
            description = "int8-outlier: input columns whose calibration |x| exceeds this stay 16-bit (default: ${DEFAULT-VALUE})")
    float outlierThreshold;

    @Option(names = "--no-rounding", description = "feedback: refine scales and zero points only, not single codes")
    boolean noRounding;

    @Option(names = "--max-passes", defaultValue = "8", description = "feedback: refinement passes per block at most (default: ${DEFAULT-VALUE})")
    int maxPasses;

    @Option(names = "--recipe", paramLabel = "FILE", description = "YAML or JSON recipe: tensor-name patterns to method/format/bits/group/keep")
    Path recipe;

    @Option(names = "--preset", paramLabel = "NAME", description = "built-in recipe: w8a8-smoothquant, w4a16-gptq-g128, "
            + "w4a16-awq-g128, nf4, hqq-int4-g64, q4_k_m")
    String preset;

    @Option(names = "--target-bpw", paramLabel = "B", description = "mixed precision: average bits per weight of the block weights")
    Double targetBpw;

    @Option(names = "--target-size", paramLabel = "BYTES", description = "mixed precision: total tensor bytes of the output")
    Long targetSize;

    /** The calibration flags quantize shares with the layer-wise methods. */
    record CalibrationSpec(Path calib, int samples, int seqLen, long seed) {
    }

    private CalibrationSpec calibration;

    /** Calibration windows the mixed-precision search measures KL on (each candidate runs the model over them). */
    private static final int SENSITIVITY_WINDOWS = 4;

    /** Methods these options run besides the int8 ones: per-tensor integer formats. */
    static final List<String> INT_METHODS = List.of("hqq", "feedback");
    /** Their format when --format is not given. */
    private static final String DEFAULT_INT_FORMAT = "INT4_G64_ASYM_F16";

    /** The chosen recipe or preset when it has layer-wise (gptq/awq) rules, which the layer-wise pipeline runs; empty otherwise. */
    java.util.Optional<LayerwiseRecipe> layerwiseRecipe() {
        if (recipe != null && preset != null) {
            throw new JQuantException("give --recipe or --preset, not both");
        }
        if (recipe != null) {
            return LayerwiseRecipe.of(Recipe.load(recipe));
        }
        return preset != null && Presets.LAYERWISE.contains(preset) ? LayerwiseRecipe.of(Presets.preset(preset, null))
                : java.util.Optional.empty();
    }

    /** Whether these options, not plain RTN, decide what happens. */
    boolean active(String method) {
        boolean namedHere = method != null && (Int8Methods.NAMES.contains(method) || INT_METHODS.contains(method));
        return namedHere || recipe != null || preset != null || targetBpw != null || targetSize != null;
    }

    void run(Checkpoint c, String method, String format, Path out, CalibrationSpec calibration) {
        this.calibration = calibration;
        long t0 = System.nanoTime();
        String what;
        long bytes;
        if (targetBpw != null || targetSize != null) {
            if (targetBpw != null && targetSize != null) {
                throw new JQuantException("give --target-bpw or --target-size, not both");
            }
            what = "mixed precision";
            bytes = mixed(c, out);
        } else if (recipe != null || preset != null) {
            if (recipe != null && preset != null) {
                throw new JQuantException("give --recipe or --preset, not both");
            }
            Recipe r = recipe != null ? Recipe.load(recipe) : Presets.preset(preset, c.config());
            String whole = RecipeQuantizer.wholeModelMethod(r);
            what = "recipe " + r.name();
            bytes = whole != null ? Int8Methods.run(c, int8(whole), out) : perTensor(c, r, out);
        } else if (INT_METHODS.contains(method)) {
            IntFormat f = intFormat(format == null ? DEFAULT_INT_FORMAT : format);
            what = method + " " + f.name();
            bytes = intMethod(c, method, f, out);
        } else {
            what = method + " with " + act + " activations";
            bytes = Int8Methods.run(c, int8(method), out);
        }
        System.out.printf("wrote %s: %,d bytes, %s, %.1f s, peak memory %,d bytes%n", out, bytes, what,
                (System.nanoTime() - t0) / 1e9, MemoryStats.peakRssBytes());
    }

    private Int8Methods.Options int8(String method) {
        return new Int8Methods.Options(method, ActivationMode.parse(act), alpha, outlierThreshold, calibration.calib(),
                calibration.samples(), calibration.seqLen(), calibration.seed());
    }

    private static IntFormat intFormat(String name) {
        if (!(Formats.byName(name) instanceof IntFormat f) || f.symmetric()) {
            throw new JQuantException("--format: hqq and feedback need an asymmetric integer format such as "
                    + DEFAULT_INT_FORMAT + ", not " + name);
        }
        return f;
    }

    private long intMethod(Checkpoint c, String method, IntFormat f, Path out) {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> q;
            if (method.equals("hqq")) {
                q = Hqq.DEFAULT.quantize(c, f, arena);
            } else {
                List<int[]> windows = CalibrationSet.fromFile(calibration.calib(), c.tokenizer(), calibration.samples(),
                        calibration.seqLen(), calibration.seed()).samples();
                q = new Feedback(f, !noRounding, maxPasses).quantize(c, windows, arena, (layer, passes, before, after) ->
                        System.out.printf("block %d: %d passes, output error %.3e -> %.3e%n", layer, passes, before, after));
            }
            return ModelWriter.write(c, q, out);
        }
    }

    private List<int[]> windows(Checkpoint c) {
        return CalibrationSet.fromFile(calibration.calib(), c.tokenizer(), calibration.samples(),
                Math.min(calibration.seqLen(), c.config().contextLength()), calibration.seed()).samples();
    }

    private long perTensor(Checkpoint c, Recipe r, Path out) {
        try (Arena arena = Arena.ofShared()) {
            Setting.Hessians hessians = RecipeQuantizer.needsHessians(r) ? MixedPrecision.hessians(c, windows(c)) : null;
            return ModelWriter.write(c, RecipeQuantizer.apply(c, r, hessians, arena), out);
        }
    }

    /** Sensitivity search over the block weights, verification, output, and the recipe beside it. */
    private long mixed(Checkpoint c, Path out) {
        List<String> linears = new ArrayList<>();
        for (int l = 0; l < c.config().layers(); l++) {
            for (String s : W8A8.LINEARS) {
                linears.add(TensorNames.block(l, s));
            }
        }
        long budget = targetBpw != null ? MixedPrecision.budgetForBitsPerWeight(c, linears, targetBpw)
                : MixedPrecision.budgetForTotalSize(c, linears, targetSize);
        List<int[]> windows = windows(c);
        // every window feeds the GPTQ Hessians; the KL of each candidate is measured on the first few only
        List<int[]> scored = windows.subList(0, Math.min(SENSITIVITY_WINDOWS, windows.size()));
        OutputDivergence.Reference reference = OutputDivergence.Reference.of(new Transformer(c), scored,
                windows.getFirst().length / 2);
        Setting.Hessians hessians = MixedPrecision.hessians(c, windows);
        Progress progress = new Progress("sensitivity", false);
        try (Arena arena = Arena.ofShared()) {
            MixedPrecision.Result r = MixedPrecision.search(c, linears, MixedPrecision.defaultCandidates(true), reference, hessians, budget,
                    (done, total, tensor, setting, kl) -> progress.update(done, total, tensor + " " + setting.label()), arena);
            progress.done();
            Map<String, Tensor> tensors = r.tensors();
            for (int i = 0; i < linears.size(); i++) {
                System.out.printf("%-28s %-22s KL alone %.5f%n", linears.get(i), r.table().settings().get(r.choice()[i]).label(),
                        r.table().kl()[i][r.choice()[i]]);
            }
            System.out.printf("mix: %.3f bits per weight over the block weights, predicted KL %.5f, measured %.5f%n",
                    r.bitsPerWeight(), r.predictedKl(), r.measuredKl());
            long bytes = ModelWriter.write(c, tensors, out);
            Path recipeFile = out.resolveSibling(out.getFileName() + ".recipe.yaml");
            r.recipe().write(recipeFile);
            System.out.println("recipe: " + recipeFile);
            return bytes;
        }
    }
}
