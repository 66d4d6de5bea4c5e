package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.format.Formats;
import dev.jquant.io.TextFiles;
import dev.jquant.model.LoraTarget;
import dev.jquant.train.Trainer;
import dev.jquant.train.lora.QLoraFinetune;
import dev.jquant.train.lora.QLoraModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "QLoRA: quantize the model's linear weights (NF4 with double quantization by default), freeze them, "
                + "train LoRA adapters on text or JSONL instruction pairs, and save them as a PEFT adapter directory.")
final class FinetuneCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "GGUF file or Hugging Face directory")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "adapter directory: adapter_config.json, adapter_model.safetensors, loss.csv")
    Path out;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "plain text (documents separated by blank lines) or .jsonl instruction pairs "
                    + "({\"instruction\"|\"prompt\", optional \"input\", \"response\"|\"output\"|\"completion\"})")
    Path data;

    @Option(names = "--base-format", defaultValue = "nf4", paramLabel = "TYPE",
            description = "storage of the frozen base: nf4, int4 (INT4_G64_SYM_F16), q4_k, q8_0, any format name (default: ${DEFAULT-VALUE})")
    String baseFormat;

    @Option(names = "--double-quant", negatable = true,
            description = "NF4 with double-quantized block scales (default: on; --no-double-quant for plain NF4)")
    Boolean doubleQuant;

    @Option(names = "--lora-rank", defaultValue = "8", paramLabel = "R", description = "adapter rank (default: ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--lora-alpha", defaultValue = "16", paramLabel = "A", description = "scale numerator, the product is scaled by A/R (default: ${DEFAULT-VALUE})")
    float alpha;

    @Option(names = "--lora-dropout", defaultValue = "0.05", paramLabel = "P", description = "dropout on the adapters' input (default: ${DEFAULT-VALUE})")
    float dropout;

    @Option(names = "--targets", defaultValue = "q,k,v,o,gate,up,down", paramLabel = "LIST",
            description = "adapted layers: q,k,v,o,gate,up,down or their Hugging Face names (default: ${DEFAULT-VALUE})")
    String targets;

    @Option(names = "--chat-template", arity = "0..1", fallbackValue = "", paramLabel = "FILE",
            description = "format JSONL pairs with the model's chat template (required to exist), or with the Jinja template in FILE; "
                    + "without the option: the model's template if it has one, else Alpaca's layout")
    String chatTemplate;

    @Option(names = "--base-out", paramLabel = "OUT.gguf", description = "also write the quantized base the adapters were trained on")
    Path baseOut;

    @Mixin
    TrainingRunOptions run;

    @Option(names = "--lr", defaultValue = "2e-3", paramLabel = "LR", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    float lr;


    @Override
    public Integer call() {
        run.applyThreads();
        boolean nf4 = baseFormat.equalsIgnoreCase("nf4");
        if (doubleQuant != null && !nf4) {
            throw new JQuantException("--double-quant and --no-double-quant apply to --base-format nf4, not " + baseFormat);
        }
        String formatName = nf4 && (doubleQuant == null || doubleQuant) ? "NF4_DQ"
                : baseFormat.matches("(?i)int[2-8]") ? baseFormat + "_G64_SYM_F16" : baseFormat; // int4: 64 per scale
        QLoraModel.Settings settings = new QLoraModel.Settings(Formats.byName(formatName.toUpperCase(Locale.ROOT)), rank, alpha,
                dropout, LoraTarget.parseList(targets), run.seed);
        String template = null;
        if (chatTemplate != null && !chatTemplate.isEmpty()) {
            template = TextFiles.read(Path.of(chatTemplate));
        }
        Trainer.Options options = run.trainerOptions(lr, 0.999f);
        QLoraFinetune.Job job = new QLoraFinetune.Job(model, data, out, settings, template, baseOut,
                chatTemplate != null && chatTemplate.isEmpty());
        Progress progress = new Progress("step", run.quiet);
        QLoraFinetune.Result r = QLoraFinetune.run(job, options, run.progress(progress));
        progress.done();
        QLoraModel.Memory m = r.memory();
        System.err.printf(Locale.ROOT, "%s: base %s, LoRA rank %d alpha %s on %s; data: %s%n", model.getFileName(),
                settings.baseFormat().name(), rank, alpha, targets, r.dataDescription());
        System.err.printf(Locale.ROOT, "trainable parameters: %,d of %,d (%.2f%%)%n", r.trainableParameters(),
                r.totalParameters(), 100.0 * r.trainableParameters() / r.totalParameters());
        System.err.printf(Locale.ROOT, "memory: base %s quantized + %s frozen F32, adapters %s, gradients %s, Adam moments %s, "
                        + "decode scratch %s = %s; full fine-tuning (F32 weights, gradients, 2 Adam moments): %s (%.1fx)%n",
                kib(m.baseQuantized()), kib(m.frozenF32()), kib(m.adapters()), kib(m.gradients()),
                kib(m.optimizer()), kib(m.scratch()), kib(m.total()), kib(m.fullFineTune()),
                (double) m.fullFineTune() / m.total());
        System.err.printf(Locale.ROOT, "training loss %.4f at step 1 (quantized base), %.4f at step %d; wrote %s%n",
                r.firstLoss(), r.lastLoss(), r.steps(), out);
        return 0;
    }

    private static String kib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f KiB", bytes / 1024.0);
    }
}
