package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
        String text = Files.readString(SharedData.file("tinystories/tinystories-dev.txt"), StandardCharsets.UTF_8)
                + " plus 🙂 bytes, ünïcödé and   runs of  spaces\n";
        int[] ids = spm.encode(text, true);
        assertArrayEquals(ids, hf.encode(text, true));
        assertEquals(text, hf.decode(ids));
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, hf.encode("Once upon a time", true));
    }

    @Test
    void llama2VocabularyEncodesTheSameAfterTheRoundTrip() throws IOException {
        Tokenizer spm;
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            spm = Tokenizers.fromGguf(gguf);
        }
        HfTokenizerJson.write(spm, dir.resolve("tokenizer.json"));
        Tokenizer hf = Tokenizers.fromHfDirectory(dir);
        String text = BpeTokenizerTest.warAndPeace(150_000) + "\n日本語のテキスト 🙂 «ünïcödé»\t tabs";
        assertArrayEquals(spm.encode(text, true), hf.encode(text, true));
    }

    @Test
    void metaspacePreTokenizerPrependsOnlyAtTheStartWithSchemeFirst() throws IOException {
        Tokenizer spm = SpmTokenizerTest.stories260kGguf();
        Path json = dir.resolve("tokenizer.json");
        HfTokenizerJson.write(spm, json);
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(json.toFile());
        // the newer Llama/Mistral layout: no normalizer, a Metaspace pre-tokenizer
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                .put("prepend_scheme", "first").put("split", false);
        mapper.writeValue(json.toFile(), root);
        Tokenizer first = Tokenizers.fromHfDirectory(dir);
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, first.encode("Once upon a time", true));
        int[] ids = first.encode("Once</s>upon", false, true);
        assertEquals(2, ids[1]);
        assertTrue(!first.piece(ids[2]).startsWith("\u2581"), first.piece(ids[2]));
        int[] always = spm.encode("Once</s>upon", false, true);
        assertTrue(spm.piece(always[2]).startsWith("\u2581"), spm.piece(always[2]));
    }

    @Test
    void onlySentencePieceVocabulariesCanBeWritten() {
        Tokenizer qwen = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/qwen2"));
        JQuantException e = assertThrows(JQuantException.class, () -> HfTokenizerJson.write(qwen, dir.resolve("tokenizer.json")));
        assertTrue(e.getMessage().contains("only SentencePiece"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("tokenizer.json")));
    }
}
