package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTokenizerTest {
    static Tokenizer llama3Tiktoken() {
        return Tokenizers.fromLlama3Tiktoken(SharedData.file("tokenizers/llama3/tokenizer.model"));
    }

    static String warAndPeace(int chars) throws IOException {
        return Files.readString(SharedData.file("war-and-peace/war-and-peace.txt"), StandardCharsets.UTF_8).substring(0, chars);
    }

    @Test
    void llama3TiktokenEncodesTheKnownSentence() {
        Tokenizer t = llama3Tiktoken();
        assertArrayEquals(new int[] {128000, 2028, 374, 264, 1296, 11914, 13, 128001},
                t.encode("This is a test sentence.", true, true, false));
        assertEquals(128256, t.vocabSize());
        assertTrue(t.stopTokens().containsAll(java.util.List.of(128001, 128009)));
        assertEquals("<|eot_id|>", t.piece(128009));
    }

    @Test
    void llama3TiktokenAndLlama32EncoderJsonAgree() throws IOException {
        String text = warAndPeace(300_000);
        Path dir = SharedData.file("tokenizers/llama3.2-bpe");
        Tokenizer bpe = Tokenizers.fromVocabAndMerges(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"), "llama-bpe");
        Tokenizer tiktoken = llama3Tiktoken();
        int[] ids = tiktoken.encode(text, false);
        assertArrayEquals(ids, bpe.encode(text, false));
        assertEquals(text, tiktoken.decode(ids));
    }

    @Test
    void byteLevelVocabulariesDecodeWhatTheyEncode() throws IOException {
        String text = warAndPeace(100_000) + " ünïcödé 日本語 🙂\t\r\n  end";
        for (String name : new String[] {"gpt-2", "falcon", "deepseek-llm", "starcoder"}) {
            try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-" + name + ".gguf"))) {
                Tokenizer t = Tokenizers.fromGguf(gguf);
                assertEquals(text, t.decode(t.encode(text, false)), name);
            }
        }
        Tokenizer qwen = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/qwen2"));
        assertEquals(text, qwen.decode(qwen.encode(text, false)));
    }

    @Test
    void qwen2ParsesChatMarkersOnlyWhenAsked() {
        Tokenizer t = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/qwen2"));
        String chat = "<|im_start|>user\nHi there<|im_end|>\n";
        int[] parsed = t.encode(chat, false, true);
        assertEquals(151644, parsed[0]);
        assertTrue(Arrays.stream(parsed).anyMatch(id -> id == 151645));
        int[] plain = t.encode(chat, false, false);
        assertTrue(Arrays.stream(plain).noneMatch(id -> id >= 151643), Arrays.toString(plain));
        assertEquals(chat, t.decode(plain));
        assertEquals(-1, t.bos());
        assertEquals(151643, t.eos());
        assertTrue(t.stopTokens().contains(151645), "<|im_end|> ends a turn");
        // control tokens print nothing
        assertEquals("user\nHi there\n", t.decode(parsed));
    }

    @Test
    void userDefinedTokensAreSplitEvenWithoutParseSpecial() {
        // MPT's vocabulary has user-defined runs of spaces, which llama.cpp always matches first
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-mpt.gguf"))) {
            Tokenizer t = Tokenizers.fromGguf(gguf);
            int[] ids = t.encode("a" + " ".repeat(24) + "b", false);
            assertEquals(" ".repeat(24), t.piece(ids[1]));
        }
    }
}
