package dev.jquant.generate;

/**
 * The outcome of one generation.
 *
 * @param text          the new text (without the prompt and without a matched stop string)
 * @param tokens        prompt and generated token ids
 * @param promptTokens  how many of {@code tokens} were the prompt
 * @param stopReason    "eos", "stop-string", "max-tokens" or "context-full"
 * @param prefillNanos  time spent on the prompt
 * @param decodeNanos   time spent generating
 */
public record GenerationResult(String text, int[] tokens, int promptTokens, String stopReason, long prefillNanos,
                               long decodeNanos) {

    public int generatedTokens() {
        return tokens.length - promptTokens;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : generatedTokens() * 1e9 / decodeNanos;
    }

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }
}
