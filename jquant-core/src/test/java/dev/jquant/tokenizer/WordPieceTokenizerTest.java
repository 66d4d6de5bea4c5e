package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class WordPieceTokenizerTest {
    @Test
    void bertFramingAndContinuationPieces() {
        Tokenizer t = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/all-MiniLM-L6-v2"));
        // [CLS] hello world ! [SEP]
        assertArrayEquals(new int[] {101, 7592, 2088, 999, 102}, t.encode("Hello world!", true));
        int[] ids = t.encode("Tokenization", false);
        assertEquals(" token", new String(t.tokenBytes(ids[0])));
        assertEquals(" tokenization", t.decode(ids));
    }

    @Test
    void hfTokenizerJsonAndGgufAgree() {
        Tokenizer hf = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/all-MiniLM-L6-v2"));
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"))) {
            Tokenizer bge = Tokenizers.fromGguf(gguf);
            String text = "Crème brûlée, naïve café! 北京欢迎你 [MASK] unaffable\tthings";
            assertArrayEquals(bge.encode(text, true), hf.encode(text, true));
        }
    }
}
