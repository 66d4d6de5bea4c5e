package dev.jquant.generate;

import dev.jquant.JQuantException;

/**
 * How the next token is chosen. {@code temperature <= 0} is greedy (argmax); otherwise the
 * logits pass through the repetition penalty, temperature, top-k, top-p and min-p filters in that
 * order, and a token is drawn with a generator seeded by {@code seed}.
 *
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set whose probability reaches p; 1 keeps all
 * @param minP              drop tokens less likely than minP × the top probability; 0 keeps all
 * @param repetitionPenalty divide positive (multiply negative) logits of recently seen tokens; 1 is off
 * @param repeatLastN       how many recent tokens the penalty looks at
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repeatLastN, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0, 1, 64, 0);

    public SamplingParams {
        if (!(temperature >= 0) || topK < 0 || !(topP > 0 && topP <= 1) || !(minP >= 0 && minP < 1)
                || !(repetitionPenalty > 0) || repeatLastN < 0) {
            throw new JQuantException("invalid sampling settings: temperature " + temperature + " (>= 0), top-k " + topK
                    + " (>= 0), top-p " + topP + " (0 < p <= 1), min-p " + minP + " (0 <= p < 1), repetition penalty "
                    + repetitionPenalty + " (> 0), repeat-last-n " + repeatLastN + " (>= 0)");
        }
    }

    public boolean greedy() {
        return temperature <= 0;
    }
}
