package dev.jquant.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line contract: flags, outputs, JSON keys, and one-line errors for user mistakes. */
class CommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String model() {
        return SharedData.stories260k().toString();
    }

    @Test
    void generateGreedyContinuesThePrompt() {
        CliRun r = CliRun.of("generate", "--model", model(), "--prompt", "Once upon a time", "--temperature", "0",
                "--max-tokens", "12", "--threads", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith(", there was a little girl named Lily."), r.out());
        assertTrue(r.err().contains("generated"), r.err());
    }

    @Test
    void tokenizePrintsIdsAndJson() throws Exception {
        CliRun plain = CliRun.of("tokenize", "--model", model(), "--text", "Once upon a time");
        assertEquals("1 403 407 261 378", plain.out().strip());
        CliRun noBos = CliRun.of("tokenize", "--model", model(), "--text", "Once upon a time", "--no-bos");
        assertEquals("403 407 261 378", noBos.out().strip());
        JsonNode json = JSON.readTree(CliRun.of("tokenize", "--model", model(), "--text", "Once", "--json").out());
        assertEquals(json.get("count").asInt(), json.get("tokens").size());
    }

    @Test
    void perplexityJsonHasTheContractKeys() throws Exception {
        CliRun r = CliRun.of("perplexity", "--model", model(), "--file",
                SharedData.file("tinystories/tinystories-dev.txt").toString(), "--chunks", "2", "--ctx", "128", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = JSON.readTree(r.out());
        assertEquals(2, json.get("chunks").asInt());
        assertEquals(2 * 63, json.get("tokens_scored").asInt());
        double ppl = json.get("ppl").asDouble();
        assertTrue(ppl > 2 && ppl < 10, "ppl " + ppl);
    }

    @Test
    void inspectListsTensorsAndTotals() throws Exception {
        JsonNode json = JSON.readTree(CliRun.of("inspect", "--model", model(), "--json").out());
        assertEquals("llama", json.get("architecture").asText());
        assertEquals(48, json.get("tensors").size());
        assertEquals(32.0, json.get("bits_per_weight").asDouble(), 1e-9);
        assertEquals(512, json.get("tokenizer").get("vocab_size").asInt());
    }

    @Test
    void synthKeepsTheFirstBlocksWhenAsked(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("one.gguf");
        CliRun s = CliRun.of("synth", "--preset", "llama3", "--layers", "1", "--out", out.toString());
        assertEquals(0, s.exitCode(), s.err());
        JsonNode json = JSON.readTree(CliRun.of("inspect", "--model", out.toString(), "--json").out());
        assertEquals(1, json.get("config").get("layers").asInt());
        for (JsonNode t : json.get("tensors")) {
            assertTrue(!t.get("name").asText().startsWith("blk.1."), t.toString());
        }
        CliRun tooMany = CliRun.of("synth", "--preset", "llama3", "--layers", "3", "--out", out.toString());
        assertEquals(1, tooMany.exitCode());
        assertEquals("jquant: --layers: must be between 1 and 2 for llama3, got 3", tooMany.err().strip());
    }

    @Test
    void quantizeWritesAModelThatRuns(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("q8.gguf");
        CliRun q = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--format", "Q8_0", "--quiet");
        assertEquals(0, q.exitCode(), q.err());
        assertTrue(Files.size(out) < Files.size(SharedData.stories260k()) / 2);
        JsonNode json = JSON.readTree(CliRun.of("inspect", "--model", out.toString(), "--json").out());
        assertTrue(json.get("types").has("Q8_0"));
        assertTrue(json.get("types").has("F16"), "ffn_down (172 columns) falls back to F16");
    }

    @Test
    void layerwiseGptqWritesIntegerGridModelThatRuns(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("gptq.gguf");
        String calib = SharedData.file("tinystories/tinystories-dev.txt").toString();
        CliRun q = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--method", "gptq", "--bits", "4",
                "--group", "32", "--calib", calib, "--calib-samples", "4", "--calib-seqlen", "64");
        assertEquals(0, q.exitCode(), q.err());
        assertTrue(q.out().contains("blk.4.ffn_down.weight") && q.out().contains("int4 g32 asym"), q.out());
        assertTrue(q.err().contains("quantize block 5/5"), q.err());
        JsonNode json = JSON.readTree(CliRun.of("inspect", "--model", out.toString(), "--json").out());
        assertTrue(json.get("types").has("INT4_G32_ASYM_F16"), json.get("types").toString());

        CliRun noCalib = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--method", "awq", "--bits", "4");
        assertEquals(1, noCalib.exitCode());
        assertTrue(noCalib.err().startsWith("jquant: ") && noCalib.err().contains("--calib"), noCalib.err());
    }

    @Test
    void benchJsonHasTheContractKeys() throws Exception {
        CliRun r = CliRun.of("bench", "--model", model(), "--prompt-tokens", "32", "--gen-tokens", "8",
                "--repetitions", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = JSON.readTree(r.out());
        assertTrue(json.get("prefill_tps").asDouble() > 0);
        assertTrue(json.get("decode_tps").asDouble() > 0);
        assertTrue(json.get("peak_rss_bytes").asLong() > 0);
        assertTrue(json.get("read_bandwidth_gbps").asDouble() > 0);
        assertTrue(json.get("weight_bytes").asLong() < Files.size(Path.of(model())), "decode reads one embedding row, not the table");
        assertEquals(Files.exists(Path.of("/proc/self/smaps_rollup")), json.has("huge_page_bytes"), json.toString());
        if (json.has("huge_page_bytes")) {
            assertTrue(json.get("huge_page_bytes").asLong() >= 0);
        }
    }

    @Test
    void userMistakesGetOneLineWithoutAStackTrace() {
        CliRun missing = CliRun.of("generate", "--model", "/no/such/model.gguf", "--prompt", "x");
        assertEquals(1, missing.exitCode());
        assertEquals("jquant: /no/such/model.gguf: no such file or directory", missing.err().strip());

        CliRun badFlag = CliRun.of("generate", "--model", model(), "--max-tokens", "lots");
        assertEquals(2, badFlag.exitCode());
        assertTrue(badFlag.err().contains("--max-tokens"), badFlag.err());
        assertFalse(badFlag.err().contains("Exception"), badFlag.err());

        CliRun badFormat = CliRun.of("quantize", "--model", model(), "--out", "/tmp/x.gguf", "--format", "Q9_9");
        assertEquals(1, badFormat.exitCode());
        assertTrue(badFormat.err().startsWith("jquant: --format: unknown format 'Q9_9'"), badFormat.err());

        CliRun badTopP = CliRun.of("generate", "--model", model(), "--top-p", "2");
        assertEquals(1, badTopP.exitCode());
        assertTrue(badTopP.err().contains("top-p 2.0"), badTopP.err());

        CliRun notAModel = CliRun.of("inspect", "--model", SharedData.file("tinystories/tinystories-dev.txt").toString());
        assertEquals(1, notAModel.exitCode());
        assertTrue(notAModel.err().contains("not a model jquant can read"), notAModel.err());
    }
}
