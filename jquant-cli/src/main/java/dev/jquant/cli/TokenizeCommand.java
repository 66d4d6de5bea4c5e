package dev.jquant.cli;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    static final class Input {
        @Option(names = "--text", required = true, description = "text to tokenize")
        String text;

        @Option(names = "--file", required = true, description = "file whose contents to tokenize (UTF-8)")
        Path file;
    }

    @ArgGroup(multiplicity = "1")
    Input input;

    @Option(names = "--no-bos", description = "do not prepend BOS")
    boolean noBos;

    @Option(names = "--parse-special", description = "turn special tokens written in the text into their ids")
    boolean parseSpecial;

    @Option(names = "--pieces", description = "print one 'id<TAB>piece' line per token instead of a line of ids")
    boolean pieces;

    @Option(names = "--json", description = "print {\"tokens\": [...], \"count\": N}")
    boolean json;

    @Override
    public Integer call() {
        String text = input.text != null ? input.text : TextFiles.read(input.file);
        try (Checkpoint checkpoint = modelOptions.load()) {
            Tokenizer tokenizer = checkpoint.tokenizer();
            if (tokenizer == null) {
                throw new JQuantException(modelOptions.model + ": the model has no tokenizer; pass one with --tokenizer");
            }
            int[] ids = tokenizer.encode(text, !noBos && tokenizer.addBosByDefault(), parseSpecial);
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("tokens", ids);
                out.put("count", ids.length);
                System.out.println(Json.write(out));
            } else if (pieces) {
                for (int id : ids) {
                    System.out.println(id + "\t" + tokenizer.piece(id));
                }
            } else {
                System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            }
        }
        return 0;
    }

}
