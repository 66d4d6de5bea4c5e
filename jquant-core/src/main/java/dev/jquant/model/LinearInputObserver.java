package dev.jquant.model;

/**
 * Sees the input of every linear layer just before the engine multiplies it, as calibration needs.
 * Layers that share an input (q/k/v, gate/up) are each reported with the same array. The array is
 * the engine's scratch buffer: read it during the call, never keep it.
 */
@FunctionalInterface
public interface LinearInputObserver {

    /**
     * @param layer  decoder block index
     * @param tensor the weight's name within the block, a {@link TensorNames} suffix such as {@code attn_q.weight}
     * @param input  {@code tokens} rows of the layer's input width, row-major (longer arrays have unused tails)
     */
    void observe(int layer, String tensor, float[] input, int tokens);
}
