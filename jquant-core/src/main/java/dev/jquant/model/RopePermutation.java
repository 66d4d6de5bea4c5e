package dev.jquant.model;

/**
 * The q/k row permutation between the two {@link RopeStyle}s. Within a head of size d, adjacent-pair
 * row {@code 2i + j} holds what half-split row {@code j*d/2 + i} holds (j in {0, 1}); this is the
 * permute() llama.cpp's convert_hf_to_gguf.py applies to Llama q/k weights. Biases and per-head norm
 * weights permute the same way, element by element.
 */
public final class RopePermutation {
    private RopePermutation() {
    }

    /**
     * How many heads tensor {@code name} (a GGUF name) spans when its rows follow RoPE's pairing: the
     * head count for q, the KV head count for k, 1 for the per-head q/k norms, 0 for every other tensor.
     */
    public static int rotatedHeads(ModelConfig c, String name) {
        if (!name.startsWith("blk.")) {
            return 0;
        }
        String suffix = name.substring(name.indexOf('.', "blk.".length()) + 1);
        return switch (suffix) {
            case TensorNames.ATTN_Q, TensorNames.ATTN_Q_BIAS -> c.heads();
            case TensorNames.ATTN_K, TensorNames.ATTN_K_BIAS -> c.kvHeads();
            case TensorNames.ATTN_Q_NORM, TensorNames.ATTN_K_NORM -> 1;
            default -> 0;
        };
    }

    /** For each half-split row, the adjacent-pair row it is taken from. */
    public static int[] halfSplitFromAdjacent(int heads, int headDim) {
        return order(heads, headDim, true);
    }

    /** For each adjacent-pair row, the half-split row it is taken from. */
    public static int[] adjacentFromHalfSplit(int heads, int headDim) {
        return order(heads, headDim, false);
    }

    private static int[] order(int heads, int headDim, boolean toHalfSplit) {
        int half = headDim / 2;
        int[] order = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int adjacent = h * headDim + 2 * i + j;
                    int halfSplit = h * headDim + j * half + i;
                    if (toHalfSplit) {
                        order[halfSplit] = adjacent;
                    } else {
                        order[adjacent] = halfSplit;
                    }
                }
            }
        }
        return order;
    }
}
