package dev.jquant.eval.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.JQuant;
import dev.jquant.eval.Perplexity;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a small comparison on stories260K measured ({@link SmallComparison}). */
class ComparisonTest {
    static ComparisonResult result;
    static Path out;
    static Path text;

    @BeforeAll
    static void compare() {
        result = SmallComparison.result();
        out = SmallComparison.out();
        text = SmallComparison.text();
    }

    private static ConfigResult row(String name) {
        return result.rows().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void everyRequestedConfigurationIsARowAndFailuresAreNotFatal() {
        Map<String, String> status = result.rows().stream().collect(Collectors.toMap(ConfigResult::name, ConfigResult::status));
        assertEquals(Map.of("rtn-q8_0", "ok", "rtn-q2_k", "ok", "nf4-8-bit", "unavailable", "nf4-2-bit", "unavailable",
                "broken-4", "failed"), status);
        assertTrue(row("broken-4").message().contains("boom"));
        List<ConfigResult> ok = result.rows().stream().filter(ConfigResult::ok).toList();
        assertEquals(List.of("rtn-q2_k", "rtn-q8_0"), ok.stream().map(ConfigResult::name).toList(), "sorted by size");
        assertTrue(ok.get(0).fileBytes() < ok.get(1).fileBytes());
        assertTrue(row("rtn-q2_k").onFrontier() && row("rtn-q8_0").onFrontier());
        assertFalse(Files.exists(out.resolve("models")), "quantized models are deleted unless kept");
    }

    @Test
    void fewerBitsCostMoreAndTheReferenceIsThePlainPerplexity() throws Exception {
        ConfigResult q8 = row("rtn-q8_0");
        ConfigResult q2 = row("rtn-q2_k");
        assertTrue(q8.kldMean() < q2.kldMean() / 10, q8.kldMean() + " vs " + q2.kldMean());
        assertTrue(q8.kldMean() > 0);
        assertTrue(q8.sameTopPct() > q2.sameTopPct());
        try (Checkpoint fp = JQuant.load(SharedData.stories260k())) {
            int[] tokens = fp.tokenizer().encode(Files.readString(text), true, false);
            double ppl = Perplexity.compute(new Transformer(fp), tokens, 128, 2, 1, null, null).ppl();
            assertEquals(ppl, result.reference().ppl(), 1e-9);
            // Q8_0 barely moves perplexity; the saved 16-bit reference costs about 1e-5 in KL
            assertEquals(ppl, q8.ppl(), ppl * 0.01);
        }
        assertEquals(2 * 63, result.tokensScored());
    }

    @Test
    void perLayerErrorsGrowWithFewerBitsAndOutputErrorsNeedInputs() {
        Map<String, LayerErrors.TensorError> q8 = row("rtn-q8_0").layers().stream()
                .collect(Collectors.toMap(LayerErrors.TensorError::tensor, t -> t));
        Map<String, LayerErrors.TensorError> q2 = row("rtn-q2_k").layers().stream()
                .collect(Collectors.toMap(LayerErrors.TensorError::tensor, t -> t));
        LayerErrors.TensorError a8 = q8.get("blk.1.attn_q.weight");
        LayerErrors.TensorError a2 = q2.get("blk.1.attn_q.weight");
        assertTrue(a8.weightError() > 0 && a8.weightError() < a2.weightError() / 4, a8 + " " + a2);
        assertTrue(a8.outputError() > 0 && a8.outputError() < a2.outputError(), a8 + " " + a2);
        assertTrue(Double.isNaN(q8.get("token_embd.weight").outputError()), "no recorded input for the embeddings");
        assertTrue(Double.isFinite(q8.get("blk.4.ffn_down.weight").outputError()));
        assertEquals("F16", q8.get("blk.4.ffn_down.weight").format(), "172 columns fit no 32-block: F16 fallback");
    }

    @Test
    void activationProbeFindsEveryLinearInput() {
        assertEquals(5 * 4, result.activations().size());
        ActivationProbe.Site down = result.activations().get("blk.0.ffn_down.weight");
        assertEquals(172, down.width());
        assertEquals(64, down.sample().length);
        assertEquals(64, result.inputWeightAbsMax().get("blk.0.attn_q.weight").length);
        for (float m : down.channelAbsMax()) {
            assertTrue(m >= 0 && Float.isFinite(m));
        }
    }

    @Test
    void resultFilesAgreeWithTheRun() throws Exception {
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(5, json.get("configurations").size());
        assertEquals(result.reference().ppl(), json.get("reference").get("ppl").asDouble(), 1e-12);
        JsonNode first = json.get("configurations").get(0);
        assertEquals("rtn-q2_k", first.get("name").asText());
        assertTrue(first.get("layers").size() > 30);
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(1 + 1 + 5, csv.size());
        assertTrue(csv.get(1).startsWith("reference,none,F32,ok,"));
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| * | rtn-q8_0 |") && md.contains("unavailable: only 4-bit"), md);
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")));
        }
    }

}
