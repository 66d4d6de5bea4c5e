package dev.jquant.cli;

import dev.jquant.generate.GenerationOptions;
import dev.jquant.generate.GenerationResult;
import dev.jquant.generate.Generator;
import dev.jquant.generate.SamplingParams;
import dev.jquant.model.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt. --temperature 0 is greedy; text streams to stdout, statistics to stderr.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    EngineOptions engine;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, defaultValue = "", description = "prompt text (default: empty, start from BOS)")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop when this text appears (repeatable)")
    List<String> stop = List.of();

    @Option(names = "--no-bos", description = "do not prepend the BOS token")
    boolean noBos;

    @Option(names = "--echo", description = "print the prompt before the continuation")
    boolean echo;

    @Override
    public Integer call() {
        if (maxTokens < 1) {
            throw new dev.jquant.JQuantException("--max-tokens must be at least 1, got " + maxTokens);
        }
        SamplingParams params = sampling.params();
        try (Checkpoint checkpoint = modelOptions.load()) {
            Generator generator = new Generator(engine.transformer(checkpoint), checkpoint.tokenizer());
            PrintStream out = System.out;
            if (echo) {
                out.print(prompt);
            }
            GenerationResult r = generator.generate(prompt, new GenerationOptions(maxTokens, params, stop, !noBos), text -> {
                out.print(text);
                out.flush();
            });
            out.println();
            System.err.printf("[%d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, stop: %s]%n",
                    r.promptTokens(), r.prefillTokensPerSecond(), r.generatedTokens(), r.decodeTokensPerSecond(),
                    r.stopReason());
        }
        return 0;
    }
}
