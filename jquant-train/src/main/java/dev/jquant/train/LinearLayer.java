package dev.jquant.train;

/**
 * A linear layer {@code y = x W^T} as {@link TrainingModel} runs it, for the layers whose weight is not
 * a plain F32 parameter: a frozen quantized base, a base plus a LoRA adapter. The model keeps the
 * layer's input for the backward pass and hands it back; any other state a layer needs between its
 * forward and backward pass (a dropout mask) it keeps itself, for the last forward pass.
 */
public interface LinearLayer {

    /** {@code y = x W^T} for {@code n} rows of {@code x}; overwrites y. */
    void forward(Parameters w, float[] x, int n, float[] y);

    /**
     * From the output gradient {@code dy}: the input gradient into {@code dx} (added when
     * {@code accumulate}, else overwritten), and the gradients of this layer's parameters added into
     * those of {@code grads} that it holds (parameters it does not hold are frozen).
     */
    void backward(Parameters w, Parameters grads, float[] dy, float[] x, int n, float[] dx, boolean accumulate);

    /** Whether dropout and other training-only behaviour is on (the default) or off (evaluation). */
    default void training(boolean on) {
    }
}
