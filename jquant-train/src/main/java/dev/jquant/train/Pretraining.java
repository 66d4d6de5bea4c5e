package dev.jquant.train;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.model.ModelConfig;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;
import dev.jquant.train.tokenizer.BpeTrainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pretraining a Llama model from scratch on a text file, as {@code jquant train} runs it: the
 * vocabulary from a tokenizer file (or trained on the data), documents (blank-line separated) framed
 * as BOS text EOS, the {@link Trainer} with checkpoints and a loss curve, and the final GGUF model.
 */
public final class Pretraining {

    /**
     * @param checkpoint where training state is saved (and resumed from)
     * @param lossCsv    the loss curve, one row per step
     * @param format     storage of the output model's matrices (F32, F16, ...)
     */
    public record Locations(Path data, Path out, Path checkpoint, Path lossCsv, Format format) {
    }

    /** What a run produced. */
    public record Result(ModelConfig config, long parameters, int trainingTokens, int steps, double finalLoss,
                         Path tokenizer) {
    }

    private Pretraining() {
    }

    /** Trains (or, with {@code resume}, continues training) and writes the model to {@code files.out()}. */
    public static Result run(TrainConfig cfg, Locations files, boolean resume, Trainer.Listener listener) {
        String text = TextFiles.read(files.data());
        Path tokenizerFile = cfg.tokenizer();
        if (resume) {
            if (!Files.exists(files.checkpoint())) {
                throw new JQuantException(files.checkpoint() + ": no checkpoint to resume from");
            }
            tokenizerFile = files.checkpoint();
        } else if (tokenizerFile == null) {
            tokenizerFile = files.out().resolveSibling(files.out().getFileName() + ".tokenizer.gguf");
            BpeTrainer.train(text, cfg.vocabSize()).writeGguf(tokenizerFile);
        }
        try (GgufFile vocab = GgufFile.open(tokenizerFile)) {
            Tokenizer tokenizer = Tokenizers.fromGguf(vocab);
            int[] tokens = encodeDocuments(tokenizer, text);
            ModelConfig model = cfg.model(tokenizer.vocabSize());
            Trainer trainer = resume
                    ? Trainer.resume(files.checkpoint(), files.lossCsv(), tokens, cfg.options())
                    : Trainer.start(Parameters.initialize(model, cfg.seed()), tokens, cfg.options());
            if (!trainer.parameters().config().equals(model)) {
                throw new JQuantException(files.checkpoint() + ": the checkpoint's model " + trainer.parameters().config()
                        + " is not the config's " + model);
            }
            String name = files.out().getFileName().toString().replaceFirst("\\.gguf$", "");
            double[] last = {Double.NaN};
            trainer.run(cfg.steps(), stats -> {
                last[0] = stats.loss();
                if (listener != null) {
                    listener.onStep(stats);
                }
            }, () -> {
                trainer.saveCheckpoint(files.checkpoint(), vocab, name);
                trainer.saveLossCurve(files.lossCsv());
            });
            ModelFiles.writeGguf(trainer.parameters(), vocab, name, files.format(), files.out());
            return new Result(model, trainer.parameters().count(), tokens.length, trainer.step(), last[0], tokenizerFile);
        }
    }

    /** Every blank-line separated document of {@code text} as BOS, its tokens, EOS, one after another. */
    public static int[] encodeDocuments(Tokenizer tokenizer, String text) {
        List<int[]> docs = new ArrayList<>();
        long total = 0;
        for (String doc : text.split("\n\\s*\n")) {
            String trimmed = doc.strip();
            if (!trimmed.isEmpty()) {
                int[] ids = tokenizer.encode(trimmed, true, true, false);
                docs.add(ids);
                total += ids.length;
            }
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new JQuantException("the training text has more than 2^31 tokens");
        }
        int[] all = new int[(int) total];
        int at = 0;
        for (int[] d : docs) {
            System.arraycopy(d, 0, all, at, d.length);
            at += d.length;
        }
        return all;
    }

}
