package dev.jquant.model;

import dev.jquant.JQuant;
import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.kernel.Parallel;
import dev.jquant.testing.SharedData;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every forward path (batched prefill, token-by-token decode, each weight type, 1 and 2 threads)
 * against the scalar double-precision reference.
 */
class ForwardPassTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    static Stream<Object[]> flavoursAndFormats() {
        return TestModels.FLAVOURS.stream().flatMap(f -> Stream.of(
                new Object[] {f, F32.INSTANCE}, new Object[] {f, F16.INSTANCE}, new Object[] {f, BF16.INSTANCE}));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("flavoursAndFormats")
    void randomModelsMatchTheReference(String flavour, Format format) {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = TestModels.random(TestModels.config(flavour), format, 42, arena);
            int[] tokens = randomTokens(c.config().vocabSize(), 13, 7);
            assertPathsMatchReference(c, tokens, 2e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void stories260kMatchesTheReferenceInEveryWeightType(int threads) {
        Parallel.setThreads(threads);
        try (Checkpoint f32 = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            int[] tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
            assertPathsMatchReference(f32, tokens, 1e-4);
            assertPathsMatchReference(TestModels.convert(f32, F16.INSTANCE, arena), tokens, 1e-4);
            assertPathsMatchReference(TestModels.convert(f32, BF16.INSTANCE, arena), tokens, 1e-4);
        }
    }

    /** Prefill of all tokens, decode one at a time, and a split prefill+decode all equal the reference. */
    private static void assertPathsMatchReference(Checkpoint c, int[] tokens, double tolerance) {
        Transformer model = new Transformer(c);
        ReferenceTransformer ref = new ReferenceTransformer(c);
        double[][] expected = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            expected[i] = ref.forward(tokens[i]);
        }
        float[][] batched = model.newSession(tokens.length).prefill(tokens);
        Session decode = model.newSession(tokens.length);
        Session split = model.newSession(tokens.length);
        float[][] splitLogits = split.prefill(java.util.Arrays.copyOf(tokens, 5));
        for (int i = 0; i < tokens.length; i++) {
            float[] stepwise = decode.forward(tokens[i]);
            float[] mixed = i < 5 ? splitLogits[i] : split.forward(tokens[i]);
            double scale = maxAbs(expected[i]);
            assertTrue(scale > 0.1, "degenerate logits");
            for (int v = 0; v < expected[i].length; v++) {
                assertEquals(expected[i][v], batched[i][v], tolerance * scale, "prefill, position " + i + ", token " + v);
                assertEquals(expected[i][v], stepwise[v], tolerance * scale, "decode, position " + i + ", token " + v);
                assertEquals(expected[i][v], mixed[v], tolerance * scale, "prefill+decode, position " + i + ", token " + v);
            }
        }
    }

    private static int[] randomTokens(int vocab, int n, long seed) {
        Random rnd = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(vocab);
        }
        return t;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
