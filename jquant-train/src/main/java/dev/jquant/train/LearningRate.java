package dev.jquant.train;

/**
 * Linear warmup to the peak rate, then cosine decay to the minimum at the last step.
 *
 * @param warmup steps of linear warmup (0 for none)
 */
public record LearningRate(float peak, float min, int warmup, int steps) {

    /** The rate of update {@code step} (0-based). */
    public float at(int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        int decaySteps = Math.max(1, steps - 1 - warmup);
        double progress = Math.min(1.0, (double) (step - warmup) / decaySteps);
        return (float) (min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress)));
    }
}
