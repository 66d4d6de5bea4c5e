package dev.jquant.cli;

import dev.jquant.generate.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling flags shared by generate and chat. */
final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0.8", description = "0 is greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "0 disables (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "1 disables (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "0 disables (default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "1 disables (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "tokens the penalty looks back (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, description = "random seed (default: time based)")
    Long seed;

    SamplingParams params() {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                seed != null ? seed : System.nanoTime());
    }
}
