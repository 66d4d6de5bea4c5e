package dev.jquant.train.qat;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.format.Format;
import dev.jquant.format.IntFormat;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.TensorConverter;
import dev.jquant.train.LinearLayer;
import dev.jquant.train.TrainingModel;
import dev.jquant.quantize.TensorPlan;
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
import java.util.ArrayList;
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

    /**
     * Options beyond plain STE weight fake-quantization.
     *
     * @param lsq     learn the step sizes of integer-format matrices ({@link LsqQuantizer})
     * @param actBits fake-quantize the inputs of every linear layer per token to this many bits (0: off)
     */
    public record Extras(boolean lsq, int actBits) {
        public static final Extras NONE = new Extras(false, 0);
    }

    /** @param keep name patterns of tensors left as they are (neither fake-quantized nor quantized) */
    public static Result run(Path model, Path data, Path out, Format format, List<Pattern> keep, boolean distill,
                             Trainer.Options options, Trainer.Listener listener) {
        return run(model, data, out, format, keep, distill, Extras.NONE, options, listener);
    }

    public static Result run(Path model, Path data, Path out, Format format, List<Pattern> keep, boolean distill,
                             Extras extras, Trainer.Options options, Trainer.Listener listener) {
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
            LsqQuantizer lsq = extras.lsq() ? lsq(formats, weights) : null;
            Trainer trainer;
            if (lsq == null && extras.actBits() == 0) {
                trainer = Trainer.start(weights, tokens, options).forwardWith(new FakeQuantizer(formats));
            } else {
                Map<String, Format> others = new HashMap<>(formats);
                if (lsq != null) {
                    others.keySet().removeAll(lsq.formats().keySet());
                }
                FakeQuantizer fake = new FakeQuantizer(others);
                Parameters trainable = lsq == null ? weights : weights.with(lsq.scales());
                trainer = Trainer.start(trainingModel(weights.config(), extras.actBits()), trainable,
                        Trainer.windows(tokens, options), options)
                        .forwardWith(lsq == null ? fake : p -> fake.apply(lsq.apply(p)));
                if (lsq != null) {
                    trainer.gradientsWith(lsq::backward);
                }
            }
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
            QuantizationSummary summary = lsq == null ? write(source, trainer.parameters(), planner, out)
                    : writeLsq(source, trainer.parameters(), planner, lsq, out);
            return new Result(losses[0], losses[1], trainer.step(), summary);
        }
    }

    /** LSQ for every matrix planned into an integer format; an error when there is none. */
    private static LsqQuantizer lsq(Map<String, Format> formats, Parameters weights) {
        Map<String, IntFormat> ints = new HashMap<>();
        formats.forEach((name, f) -> {
            if (f instanceof IntFormat i && weights.contains(name) && weights.shape(name).length == 2) {
                ints.put(name, i);
            }
        });
        if (ints.isEmpty()) {
            throw new JQuantException("--lsq learns the scales of integer formats (--bits/--group or INT<b>_G<g>_..), "
                    + "and no tensor is planned in one");
        }
        return new LsqQuantizer(ints, weights);
    }

    /** The model with every linear layer's input fake-quantized per token, or the plain model when {@code actBits} is 0. */
    private static TrainingModel trainingModel(ModelConfig c, int actBits) {
        Map<String, LinearLayer> layers = new HashMap<>();
        if (actBits > 0) {
            for (int l = 0; l < c.layers(); l++) {
                layers.put(TensorNames.block(l, TensorNames.ATTN_Q), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.ATTN_Q), c.qDim(), c.dim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.ATTN_K), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.ATTN_K), c.kvDim(), c.dim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.ATTN_V), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.ATTN_V), c.kvDim(), c.dim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.ATTN_OUTPUT), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.ATTN_OUTPUT), c.dim(), c.qDim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.FFN_GATE), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.FFN_GATE), c.ffnDim(), c.dim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.FFN_UP), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.FFN_UP), c.ffnDim(), c.dim(), actBits));
                layers.put(TensorNames.block(l, TensorNames.FFN_DOWN), new ActivationQuantizedLinear(TensorNames.block(l, TensorNames.FFN_DOWN), c.dim(), c.ffnDim(), actBits));
            }
        }
        return new TrainingModel(c, layers);
    }

    /** The trained model written directly: LSQ matrices with their learned step sizes, the rest quantized as planned. */
    private static QuantizationSummary writeLsq(Checkpoint source, Parameters trained, RtnPlanner planner, LsqQuantizer lsq,
                                                Path out) {
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> tensors = new ArrayList<>();
            List<QuantizationSummary.TensorResult> results = new ArrayList<>();
            long params = 0;
            long bytes = 0;
            for (TensorPlan plan : planner.plan(source)) {
                Tensor original = source.tensor(plan.name());
                Tensor tuned = trained.contains(plan.name())
                        ? Tensor.ofFloats(plan.name(), trained.get(plan.name()), arena, original.shape()) : original;
                Tensor c = lsq.formats().containsKey(plan.name()) ? lsq.encode(plan.name(), trained, arena)
                        : TensorConverter.convert(tuned, plan.target(), arena);
                tensors.add(c);
                results.add(new QuantizationSummary.TensorResult(plan, original.elementCount(), original.byteSize(),
                        c.byteSize(), Double.NaN));
                params += original.elementCount();
                bytes += c.byteSize();
            }
            GgufQuantizer.write(source, tensors, out);
            return new QuantizationSummary(out, fileSize(out), params, bytes, (System.nanoTime() - t0) / 1e9,
                    MemoryStats.peakRssBytes(), results);
        }
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
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
