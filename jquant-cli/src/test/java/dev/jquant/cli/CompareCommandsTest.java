package dev.jquant.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** compare and task from the command line: files written, table printed, one-line errors. */
class CompareCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void compareWritesEveryFileAndPrintsTheTableWithUnavailableCombinations(@TempDir Path dir) throws Exception {
        String text = SharedData.file("tinystories/tinystories-dev.txt").toString();
        CliRun r = CliRun.of("compare", "--model", SharedData.stories260k().toString(), "--calib", text, "--eval", text,
                "--out", dir.toString(), "--methods", "rtn,nf4", "--bits", "8", "--formats", "Q4_0", "--ctx", "64",
                "--chunks", "1", "--calib-chunks", "1", "--speed-prompt-tokens", "0", "--threads", "1");
        assertEquals(0, r.exitCode(), r.err());
        for (String f : new String[] {"results.json", "results.csv", "results.md", "report.html"}) {
            assertTrue(Files.size(dir.resolve(f)) > 100, f);
        }
        assertTrue(r.out().contains("rtn-q8_0") && r.out().contains("rtn-q4_0"), r.out());
        assertTrue(r.out().contains("unavailable: only 4-bit"), r.out());
        assertTrue(r.out().contains("report.html"), r.out());
        assertTrue(r.err().contains("[3/3]"), r.err());
        JsonNode json = JSON.readTree(dir.resolve("results.json").toFile());
        assertEquals(3, json.get("configurations").size());
    }

    @Test
    void compareRejectsAnUnknownMethodInOneLine(@TempDir Path dir) {
        CliRun r = CliRun.of("compare", "--model", "m.gguf", "--calib", "c", "--eval", "e", "--out", dir.toString(),
                "--methods", "magic");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("jquant: --methods: unknown method 'magic'"), r.err());
    }

    @Test
    void taskScoresJsonlItems(@TempDir Path dir) throws Exception {
        Path items = dir.resolve("items.jsonl");
        Files.writeString(items, """
                {"context": "Once upon a time, there was a little girl named", "choices": [" Lily.", " purple the of."], "label": 0}
                {"context": "She loved to play", "choices": [" ball red big of", " outside in the park."], "label": 1}
                """);
        CliRun r = CliRun.of("task", "--model", SharedData.stories260k().toString(), "--file", items.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = JSON.readTree(r.out());
        assertEquals(2, json.get("items").asInt());
        assertEquals(1.0, json.get("acc").asDouble(), 1e-12);
        assertTrue(json.has("acc_norm") && json.has("acc_stderr"));
    }
}
