package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.io.AtomicFile;
import dev.jquant.train.corpus.StoryGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "gen-corpus", mixinStandardHelpOptions = true,
        description = "Write simple generated children's stories (blank-line separated), the same for the same seed.")
final class GenCorpusCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "text file to write")
    Path out;

    @Option(names = "--stories", required = true, paramLabel = "N", description = "number of stories")
    int stories;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        if (stories < 1) {
            throw new JQuantException("--stories must be at least 1, got " + stories);
        }
        String text = StoryGenerator.corpus(stories, seed);
        AtomicFile.writeString(out, text);
        System.err.printf("wrote %d stories, %d characters to %s%n", stories, text.length(), out);
        return 0;
    }
}
