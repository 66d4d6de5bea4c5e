package dev.jquant.train.lora;

import dev.jquant.JQuant;
import dev.jquant.format.Format;
import dev.jquant.io.peft.PeftAdapterFiles;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.LoraAdapter;
import dev.jquant.quantize.BlockFallback;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges a PEFT LoRA adapter into a GGUF model's weights, {@code W' = W + (alpha/r) B A} computed in F32
 * from the decoded weight, and writes the model (atomically) re-quantized: every adapted matrix back in
 * the format it was stored in, or with a format given, the whole model planned as {@code jquant quantize}
 * plans it (round to nearest, llama.cpp's block fallbacks).
 */
public final class LoraMerge {
    private LoraMerge() {
    }

    /** @param format null: each tensor keeps its stored format */
    public static QuantizationSummary merge(Path model, Path loraDir, Path out, Format format) {
        try (Checkpoint source = JQuant.load(model); Arena arena = Arena.ofShared()) {
            LoraAdapter adapter = PeftAdapterFiles.read(loraDir, source.config());
            Map<String, Tensor> merged = new LinkedHashMap<>();
            for (String name : adapter.factors().keySet()) {
                Tensor original = source.tensor(name);
                float[] w = original.toFloats();
                float[] delta = adapter.delta(name);
                for (int i = 0; i < w.length; i++) {
                    w[i] += delta[i];
                }
                merged.put(name, Tensor.ofFloats(name, w, arena, original.shape()));
            }
            Checkpoint view = source.withTensors(merged);
            List<TensorPlan> plans;
            if (format != null) {
                plans = new RtnPlanner(format, null, null, List.of()).plan(view);
            } else {
                plans = new ArrayList<>();
                for (Tensor t : source.tensors().values()) {
                    plans.add(new TensorPlan(t.name(), BlockFallback.forColumns(t.format(), t.cols()),
                            merged.containsKey(t.name()) ? "merged, stored format" : "unchanged"));
                }
            }
            return GgufQuantizer.quantize(view, plans, out, null);
        }
    }
}
