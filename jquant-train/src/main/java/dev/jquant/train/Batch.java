package dev.jquant.train;

/**
 * {@code size} sequences of {@code seq} input tokens, one after another, and for each position the
 * token it should predict ({@link TrainingModel#IGNORE} where it is not scored).
 */
public record Batch(int[] inputs, int[] targets, int size, int seq) {

    public Batch {
        if (inputs.length != size * seq || targets.length != size * seq) {
            throw new IllegalArgumentException(inputs.length + " inputs and " + targets.length + " targets for "
                    + size + " sequences of " + seq);
        }
    }

    /** From {@code size} windows of {@code seq + 1} tokens each: every token predicts the next one. */
    public static Batch ofWindows(int[] tokens, int size, int seq) {
        if (tokens.length != size * (seq + 1)) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + size + " windows of " + seq + " + 1");
        }
        int[] inputs = new int[size * seq];
        int[] targets = new int[size * seq];
        for (int b = 0; b < size; b++) {
            System.arraycopy(tokens, b * (seq + 1), inputs, b * seq, seq);
            System.arraycopy(tokens, b * (seq + 1) + 1, targets, b * seq, seq);
        }
        return new Batch(inputs, targets, size, seq);
    }
}
