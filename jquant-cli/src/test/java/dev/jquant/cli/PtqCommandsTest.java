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

/** quantize's calibrated methods, recipes and mixed precision, and --kv-cache, end to end through the CLI. */
class PtqCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String model() {
        return SharedData.stories260k().toString();
    }

    private static String text() {
        return SharedData.file("tinystories/tinystories-dev.txt").toString();
    }

    @Test
    void staticInt8OutlierModelRunsWithAQuantizedKvCache(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("w8a8.gguf");
        CliRun q = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--method", "int8-outlier",
                "--act", "static", "--calib", text(), "--calib-samples", "2", "--calib-seqlen", "64");
        assertEquals(0, q.exitCode(), q.err());
        JsonNode info = JSON.readTree(CliRun.of("inspect", "--model", out.toString(), "--json").out());
        assertTrue(info.get("types").has("INT8_ROW_SYM_F32"), info.get("types").toString());
        CliRun p = CliRun.of("perplexity", "--model", out.toString(), "--file", text(), "--chunks", "2", "--ctx", "128",
                "--kv-cache", "q8_0", "--json");
        assertEquals(0, p.exitCode(), p.err());
        double ppl = JSON.readTree(p.out()).get("ppl").asDouble();
        assertTrue(ppl > 2 && ppl < 10, "ppl " + ppl);
    }

    @Test
    void benchReportsTheKvCacheSize() throws Exception {
        CliRun r = CliRun.of("bench", "--model", model(), "--prompt-tokens", "32", "--gen-tokens", "8",
                "--repetitions", "1", "--kv-cache", "q4_0", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = JSON.readTree(r.out());
        assertEquals("q4_0", json.get("kv_cache").asText());
        // 5 layers x (k, v) x 32 positions x 32 elements in Q4_0 blocks of 18 bytes
        assertEquals(5 * 2 * 32 * 18, json.get("kv_cache_bytes").asLong());
    }

    @Test
    void mixedPrecisionWritesARecipeThatReproducesIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("mix.gguf");
        CliRun q = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--target-bpw", "5",
                "--calib", text(), "--calib-samples", "1", "--calib-seqlen", "32");
        assertEquals(0, q.exitCode(), q.err());
        Path recipe = dir.resolve("mix.gguf.recipe.yaml");
        assertTrue(Files.exists(recipe));
        Path again = dir.resolve("again.gguf");
        // its gptq rules need the same calibration for the same Hessians
        CliRun r = CliRun.of("quantize", "--model", model(), "--out", again.toString(), "--recipe", recipe.toString(),
                "--calib", text(), "--calib-samples", "1", "--calib-seqlen", "32");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(Files.size(out), Files.size(again));
    }

    @Test
    void aRecipeMixingGptqWithRtnAndKeepRulesRunsEndToEnd(@TempDir Path dir) throws Exception {
        Path recipe = dir.resolve("mix.yaml");
        Files.writeString(recipe, """
                rules:
                  - pattern: '^blk\\.0\\.'
                    keep: true
                  - pattern: '^blk\\.\\d+\\.attn_(q|k|v|output)\\.weight$'
                    method: gptq
                    bits: 4
                    group: 32
                  - pattern: '^blk\\.\\d+\\.ffn_'
                    method: rtn
                    format: Q8_0
                """);
        Path out = dir.resolve("mix.gguf");
        CliRun q = CliRun.of("quantize", "--model", model(), "--out", out.toString(), "--recipe", recipe.toString(),
                "--calib", text(), "--calib-samples", "2", "--calib-seqlen", "64");
        assertEquals(0, q.exitCode(), q.err());
        assertTrue(q.out().matches("(?s).*blk\\.1\\.attn_q\\.weight +int4 g32 sym.*blk\\.1\\.ffn_gate\\.weight +Q8_0.*"), q.out());
        JsonNode info = JSON.readTree(CliRun.of("inspect", "--model", out.toString(), "--json").out());
        JsonNode types = info.get("types");
        // 4 attention matrices in each of the blocks after block 0; the ffn's Q8_0 (or its fallback); block 0 as it was
        assertTrue(types.has("INT4_G32_SYM_F16") && types.has("Q8_0") && types.has("F32"), types.toString());
        CliRun p = CliRun.of("perplexity", "--model", out.toString(), "--file", text(), "--chunks", "2", "--ctx", "128",
                "--json");
        assertEquals(0, p.exitCode(), p.err());
        double ppl = JSON.readTree(p.out()).get("ppl").asDouble();
        assertTrue(ppl > 2 && ppl < 10, "ppl " + ppl);
        CliRun both = CliRun.of("quantize", "--model", model(), "--out", dir.resolve("x.gguf").toString(), "--recipe",
                recipe.toString(), "--method", "gptq", "--calib", text());
        assertEquals(1, both.exitCode());
        assertTrue(both.err().contains("leave out --method"), both.err());
    }

    @Test
    void mistakesAreOneLine() {
        CliRun gptq = CliRun.of("quantize", "--model", model(), "--out", "/tmp/x.gguf", "--preset", "w4a16-gptq-g128");
        assertEquals(1, gptq.exitCode());
        assertTrue(gptq.err().startsWith("jquant: --method gptq needs calibration text"), gptq.err());
        CliRun kv = CliRun.of("perplexity", "--model", model(), "--file", text(), "--kv-cache", "q5_0");
        assertEquals(1, kv.exitCode());
        assertEquals("jquant: unknown KV cache type 'q5_0'; known: f32, f16, q8_0, q4_0", kv.err().strip());
        CliRun calib = CliRun.of("quantize", "--model", model(), "--out", "/tmp/x.gguf", "--method", "smoothquant");
        assertEquals("jquant: this method needs calibration text: --calib FILE", calib.err().strip());
    }
}
