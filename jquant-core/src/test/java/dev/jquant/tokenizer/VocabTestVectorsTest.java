package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's test-tokenizer-0 vectors: every string must encode (no BOS) to exactly the listed ids. */
class VocabTestVectorsTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
            "deepseek-coder", "deepseek-llm", "bert-bge"})
    void ggufVocabularyMatchesLlamaCpp(String name) throws IOException {
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-" + name + ".gguf"))) {
            assertVectors(Tokenizers.fromGguf(gguf), name);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "gpt-neox", "mpt", "falcon", "starcoder", "refact",
            "deepseek-coder", "deepseek-llm", "bert-bge", "baichuan"})
    void everyVocabularyLoads(String name) {
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-" + name + ".gguf"))) {
            Tokenizer t = Tokenizers.fromGguf(gguf);
            assertTrue(t.vocabSize() > 30_000, name + " has " + t.vocabSize() + " tokens");
        }
    }

    @org.junit.jupiter.api.Test
    void llama3BpeFromEncoderJsonAndVocabBpe() throws IOException {
        Path dir = SharedData.file("tokenizers/llama3.2-bpe");
        assertVectors(Tokenizers.fromVocabAndMerges(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"), "llama-bpe"),
                "llama-bpe");
    }

    @org.junit.jupiter.api.Test
    void qwen2FromHfDirectory() throws IOException {
        assertVectors(Tokenizers.fromHfDirectory(SharedData.file("tokenizers/qwen2")), "qwen2");
    }

    @org.junit.jupiter.api.Test
    void bertFromMiniLmTokenizerJsonMatchesBgeVectors() throws IOException {
        // all-MiniLM-L6-v2 and bge-small share bert-base-uncased's vocabulary
        assertVectors(Tokenizers.fromHfDirectory(SharedData.file("tokenizers/all-MiniLM-L6-v2")), "bert-bge");
    }

    static void assertVectors(Tokenizer tokenizer, String name) throws IOException {
        String inp = Files.readString(SharedData.file("llama.cpp-vocab/ggml-vocab-" + name + ".gguf.inp"), StandardCharsets.UTF_8);
        List<String> expected = Files.readAllLines(SharedData.file("llama.cpp-vocab/ggml-vocab-" + name + ".gguf.out"));
        List<String> inputs = new ArrayList<>(Arrays.asList(inp.split(SEPARATOR, -1)));
        // the file ends with a separator too
        assertEquals("", inputs.removeLast(), name + ": .inp must end with the separator");
        assertEquals(expected.size(), inputs.size(), name + ": inputs vs outputs");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            int[] ids = tokenizer.encode(inputs.get(i), false, false);
            String got = String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toList());
            if (!got.equals(expected.get(i).strip())) {
                failures.add("#" + i + " " + escape(inputs.get(i)) + "\n  expected " + expected.get(i).strip() + "\n  got      " + got);
            }
        }
        assertTrue(failures.isEmpty(), name + ": " + failures.size() + " of " + inputs.size() + " differ:\n"
                + String.join("\n", failures));
    }

    private static String escape(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
    }
}
