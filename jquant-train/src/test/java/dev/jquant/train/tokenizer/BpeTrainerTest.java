package dev.jquant.train.tokenizer;

import dev.jquant.io.gguf.GgufFile;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;
import dev.jquant.train.corpus.StoryGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTrainerTest {
    @TempDir
    Path dir;

    @Test
    void trainedVocabularyLoadsAsASentencePieceTokenizer() {
        String training = StoryGenerator.corpus(300, 1);
        BpeTrainer.Vocabulary v = BpeTrainer.train(training, 420);
        assertEquals(420, v.size());
        assertEquals(v.size(), v.pieces().stream().distinct().count(), "pieces are unique");
        Path file = dir.resolve("tok.gguf");
        v.writeGguf(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            Tokenizer tok = Tokenizers.fromGguf(gguf);
            assertEquals(420, tok.vocabSize());
            assertEquals(1, tok.bos());
            assertEquals(2, tok.eos());
            assertEquals("<0x41>", tok.piece(3 + 'A'));
            String heldOut = StoryGenerator.corpus(20, 99).split("\n\n")[3];
            int[] ids = tok.encode(heldOut, true, false);
            assertEquals(1, ids[0]);
            assertEquals(heldOut, tok.decode(java.util.Arrays.copyOfRange(ids, 1, ids.length)));
            // frequent words are single pieces: fewer than half as many tokens as characters
            assertEquals(1, tok.encode("the", false, false).length, "\"▁the\" is one piece");
            assertTrue(ids.length < 0.5 * heldOut.length(), ids.length + " tokens for " + heldOut.length() + " characters");
            // characters the corpus never had fall back to bytes and still round-trip
            String unseen = "Zoë 食べる";
            int[] fallback = tok.encode(unseen, false, false);
            assertTrue(java.util.Arrays.stream(fallback).anyMatch(id -> id >= 3 && id < 259), "byte tokens used");
            assertEquals(unseen, tok.decode(fallback));
        }
    }

    @Test
    void trainingIsDeterministicAndMergesInFrequencyOrder() {
        String text = "low low low low lower lower newest newest newest widest widest";
        BpeTrainer.Vocabulary a = BpeTrainer.train(text, 259 + 14);
        assertEquals(a, BpeTrainer.train(text, 259 + 14));
        // ("▁", "l"), ("l", "o") and ("o", "w") each occur 6 times, more than any other pair; ties go to the
        // smallest pair text ("l o" sorts before "o w" and "▁ l"), and "low" follows from "lo"
        assertEquals("lo", a.pieces().get(259));
        assertEquals("low", a.pieces().get(260));
        assertEquals(0f, a.scores().get(259));
        assertEquals(-1f, a.scores().get(260));
    }

    @Test
    void tokenizerJsonLoadsToTheSameTokens() {
        String training = StoryGenerator.corpus(100, 2);
        BpeTrainer.Vocabulary v = BpeTrainer.train(training, 380);
        Path gguf = dir.resolve("tok.gguf");
        v.writeGguf(gguf);
        v.writeTokenizerJson(dir.resolve("tokenizer.json"));
        String text = StoryGenerator.corpus(3, 5);
        try (GgufFile g = GgufFile.open(gguf)) {
            assertArrayEquals(Tokenizers.fromGguf(g).encode(text, true, false),
                    Tokenizers.fromHfDirectory(dir).encode(text, true, false));
        }
    }

    @Test
    void tooSmallAVocabularyIsRefused() {
        assertThrows(dev.jquant.JQuantException.class, () -> BpeTrainer.train("a b c", 200));
    }
}
