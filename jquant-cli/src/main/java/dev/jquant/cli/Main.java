package dev.jquant.cli;

import dev.jquant.JQuantException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jquant} command line. Each subcommand is a thin shell over the public Java API. */
@Command(name = "jquant", mixinStandardHelpOptions = true, version = "jquant 0.1.0",
        description = "Quantize, measure, run and serve large language models, in pure Java.",
        subcommands = {GenerateCommand.class, ChatCommand.class, TokenizeCommand.class, PerplexityCommand.class,
                InspectCommand.class, BenchCommand.class, EvalCommand.class, QuantizeCommand.class, SynthCommand.class,
                CompareCommand.class, DemoCommand.class, TaskCommand.class,
                GenCorpusCommand.class, TrainTokenizerCommand.class, TrainCommand.class, QatCommand.class,
                FinetuneCommand.class, MergeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code; user mistakes print one line, not a stack trace. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof JQuantException) {
                commandLine.getErr().println("jquant: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cli.execute(args);
    }
}
