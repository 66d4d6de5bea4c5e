package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A Llama 3 tokenizer.json in the layout Meta publishes, assembled from the shared encoder.json + vocab.bpe. */
class HfTokenizerJsonLlama3Test {
    /** The Split regex of Llama 3's tokenizer.json, verbatim. */
    private static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @TempDir
    Path dir;

    @Test
    void byteLevelTokenizerJsonWithSplitRegexMatchesLlamaCpp() throws IOException {
        Path src = SharedData.file("tokenizers/llama3.2-bpe");
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 128000).put("content", "<|begin_of_text|>").put("special", true);
        added.addObject().put("id", 128001).put("content", "<|end_of_text|>").put("special", true);
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", LLAMA3_SPLIT);
        split.put("behavior", "Isolated").put("invert", false);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model").put("type", "BPE").put("ignore_merges", true);
        JsonNode vocab = mapper.readTree(src.resolve("encoder.json").toFile());
        model.set("vocab", vocab);
        ArrayNode merges = model.putArray("merges");
        for (String line : Files.readAllLines(src.resolve("vocab.bpe"), StandardCharsets.UTF_8)) {
            if (!line.isEmpty() && !line.startsWith("#version")) {
                merges.add(line);
            }
        }
        mapper.writeValue(dir.resolve("tokenizer.json").toFile(), root);

        Tokenizer t = Tokenizers.fromHfDirectory(dir);
        VocabTestVectorsTest.assertVectors(t, "llama-bpe");
        assertEquals(128000, t.bos());
        assertEquals(128001, t.eos());
        assertArrayEquals(new int[] {128000, 2028, 374, 264, 1296, 11914, 13, 128001},
                t.encode("This is a test sentence.", true, true, false));
    }
}
