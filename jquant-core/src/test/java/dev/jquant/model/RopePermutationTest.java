package dev.jquant.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RopePermutationTest {
    /** numpy: w.reshape(heads, 2, d//2).swapaxes(1, 2).reshape(-1) applied to arange(heads*d), as llama.cpp does. */
    @Test
    void matchesLlamaCppPermute() {
        assertArrayEquals(new int[]{0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15},
                RopePermutation.adjacentFromHalfSplit(2, 8));
        assertArrayEquals(new int[]{0, 2, 4, 6, 1, 3, 5, 7}, RopePermutation.halfSplitFromAdjacent(1, 8));
    }

    @Test
    void theTwoOrdersAreInverses() {
        int[] a = RopePermutation.adjacentFromHalfSplit(3, 16);
        int[] b = RopePermutation.halfSplitFromAdjacent(3, 16);
        for (int r = 0; r < a.length; r++) {
            assertEquals(r, b[a[r]]);
        }
    }

    @Test
    void onlyQueryAndKeyTensorsRotate() {
        ModelConfig c = SyntheticModels.preset("qwen3");
        assertEquals(4, RopePermutation.rotatedHeads(c, "blk.1.attn_q.weight"));
        assertEquals(2, RopePermutation.rotatedHeads(c, "blk.12.attn_k.bias"));
        assertEquals(1, RopePermutation.rotatedHeads(c, "blk.0.attn_k_norm.weight"));
        assertEquals(0, RopePermutation.rotatedHeads(c, "blk.0.attn_v.weight"));
        assertEquals(0, RopePermutation.rotatedHeads(c, "token_embd.weight"));
    }
}
