package dev.jquant.generate;

import java.util.List;

/**
 * What to generate: up to {@code maxTokens} new tokens, stopping early at an end-of-generation token
 * or when the text produced contains one of {@code stopStrings} (which is not emitted).
 */
public record GenerationOptions(int maxTokens, SamplingParams sampling, List<String> stopStrings, boolean addBos) {
    public GenerationOptions {
        stopStrings = List.copyOf(stopStrings);
    }

    public static GenerationOptions greedy(int maxTokens) {
        return new GenerationOptions(maxTokens, SamplingParams.GREEDY, List.of(), true);
    }
}
