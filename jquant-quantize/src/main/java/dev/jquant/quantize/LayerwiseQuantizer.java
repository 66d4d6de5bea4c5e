package dev.jquant.quantize;

import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.calibrate.CalibrationSet;
import dev.jquant.quantize.calibrate.Calibrator;
import dev.jquant.quantize.calibrate.ChannelStats;
import dev.jquant.quantize.rtn.Rtn;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layer-wise sequential pipeline: block i is calibrated on the hidden states that the already
 * quantized blocks 0..i-1 produce, quantized by the method, and then run (quantized) to produce the
 * inputs of block i+1. Only one block's statistics and the calibration hidden states live at a
 * time; the source weights stay mmapped and are decoded one matrix at a time. Tensors outside the
 * blocks (embeddings, output) are rounded to nearest on their planned grid.
 */
public final class LayerwiseQuantizer {

    /** Progress after each block: blocks done, total, seconds elapsed. */
    @FunctionalInterface
    public interface Listener {
        void blockDone(int done, int total, double seconds);
    }

    /**
     * What came out: every tensor of the model in source order, per-tensor errors, and the largest
     * private (anonymous) resident memory seen between blocks, which excludes the mapped source.
     */
    public record Result(List<Tensor> tensors, List<TensorError> errors, double seconds, long peakPrivateBytes) {
    }

    /**
     * @param weightError ‖W − Ŵ‖ / ‖W‖
     * @param outputError ‖(W − Ŵ)X‖ / ‖WX‖ on the block's sampled calibration inputs (NaN without calibration)
     */
    public record TensorError(String name, String grid, double weightError, double outputError) {
    }

    private LayerwiseQuantizer() {
    }

    /** Rows of calibration input kept per layer for measuring output error. */
    private static final int ERROR_ROWS = 128;

    public static Result run(Checkpoint source, GridPlan plan, QuantMethod method, CalibrationSet calibration,
                             Arena arena, Listener listener) {
        QuantMethod.CalibrationNeeds needs = method.needs();
        if (needs.activations() && calibration == null) {
            throw new JQuantException("method " + method.name() + " needs calibration text: give --calib FILE");
        }
        long t0 = System.nanoTime();
        long[] peak = {MemoryStats.privateRssBytes()};
        var cfg = source.config();
        Transformer original = new Transformer(source);
        List<float[]> hidden = new ArrayList<>();
        int seqLen = calibration == null ? 0 : calibration.sequenceLength();
        Session embedder = calibration == null ? null : original.newSession(seqLen);
        if (calibration != null) {
            for (int[] sample : calibration.samples()) {
                hidden.add(embedder.embed(sample));
            }
        }
        Map<String, Tensor> produced = new LinkedHashMap<>();
        List<TensorError> errors = new ArrayList<>();
        for (int layer = 0; layer < cfg.layers(); layer++) {
            Calibrator stats = null;
            if (calibration != null) {
                stats = new Calibrator(cfg, needs.hessian(), Math.max(needs.keepRows(), ERROR_ROWS));
                Session s = original.newSession(seqLen);
                s.observeLinearInputs(stats);
                for (float[] h : hidden) {
                    s.forwardBlock(layer, h.clone(), seqLen);
                }
            }
            BlockJob job = new BlockJob(layer, source, plan, stats, arena);
            Map<String, Tensor> block = method.quantizeBlock(job);
            for (var e : block.entrySet()) {
                errors.add(error(source.tensor(e.getKey()), e.getValue(), plan,
                        stats == null ? null : stats.stats(layer, GridPlan.suffix(e.getKey()))));
            }
            produced.putAll(block);
            if (calibration != null) {
                Session quantized = new Transformer(source.withTensors(block)).newSession(seqLen);
                for (float[] h : hidden) {
                    quantized.forwardBlock(layer, h, seqLen);
                }
            }
            // The source block is read no more: its mapped pages need not stay resident.
            block.keySet().forEach(name -> source.tensor(name).evictFromMemory());
            peak[0] = Math.max(peak[0], MemoryStats.privateRssBytes());
            if (listener != null) {
                listener.blockDone(layer + 1, cfg.layers(), (System.nanoTime() - t0) / 1e9);
            }
        }
        List<Tensor> tensors = new ArrayList<>();
        for (Tensor t : source.tensors().values()) {
            Tensor out = produced.get(t.name());
            if (out == null) {
                GridPlan.Entry entry = plan.entry(t.name());
                out = entry.grid() == null ? t : Rtn.quantize(t.name(), t.toFloats(), t.rows(), t.cols(), entry.grid(), arena);
                if (out != t) {
                    errors.add(error(t, out, plan, null));
                }
            }
            tensors.add(out);
        }
        peak[0] = Math.max(peak[0], MemoryStats.privateRssBytes());
        return new Result(tensors, errors, (System.nanoTime() - t0) / 1e9, peak[0]);
    }

    private static TensorError error(Tensor original, Tensor quantized, GridPlan plan, ChannelStats stats) {
        WeightGrid g = plan.entry(original.name()).grid();
        String grid = g == null ? quantized.format().name() : g.describe();
        double out = Double.NaN;
        if (stats != null && stats.keptRows() > 0 && original.rank() == 2) {
            out = OutputError.relative(original, quantized, stats.keptInputs(), stats.keptRows());
        }
        return new TensorError(original.name(), grid, WeightError.relativeRms(original, quantized), out);
    }
}
