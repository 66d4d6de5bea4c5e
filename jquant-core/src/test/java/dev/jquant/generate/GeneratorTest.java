package dev.jquant.generate;

import dev.jquant.format.F32;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.Transformer;
import dev.jquant.testing.TestModels;
import dev.jquant.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    /** Letters a..z as tokens 0..25, BOS 26, EOS 27. */
    static final class Letters implements Tokenizer {
        @Override public int vocabSize() { return 28; }
        @Override public int[] encode(String text, boolean addBos, boolean parseSpecial) {
            int[] ids = new int[text.length() + (addBos ? 1 : 0)];
            int i = 0;
            if (addBos) {
                ids[i++] = 26;
            }
            for (char ch : text.toCharArray()) {
                ids[i++] = ch - 'a';
            }
            return ids;
        }
        @Override public byte[] tokenBytes(int id) {
            return id < 26 ? new byte[] {(byte) ('a' + id)} : new byte[0];
        }
        @Override public String piece(int id) { return new String(tokenBytes(id), StandardCharsets.UTF_8); }
        @Override public int bos() { return 26; }
        @Override public int eos() { return 27; }
        @Override public Set<Integer> stopTokens() { return Set.of(27); }
    }

    private static Checkpoint model(Arena arena) {
        ModelConfig cfg = new ModelConfig("llama", 32, 64, 2, 4, 2, 8, 28, 256, 1e-5f, 10000, RopeStyle.ADJACENT_PAIRS,
                null, false, false, true);
        return TestModels.random(cfg, F32.INSTANCE, 5, arena).withTokenizer(new Letters());
    }

    @Test
    void streamedTextEqualsTheResultAndGreedyIsDeterministic() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = model(arena);
            Generator g = new Generator(new Transformer(c), c.tokenizer());
            StringBuilder streamed = new StringBuilder();
            GenerationResult a = g.generate("abc", GenerationOptions.greedy(40), streamed::append);
            GenerationResult b = g.generate("abc", GenerationOptions.greedy(40), null);
            assertEquals(a.text(), streamed.toString());
            assertEquals(a.text(), b.text());
            assertEquals(4, a.promptTokens());
            assertTrue(a.generatedTokens() > 0 && a.generatedTokens() <= 40);
        }
    }

    @Test
    void aStopStringEndsGenerationAndIsNotEmitted() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = model(arena);
            Generator g = new Generator(new Transformer(c), c.tokenizer());
            GenerationResult full = g.generate("abc", GenerationOptions.greedy(60), null);
            assertTrue(full.text().length() >= 20, "need a long enough greedy text: " + full.text());
            String stop = full.text().substring(10, 13);
            int expectedEnd = full.text().indexOf(stop);
            StringBuilder streamed = new StringBuilder();
            GenerationResult cut = g.generate("abc",
                    new GenerationOptions(60, SamplingParams.GREEDY, List.of(stop), true), streamed::append);
            assertEquals("stop-string", cut.stopReason());
            assertEquals(full.text().substring(0, expectedEnd), cut.text());
            assertEquals(cut.text(), streamed.toString());
            assertFalse(streamed.toString().contains(stop));
        }
    }

    @Test
    void maxTokensIsHonoured() {
        try (Arena arena = Arena.ofShared()) {
            Checkpoint c = model(arena);
            GenerationResult r = new Generator(new Transformer(c), c.tokenizer())
                    .generate("a", new GenerationOptions(5, new SamplingParams(1, 0, 1, 0, 1, 64, 1), List.of(), true), null);
            assertTrue(r.generatedTokens() <= 5);
            if (r.generatedTokens() < 5) {
                assertEquals("eos", r.stopReason());
            } else {
                assertEquals("max-tokens", r.stopReason());
            }
        }
    }
}
