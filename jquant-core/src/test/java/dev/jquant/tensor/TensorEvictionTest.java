package dev.jquant.tensor;

import dev.jquant.JQuant;
import dev.jquant.model.Checkpoint;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Evicting a tensor's pages drops residency only: its values read back the same, mapped or not. */
class TensorEvictionTest {

    @Test
    void aMappedTensorReadsTheSameAfterEviction() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Tensor t = c.tensor("blk.0.ffn_up.weight");
            assertTrue(t.data().isMapped(), "GGUF tensors are mapped from the file");
            float[] before = t.toFloats();
            t.evictFromMemory();
            assertArrayEquals(before, t.toFloats());
        }
    }

    @Test
    void aTensorInOrdinaryMemoryIsLeftAlone() {
        try (Arena arena = Arena.ofConfined()) {
            float[] values = {1, -2, 3.5f, 0};
            Tensor t = Tensor.ofFloats("t", values, arena, 4);
            t.evictFromMemory();
            assertArrayEquals(values, t.toFloats());
        }
    }
}
