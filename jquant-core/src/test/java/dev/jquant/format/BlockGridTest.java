package dev.jquant.format;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rounding on a block's fixed grid stores exactly the value it returns, and is nearest on that grid. */
class BlockGridTest {

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    void roundedValuesAreWhatTheBlockDecodesTo(String name) {
        Format f = Formats.byName(name);
        BlockGrid grid = BlockGrid.of(f).orElseThrow();
        Random rnd = new Random(11);
        int n = f.blockSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(f.blockBytes());
            MemorySegment reference = arena.allocate(f.blockBytes());
            for (int trial = 0; trial < 20; trial++) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) (rnd.nextGaussian() * (1 + trial));
                }
                grid.fit(x, 0, block, 0);
                f.encode(x, 0, n, reference, 0);
                assertEquals(-1, block.mismatch(reference), "fit writes what encode writes");
                float[] plain = new float[n];
                f.decode(reference, 0, plain, 0, n);

                float[] returned = new float[n];
                float[] moved = new float[n];
                for (int i = 0; i < n; i++) {
                    moved[i] = x[i] + (float) (rnd.nextGaussian() * 0.3 * (1 + trial)); // as GPTQ's updates move them
                    returned[i] = grid.round(block, 0, i, moved[i]);
                }
                float[] decoded = new float[n];
                f.decode(block, 0, decoded, 0, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(returned[i], decoded[i], 0f, name + " element " + i);
                }
                // rounding the original values again gives the encoder's own values (up to ties)
                int same = 0;
                for (int i = 0; i < n; i++) {
                    if (grid.round(block, 0, i, x[i]) == plain[i]) {
                        same++;
                    }
                }
                assertTrue(same >= n - 2, name + ": " + same + " of " + n + " match the encoder");
            }
        }
    }
}
