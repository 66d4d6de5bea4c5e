package dev.jquant.train.lora;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.io.TextFiles;
import dev.jquant.io.peft.PeftAdapterFiles;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.ChatTemplate;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.train.Pretraining;
import dev.jquant.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * QLoRA fine-tuning as {@code jquant finetune} runs it: the model's linear weights quantized to the base
 * format and frozen, LoRA adapters trained on plain text (blank-line separated documents, every token
 * scored) or JSONL instruction pairs ({@link InstructionData}, response tokens scored), then saved as a
 * PEFT adapter directory with the loss curve beside it.
 */
public final class QLoraFinetune {

    /**
     * @param chatTemplate for JSONL data: a Jinja template, or null for the model's own (Alpaca's layout when it has none)
     * @param baseOut      where to write the quantized base as GGUF (null: not written)
     * @param requireModelTemplate for JSONL data without {@code chatTemplate}: fail when the model has no template
     */
    public record Job(Path model, Path data, Path outDir, QLoraModel.Settings settings, String chatTemplate, Path baseOut,
                      boolean requireModelTemplate) {
    }

    /** What a run did. {@code firstLoss} is the quantized base's own (B starts at zero). */
    public record Result(double firstLoss, double lastLoss, int steps, long trainableParameters, long totalParameters,
                         QLoraModel.Memory memory, String dataDescription) {
    }

    private QLoraFinetune() {
    }

    public static Result run(Job job, Trainer.Options options, Trainer.Listener listener) {
        QLoraModel q;
        Trainer.BatchSource batches;
        String[] description = new String[1];
        // the source is closed before training: what stays is the quantized base, the frozen F32 tensors and the adapters
        try (Checkpoint source = JQuant.load(job.model())) {
            Tokenizer tokenizer = source.tokenizer();
            if (tokenizer == null) {
                throw new JQuantException(job.model() + ": the model has no tokenizer to read the training data with");
            }
            if (job.baseOut() != null && !source.sourceFormat().equals("gguf")) {
                throw new JQuantException(job.model() + ": --base-out writes GGUF, which needs a GGUF model (this is "
                        + source.sourceFormat() + ")");
            }
            batches = batches(job, source, tokenizer, options, description);
            q = QLoraModel.build(source, job.settings());
            if (job.baseOut() != null) {
                writeBase(source, q, job.baseOut());
            }
        }
        try (q) {
            Trainer trainer = Trainer.start(q.model(), q.adapters(), batches, options).forwardWith(a -> q.weights());
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
            String baseName = job.model().toAbsolutePath().getFileName().toString();
            PeftAdapterFiles.write(q.adapter(), q.config(), job.outDir(), baseName);
            trainer.saveLossCurve(job.outDir().resolve("loss.csv"));
            return new Result(losses[0], losses[1], trainer.step(), q.adapters().count(), q.totalParameters(), q.memory(),
                    description[0]);
        }
    }

    private static Trainer.BatchSource batches(Job job, Checkpoint source, Tokenizer tokenizer, Trainer.Options options,
                                               String[] description) {
        if (!job.data().getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl")) {
            int[] tokens = Pretraining.encodeDocuments(tokenizer, TextFiles.read(job.data()));
            description[0] = String.format(Locale.ROOT, "%,d tokens of text", tokens.length);
            return Trainer.windows(tokens, options);
        }
        ChatTemplate template = template(job, source, tokenizer);
        List<InstructionData.Example> examples = new ArrayList<>();
        for (InstructionData.Pair p : InstructionData.read(job.data())) {
            examples.add(InstructionData.format(p, tokenizer, template));
        }
        description[0] = String.format(Locale.ROOT, "%d of %d instruction pairs (%s)", InstructionData.usable(examples, options.seq()),
                examples.size(), template == null ? "Alpaca layout" : "chat template");
        return InstructionData.batches(examples, options, tokenizer.eos());
    }

    private static ChatTemplate template(Job job, Checkpoint source, Tokenizer tokenizer) {
        String text = job.chatTemplate() != null ? job.chatTemplate() : source.chatTemplate();
        if (text == null) {
            if (job.requireModelTemplate()) {
                throw new JQuantException(job.model() + ": the model has no chat template; give one with --chat-template FILE");
            }
            return null;
        }
        return new ChatTemplate(text, tokenizer.bos() >= 0 ? tokenizer.piece(tokenizer.bos()) : "",
                tokenizer.eos() >= 0 ? tokenizer.piece(tokenizer.eos()) : "");
    }

    /** The base the adapters were trained on: quantized linear weights, everything else as the source stores it. */
    private static void writeBase(Checkpoint source, QLoraModel q, Path out) {
        List<Tensor> tensors = new ArrayList<>();
        for (Tensor t : source.tensors().values()) {
            tensors.add(q.base().getOrDefault(t.name(), t));
        }
        GgufQuantizer.write(source, tensors, out);
    }
}
