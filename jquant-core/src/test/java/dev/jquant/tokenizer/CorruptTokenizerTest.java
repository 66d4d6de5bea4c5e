package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufValueType;
import dev.jquant.io.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad tokenizer files fail with a one-line JQuantException that names the file and the problem. */
class CorruptTokenizerTest {
    @TempDir
    Path dir;

    private static void assertFails(Executable load, Path file, String problem) {
        JQuantException e = assertThrows(JQuantException.class, load);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void truncatedLlama2cTokenizer() throws IOException {
        byte[] full = Files.readAllBytes(SharedData.file("stories260K/tok512.bin"));
        Path bin = dir.resolve("tok512.bin");
        Files.write(bin, Arrays.copyOf(full, full.length / 2));
        assertFails(() -> Tokenizers.fromLlama2c(bin, 512), bin, "truncated");
        Files.write(bin, Arrays.copyOf(full, 2));
        assertFails(() -> Tokenizers.fromLlama2c(bin, 512), bin, "no header");
    }

    @Test
    void tokenizerJsonThatIsNotJson() throws IOException {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,");
        assertFails(() -> Tokenizers.fromHfDirectory(dir), json, "not valid JSON");
    }

    @Test
    void mergeReferencingAnUnknownToken() throws IOException {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, """
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]},
                 "pre_tokenizer": {"type": "ByteLevel"}}""");
        assertFails(() -> Tokenizers.fromHfDirectory(dir), json, "merge #1 'a c' refers to 'c'");
    }

    @Test
    void mergesTxtLineWithoutASpace() throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        Path merges = dir.resolve("merges.txt");
        Files.writeString(merges, "#version: 0.2\na b\nab\n");
        assertFails(() -> Tokenizers.fromHfDirectory(dir), merges, "merge #1 'ab' is not two pieces");
    }

    @Test
    void mergesTxtWithoutVersionHeaderLoads() throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2, \"Ġ\": 3}");
        Files.writeString(dir.resolve("merges.txt"), "a b\n");
        Tokenizer t = Tokenizers.fromHfDirectory(dir);
        assertEquals(List.of(2, 0), Arrays.stream(t.encode("aba", false)).boxed().toList());
    }

    @Test
    void tiktokenRanksOutOfOrder() throws IOException {
        Path ranks = dir.resolve("tokenizer.model");
        Files.writeString(ranks, "YQ== 0\nYg== 2\n");
        assertFails(() -> Tokenizers.fromTiktoken(ranks, java.util.Map.of(), "a", "b"), ranks, "has rank 2, expected 1");
        Files.writeString(ranks, "!!notbase64 0\n");
        assertFails(() -> Tokenizers.fromTiktoken(ranks, java.util.Map.of(), "a", "b"), ranks, "line 1 is not 'base64 rank'");
    }

    @Test
    void ggufWithAnUnsupportedOrMissingTokenizer() {
        Path gguf = dir.resolve("t.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "rwkv")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b")).write(gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertFails(() -> Tokenizers.fromGguf(f), gguf, "tokenizer model 'rwkv' is not supported");
        }
        new GgufWriter().putString("general.name", "no vocab").write(gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertFails(() -> Tokenizers.fromGguf(f), gguf, "no tokenizer");
        }
    }

    @Test
    void ggufWithTooFewScoresOrDuplicateTokens() {
        Path gguf = dir.resolve("t.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "c"))
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, List.of(0f, 1f)).write(gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertFails(() -> Tokenizers.fromGguf(f), gguf, "scores has 2 entries for 3 tokens");
        }
        new GgufWriter().putString("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, List.of("a", "b", "a")).write(gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertFails(() -> Tokenizers.fromGguf(f), gguf, "duplicate token 'a' has ids 0 and 2");
        }
    }

    @Test
    void tokenIdOutsideTheVocabulary() {
        Tokenizer t = SpmTokenizerTest.stories260kGguf();
        JQuantException e = assertThrows(JQuantException.class, () -> t.decode(new int[] {1, 600}));
        assertTrue(e.getMessage().contains("token id 600 is outside the vocabulary"), e.getMessage());
    }
}
