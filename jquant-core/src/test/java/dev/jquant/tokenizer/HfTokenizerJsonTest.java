package dev.jquant.tokenizer;

import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfTokenizerJsonTest {
    @TempDir
    Path dir;

    @Test
    void stories260kVocabularyEncodesTheSameAfterTheRoundTrip() throws IOException {
        Tokenizer spm = SpmTokenizerTest.stories260kGguf();
        HfTokenizerJson.write(spm, dir.resolve("tokenizer.json"));
        Tokenizer hf = Tokenizers.fromHfDirectory(dir);
        assertEquals(spm.vocabSize(), hf.vocabSize());
        assertEquals(1, hf.bos());
        assertEquals(2, hf.eos());
        assertTrue(hf.addBosByDefault());
        String text = Files.readString(SharedData.path("tinystories/tinystories-dev.txt"), StandardCharsets.UTF_8)
                + " plus 🙂 bytes, ünïcödé and   runs of  spaces\n";
        int[] ids = spm.encode(text, true);
        assertArrayEquals(ids, hf.encode(text, true));
        assertEquals(text, hf.decode(ids));
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, hf.encode("Once upon a time", true));
    }

    @Test
    void llama2VocabularyEncodesTheSameAfterTheRoundTrip() throws IOException {
        Tokenizer spm;
        try (GgufFile gguf = GgufFile.open(SharedData.path("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            spm = Tokenizers.fromGguf(gguf);
        }
        HfTokenizerJson.write(spm, dir.resolve("tokenizer.json"));
        Tokenizer hf = Tokenizers.fromHfDirectory(dir);
        String text = BpeTokenizerTest.warAndPeace(150_000) + "\n日本語のテキスト 🙂 «ünïcödé»\t tabs";
        assertArrayEquals(spm.encode(text, true), hf.encode(text, true));
    }

    @Test
    void onlySentencePieceVocabulariesCanBeWritten() {
        Tokenizer qwen = Tokenizers.fromHfDirectory(SharedData.path("tokenizers/qwen2"));
        JQuantException e = assertThrows(JQuantException.class, () -> HfTokenizerJson.write(qwen, dir.resolve("tokenizer.json")));
        assertTrue(e.getMessage().contains("only SentencePiece"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("tokenizer.json")));
    }
}
