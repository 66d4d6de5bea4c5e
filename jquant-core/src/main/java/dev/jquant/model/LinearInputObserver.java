package dev.jquant.model;

/**
 * Sees the input of every linear layer during a forward pass (for calibration statistics and
 * activation analysis). {@code x} holds {@code tokens} rows of {@code width} floats; it must not be
 * modified. The tensor names are those of the matrices the input is about to multiply, e.g.
 * {@code blk.0.attn_q.weight} (q, k and v share one input and are reported once, under attn_q).
 */
@FunctionalInterface
public interface LinearInputObserver {
    void input(int layer, String tensor, float[] x, int tokens, int width);
}
