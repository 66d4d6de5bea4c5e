package dev.jquant.train.qat;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.quantize.RtnPlanner;
import dev.jquant.quantize.TensorPlan;
import dev.jquant.tensor.Tensor;
import dev.jquant.train.Parameters;
import dev.jquant.train.Pretraining;
import dev.jquant.train.Trainer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Quantization-aware training of a GGUF model, as {@code jquant qat} runs it: every matrix is planned
 * into the target format as round-to-nearest quantization would store it (with llama.cpp's block
 * fallbacks), the model is fine-tuned on text with those matrices fake-quantized in the forward pass
 * (straight-through estimator), optionally towards the original model's output distribution
 * (distillation), and the result is written as a real quantized GGUF that keeps the input's metadata.
 */
public final class QuantizationAwareTraining {

    /** What a run did: the first and last step's loss (the first is the round-to-nearest model's). */
    public record Result(double firstLoss, double lastLoss, int steps, QuantizationSummary written) {
    }

    private QuantizationAwareTraining() {
    }

    /** @param keep name patterns of tensors left as they are (neither fake-quantized nor quantized) */
    public static Result run(Path model, Path data, Path out, Format format, List<Pattern> keep, boolean distill,
                             Trainer.Options options, Trainer.Listener listener) {
        String text = readText(data);
        try (Checkpoint source = JQuant.load(model)) {
            if (!source.sourceFormat().equals("gguf")) {
                throw new JQuantException(model + ": qat reads GGUF models (this is " + source.sourceFormat() + ")");
            }
            if (source.tokenizer() == null) {
                throw new JQuantException(model + ": the model has no tokenizer to read the training text with");
            }
            RtnPlanner planner = new RtnPlanner(format, null, null, keep);
            Map<String, Format> formats = new HashMap<>();
            for (TensorPlan plan : planner.plan(source)) {
                formats.put(plan.name(), plan.target());
            }
            Parameters weights = Parameters.fromCheckpoint(source);
            int[] tokens = Pretraining.encodeDocuments(source.tokenizer(), text);
            Trainer trainer = Trainer.start(weights, tokens, options).forwardWith(new FakeQuantizer(formats));
            if (distill) {
                trainer.distillFrom(weights.copy());
            }
            double[] losses = {Double.NaN, Double.NaN};
            trainer.run(options.steps(), s -> {
                if (s.step() == 1) {
                    losses[0] = s.loss();
                }
                losses[1] = s.loss();
                if (listener != null) {
                    listener.onStep(s);
                }
            }, null);
            QuantizationSummary summary = write(source, trainer.parameters(), planner, out);
            return new Result(losses[0], losses[1], trainer.step(), summary);
        }
    }

    /** The trained weights in F32 beside the source's other tensors and metadata, then quantized as planned. */
    private static QuantizationSummary write(Checkpoint source, Parameters trained, RtnPlanner planner, Path out) {
        Path f32 = out.resolveSibling(out.getFileName() + ".f32-" + ProcessHandle.current().pid() + ".gguf");
        try (Arena arena = Arena.ofConfined(); GgufFile metadata = GgufFile.open(source.source())) {
            GgufWriter w = new GgufWriter().putAll(metadata);
            for (Tensor t : source.tensors().values()) {
                w.addTensor(trained.names().contains(t.name())
                        ? Tensor.ofFloats(t.name(), trained.get(t.name()), arena, t.shape()) : t);
            }
            w.write(f32);
            try (Checkpoint tuned = JQuant.load(f32)) {
                return GgufQuantizer.quantize(tuned, planner.plan(tuned), out, null);
            }
        } finally {
            try {
                Files.deleteIfExists(f32);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless
            }
        }
    }

    private static String readText(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read: " + e.getMessage());
        }
    }
}
