package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpmTokenizerTest {
    private static final int[] ONCE_UPON_A_TIME = {1, 403, 407, 261, 378};

    static Tokenizer stories260kGguf() {
        try (GgufFile gguf = GgufFile.open(SharedData.file("stories260K/stories260K.gguf"))) {
            return Tokenizers.fromGguf(gguf);
        }
    }

    static Tokenizer stories260kLlama2c() {
        return Tokenizers.fromLlama2c(SharedData.file("stories260K/tok512.bin"), 512);
    }

    @Test
    void encodesTheKnownPromptFromGguf() {
        Tokenizer t = stories260kGguf();
        assertArrayEquals(ONCE_UPON_A_TIME, t.encode("Once upon a time", true));
        assertTrue(t.addBosByDefault());
        assertEquals(Set.of(2), t.stopTokens());
    }

    @Test
    void encodesTheKnownPromptFromLlama2cTokenizer() {
        Tokenizer t = stories260kLlama2c();
        assertArrayEquals(ONCE_UPON_A_TIME, t.encode("Once upon a time", true));
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertEquals("<s>", t.piece(1));
    }

    @Test
    void ggufAndLlama2cAgreeOnAllOfTinyStoriesAndDecodeBack() throws IOException {
        String text = Files.readString(SharedData.file("tinystories/tinystories-dev.txt"), StandardCharsets.UTF_8);
        Tokenizer gguf = stories260kGguf();
        int[] ids = gguf.encode(text, true);
        assertArrayEquals(ids, stories260kLlama2c().encode(text, true));
        assertTrue(ids.length > 100_000 && ids.length < text.length() / 2, "token count " + ids.length);
        assertEquals(text, gguf.decode(ids));
    }

    @Test
    void decodingDropsOnlyTheSpaceTheEncoderAdded() {
        Tokenizer t = stories260kGguf();
        // byte fallback: characters outside the 512-piece vocabulary
        String text = "  two spaces, an émoji 🙂 and\nnew lines";
        int[] ids = t.encode(text, false);
        assertTrue(java.util.Arrays.stream(ids).anyMatch(id -> id == 3 + 0xF0), "🙂 falls back to its UTF-8 bytes");
        assertEquals(text, t.decode(ids));
        assertEquals(text, t.decode(t.encode(text, true)));
        // streaming: the first piece after BOS loses its leading space, later ones keep it
        assertEquals("Once", new String(t.tokenBytes(1, 403), StandardCharsets.UTF_8));
        assertEquals(" upon", new String(t.tokenBytes(403, 407), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {'\n'}, t.tokenBytes(3 + '\n'));
        assertArrayEquals(new byte[0], t.tokenBytes(1));
    }

    @Test
    void llama2TokenizerBinMatchesLlamaSpmGguf() throws IOException {
        String text = Files.readString(SharedData.file("war-and-peace/war-and-peace.txt"), StandardCharsets.UTF_8)
                .substring(0, 200_000);
        Tokenizer bin = Tokenizers.fromLlama2c(SharedData.file("tokenizers/llama2/tokenizer.bin"), 32000);
        Tokenizer gguf;
        try (GgufFile f = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            gguf = Tokenizers.fromGguf(f);
        }
        int[] ids = gguf.encode(text, true);
        assertArrayEquals(ids, bin.encode(text, true));
        assertEquals(text, gguf.decode(ids));
    }

    @Test
    void specialTokensAreTextUnlessParsed() {
        Tokenizer t = stories260kGguf();
        int[] plain = t.encode("a</s>b", false, false);
        assertTrue(java.util.Arrays.stream(plain).noneMatch(id -> id == 2));
        int[] parsed = t.encode("a</s>b", false, true);
        assertEquals(2, parsed[1], java.util.Arrays.toString(parsed));
        // the text after a special token gets its own leading ▁, as in llama.cpp
        assertEquals(t.encode("b", false)[0], parsed[2]);
    }
}
