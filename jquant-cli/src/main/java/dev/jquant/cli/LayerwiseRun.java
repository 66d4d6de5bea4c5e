package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.LayerwiseQuantizer;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.quantize.QuantMethods;
import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.recipe.LayerwiseRecipe;
import dev.jquant.quantize.rtn.UniformGrid;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/** {@code jquant quantize --method ...}: the layer-wise pipeline, its progress and its summary. */
final class LayerwiseRun {
    private final QuantizeCommand o;

    LayerwiseRun(QuantizeCommand options) {
        this.o = options;
    }

    int call() {
        if ((o.format == null) == (o.bits == null)) {
            throw new JQuantException("--method needs exactly one of --format TYPE or --bits B");
        }
        if (o.symmetric && o.asymmetric) {
            throw new JQuantException("--sym and --asym exclude each other");
        }
        QuantMethod method = QuantMethods.create(o.method, new MethodParams(methodParams()));
        return run(c -> o.bits != null
                ? GridPlan.blockLinears(c, new UniformGrid(o.bits, o.group, o.symmetric, RangeObserver.parse(o.observer)), keep())
                : GridPlan.format(c, QuantizeCommand.parse(o.format, "--format"), keep()), plan -> method);
    }

    /** A recipe or preset with layer-wise rules: each tensor on its rule's grid, gptq/awq where the rules say. */
    int call(LayerwiseRecipe recipe) {
        if (o.method != null || o.bits != null || o.format != null) {
            throw new JQuantException("this recipe sets the method and grid of every tensor; leave out --method, --bits and --format");
        }
        MethodParams params = new MethodParams(methodParams());
        return run(c -> recipe.plan(c, keep()), plan -> recipe.quantMethod(plan, params));
    }

    private List<Pattern> keep() {
        return o.keep.stream().map(QuantizeCommand::pattern).toList();
    }

    private int run(Function<Checkpoint, GridPlan> planFor, Function<GridPlan, QuantMethod> methodFor) {
        try (Checkpoint c = o.modelOptions.load(); Arena arena = Arena.ofShared()) {
            if (c.source().toAbsolutePath().normalize().equals(o.out.toAbsolutePath().normalize())) {
                throw new JQuantException(o.out + ": the output would overwrite the input");
            }
            GridPlan plan = planFor.apply(c);
            QuantMethod method = methodFor.apply(plan);
            CalibrationSet calibration = calibration(c, method);
            Progress progress = new Progress("quantize block", o.quiet);
            LayerwiseQuantizer.Result r = LayerwiseQuantizer.run(c, plan, method, calibration, arena,
                    (done, total, seconds) -> progress.update(done, total, method.name()));
            progress.done();
            GgufQuantizer.write(c, r.tensors(), o.out);
            print(c, r);
        }
        return 0;
    }

    private Map<String, String> methodParams() {
        Map<String, String> p = new LinkedHashMap<>(o.params);
        if (o.actOrder) {
            p.put("act-order", "true");
        }
        if (o.staticGroups) {
            p.put("static-groups", "true");
        }
        if (o.damp != null) {
            p.put("damp", o.damp.toString());
        }
        return p;
    }

    private CalibrationSet calibration(Checkpoint c, QuantMethod method) {
        if (o.calib == null) {
            if (method.needs().activations()) {
                throw new JQuantException("--method " + method.name() + " needs calibration text: give --calib FILE");
            }
            return null;
        }
        int length = Math.min(o.calibSeqlen, c.config().contextLength());
        return CalibrationSet.fromFile(o.calib, c.tokenizer(), o.calibSamples, length, o.seed);
    }

    private void print(Checkpoint c, LayerwiseQuantizer.Result r) {
        if (!o.quiet) {
            System.out.printf("%-32s %-22s %10s %10s%n", "tensor", "grid", "weight err", "output err");
            for (LayerwiseQuantizer.TensorError e : r.errors()) {
                System.out.printf("%-32s %-22s %10.5f %10s%n", e.name(), e.grid(), e.weightError(),
                        Double.isNaN(e.outputError()) ? "-" : String.format("%.5f", e.outputError()));
            }
        }
        long params = 0;
        long bytes = 0;
        for (Tensor t : r.tensors()) {
            params += t.elementCount();
            bytes += t.byteSize();
        }
        System.out.printf("wrote %s: %,d bytes, %,d parameters, %.3f bits per weight, %.1f s, peak memory %,d bytes "
                        + "(private %,d bytes; the source is mapped, %,d bytes)%n",
                o.out, size(), params, 8.0 * bytes / params, r.seconds(), MemoryStats.peakRssBytes(),
                r.peakPrivateBytes(), c.tensorBytes());
    }

    private long size() {
        try {
            return Files.size(o.out);
        } catch (IOException e) {
            return -1;
        }
    }
}
