package dev.jquant.generate;

import dev.jquant.JQuant;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** stories260K greedy from BOS reproduces llama2.c's run.c output byte for byte, from GGUF and from llama2.c files. */
class Stories260kGenerationTest {

    /** The greedy text in the llama2.c model card: what run.c printed with -t 0.0 (256 steps: 256 sampled tokens). */
    private static String llama2cGreedyText() throws IOException {
        String doc = Files.readString(SharedData.file("stories260K/stories260K.llama2c-doc.md"));
        Matcher m = Pattern.compile("\\./run [^\\n]* -t 0\\.0\\n(.*?)\\n```", Pattern.DOTALL).matcher(doc);
        assertTrue(m.find(), "greedy sample not found in the model card");
        return m.group(1);
    }

    private static void assertGreedyReproducesRunC(Checkpoint c) throws IOException {
        String expected = llama2cGreedyText();
        assertTrue(expected.startsWith("Once upon a time, there was a little girl named Lily."), expected);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = new Generator(new Transformer(c), c.tokenizer())
                .generate("", GenerationOptions.greedy(256), streamed::append);
        assertEquals(expected, r.text());
        assertEquals(r.text(), streamed.toString());
    }

    @Test
    void ggufGreedyTextEqualsRunC() throws IOException {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            assertGreedyReproducesRunC(c);
        }
    }

    @Test
    void llama2cCheckpointGreedyTextEqualsRunC() throws IOException {
        Path bin = SharedData.file("stories260K/stories260K.bin");
        try (Checkpoint c = JQuant.load(bin, SharedData.file("stories260K/tok512.bin"))) {
            assertGreedyReproducesRunC(c);
        }
    }

    @Test
    void greedyTokensEqualTheReferenceIds() throws IOException {
        String json = Files.readString(SharedData.file("stories260K/reference_outputs.json"));
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("greedy_from_BOS_200_tokens");
        int[] expected = new int[node.get("ids").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = node.get("ids").get(i).asInt();
        }
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            GenerationResult r = new Generator(new Transformer(c), c.tokenizer()).generate("", GenerationOptions.greedy(200), null);
            assertArrayEquals(expected, r.tokens());
            assertEquals(node.get("text").asText(), r.text());
        }
    }

    @Test
    void encodeOnceUponATime() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            assertArrayEquals(new int[] {1, 403, 407, 261, 378}, c.tokenizer().encode("Once upon a time", true));
        }
    }
}
