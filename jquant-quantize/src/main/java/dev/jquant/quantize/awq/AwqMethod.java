package dev.jquant.quantize.awq;

import dev.jquant.model.TensorNames;
import dev.jquant.quantize.BlockJob;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.MethodParams;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.quantize.calibrate.ChannelStats;
import dev.jquant.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.jquant.model.TensorNames.*;

/**
 * AWQ for a Llama block: activation-aware scales searched for q/k/v (folded into attn_norm),
 * gate/up (folded into ffn_norm), down (folded into up's rows) and o (folded into v's rows, only
 * when every attention head has its own v head, i.e. no grouped-query sharing); then a clipping
 * search for every linear but q and k (as llm-awq), then round to nearest. Parameters:
 * {@code grid} (20 values of α), {@code clip} (true), {@code clip-grid} (20), {@code max-shrink} (0.5),
 * {@code tokens} (input rows sampled per layer, 256).
 */
public final class AwqMethod implements QuantMethod {
    private final int grid;
    private final boolean clip;
    private final int clipGrid;
    private final double maxShrink;
    private final int tokens;

    public AwqMethod(MethodParams p) {
        this.grid = (int) p.number("grid", 20);
        this.clip = !p.values().getOrDefault("clip", "true").equals("false");
        this.clipGrid = (int) p.number("clip-grid", 20);
        this.maxShrink = p.number("max-shrink", 0.5);
        this.tokens = (int) p.number("tokens", 256);
    }

    @Override
    public String name() {
        return "awq";
    }

    @Override
    public CalibrationNeeds needs() {
        return new CalibrationNeeds(true, false, tokens);
    }

    @Override
    public Map<String, Tensor> quantizeBlock(BlockJob job) {
        applied.clear();
        Map<String, float[]> w = new LinkedHashMap<>();
        for (String s : GridPlan.LINEARS) {
            w.put(s, job.weights(s));
        }
        float[] attnNorm = job.tensor(ATTN_NORM).toFloats();
        float[] ffnNorm = job.tensor(FFN_NORM).toFloats();
        var cfg = job.config();

        float[] s = scales(job, w, List.of(ATTN_Q, ATTN_K, ATTN_V));
        applyToInputs(job, w, List.of(ATTN_Q, ATTN_K, ATTN_V), s);
        divide(attnNorm, s);
        if (cfg.heads() == cfg.kvHeads()) {
            s = scales(job, w, List.of(ATTN_OUTPUT));
            applyToInputs(job, w, List.of(ATTN_OUTPUT), s);
            divideRows(w.get(ATTN_V), cfg.kvDim(), cfg.dim(), s);
        }
        s = scales(job, w, List.of(FFN_GATE, FFN_UP));
        applyToInputs(job, w, List.of(FFN_GATE, FFN_UP), s);
        divide(ffnNorm, s);
        s = scales(job, w, List.of(FFN_DOWN));
        applyToInputs(job, w, List.of(FFN_DOWN), s);
        divideRows(w.get(FFN_UP), cfg.ffnDim(), cfg.dim(), s);

        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String suffix : GridPlan.LINEARS) {
            float[] values = w.get(suffix);
            ChannelStats st = job.stats(suffix);
            boolean clipIt = clip && job.quantized(suffix) && st != null && st.keptRows() > 0
                    && !suffix.equals(ATTN_Q) && !suffix.equals(ATTN_K);
            if (clipIt) {
                Tensor t = job.tensor(suffix);
                float[] x = inputsAfterScaling(job, suffix, st);
                values = Awq.clip(new Awq.Linear(values, t.rows(), t.cols(), job.grid(suffix)), x, st.keptRows(),
                        clipGrid, maxShrink);
            }
            // a kept layer still carries the scales folded into its neighbours: store its values in F32
            out.put(job.name(suffix), job.grid(suffix) == null
                    ? Tensor.ofFloats(job.name(suffix), values, job.arena(), job.tensor(suffix).shape())
                    : job.roundToNearest(suffix, values));
        }
        out.put(job.name(ATTN_NORM), Tensor.ofFloats(job.name(ATTN_NORM), attnNorm, job.arena(), attnNorm.length));
        out.put(job.name(FFN_NORM), Tensor.ofFloats(job.name(FFN_NORM), ffnNorm, job.arena(), ffnNorm.length));
        return out;
    }

    /** Per-channel input scales applied so far, by input owner, so clipping sees the activations the layer will get. */
    private final Map<String, float[]> applied = new java.util.HashMap<>();

    private float[] scales(BlockJob job, Map<String, float[]> w, List<String> group) {
        ChannelStats st = job.stats(group.getFirst());
        boolean any = group.stream().anyMatch(job::quantized);
        if (st == null || st.keptRows() == 0 || !any) {
            return Awq.ones(st == null ? job.tensor(group.getFirst()).cols() : st.channels());
        }
        Awq.Linear[] linears = group.stream().filter(job::quantized).map(sfx -> {
            Tensor t = job.tensor(sfx);
            return new Awq.Linear(w.get(sfx), t.rows(), t.cols(), job.grid(sfx));
        }).toArray(Awq.Linear[]::new);
        return Awq.searchScales(linears, st.meanAbs(), st.keptInputs(), st.keptRows(), grid);
    }

    private void applyToInputs(BlockJob job, Map<String, float[]> w, List<String> group, float[] s) {
        for (String sfx : group) {
            Tensor t = job.tensor(sfx);
            w.put(sfx, Awq.scaleColumns(w.get(sfx), t.rows(), t.cols(), s, false));
        }
        applied.put(job.name(group.getFirst()), s);
    }

    private float[] inputsAfterScaling(BlockJob job, String suffix, ChannelStats st) {
        float[] s = applied.get(job.name(dev.jquant.quantize.calibrate.Calibrator.inputOwner(suffix)));
        float[] x = st.keptInputs();
        if (s == null) {
            return x;
        }
        return Awq.scaleColumns(x, st.keptRows(), st.channels(), s, true);
    }

    private static void divide(float[] norm, float[] s) {
        for (int i = 0; i < norm.length; i++) {
            norm[i] /= s[i];
        }
    }

    /** Row r of the producing layer divided by s[r]: its output channel r shrinks as the consumer's input column grows. */
    private static void divideRows(float[] w, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] /= s[r];
            }
        }
    }
}
