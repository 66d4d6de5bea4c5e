package dev.jquant.model;

import dev.jquant.format.F16;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The weight bytes a decode step reads, against which bench reports decode's bandwidth. */
class DecodeBytesTest {

    @Test
    void aSeparateEmbeddingTableCountsOneRowATiedOneCountsWhole() {
        for (String flavour : TestModels.FLAVOURS) {
            try (Arena arena = Arena.ofConfined()) {
                Checkpoint c = TestModels.random(TestModels.config(flavour), F16.INSTANCE, 5, arena);
                Transformer model = new Transformer(c);
                var embedding = c.tensor(TensorNames.TOKEN_EMBEDDING);
                long expected = c.config().tiedOutput()
                        ? c.tensorBytes()
                        : c.tensorBytes() - embedding.byteSize() + embedding.rowBytes();
                assertEquals(expected, model.decodeBytesPerToken(), flavour);
            }
        }
    }
}
