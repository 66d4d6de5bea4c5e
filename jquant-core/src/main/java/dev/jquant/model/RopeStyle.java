package dev.jquant.model;

/**
 * Which elements of a head RoPE rotates together. GGUF "llama" files and llama2.c pair adjacent
 * elements (2i, 2i+1); Hugging Face Llama weights and NeoX-style models (Qwen2 in GGUF too) pair
 * element i with i + headDim/2. The two are the same model up to a permutation of q/k rows, so HF
 * checkpoints are run with {@link #HALF_SPLIT} on their weights as stored.
 */
public enum RopeStyle {
    ADJACENT_PAIRS,
    HALF_SPLIT
}
