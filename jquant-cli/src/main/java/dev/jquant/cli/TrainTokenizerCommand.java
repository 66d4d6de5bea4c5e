package dev.jquant.cli;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.train.tokenizer.BpeTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
        description = "Train a SentencePiece-style byte-fallback BPE vocabulary on a text file.")
final class TrainTokenizerCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training text (UTF-8)")
    Path data;

    @Option(names = "--vocab-size", required = true, paramLabel = "N",
            description = "vocabulary size, including <unk>, <s>, </s> and the 256 byte tokens")
    int vocabSize;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "tok.gguf (vocabulary-only GGUF) or tokenizer.json (Hugging Face)")
    Path out;

    @Override
    public Integer call() {
        BpeTrainer.Vocabulary vocab = BpeTrainer.train(TextFiles.read(data), vocabSize);
        String name = out.getFileName().toString();
        if (name.endsWith(".gguf")) {
            vocab.writeGguf(out);
        } else if (name.endsWith(".json")) {
            vocab.writeTokenizerJson(out);
        } else {
            throw new JQuantException(out + ": write the tokenizer as .gguf or tokenizer .json");
        }
        System.err.printf("wrote a vocabulary of %d tokens to %s%n", vocab.size(), out);
        return 0;
    }
}
