package dev.jquant.eval.compare;

import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The int8 and integer-grid methods as {@code jquant compare} rows on stories260K (4 chunks of 128
 * tokens of tinystories-dev, calibrated on the text after them): each runs, writes a model the
 * runtime loads, and lands where it should against its round-to-nearest partner.
 */
class CalibratedCandidatesTest {
    @TempDir
    static Path out;
    private static Map<String, ConfigResult> rows;

    @BeforeAll
    static void compare() {
        List<CandidateCatalog.Entry> entries = CandidateCatalog.resolve(List.of("w8a8", "smoothquant", "int8-outlier"),
                List.of(8), List.of());
        entries = new java.util.ArrayList<>(entries);
        entries.addAll(CandidateCatalog.resolve(List.of("int", "hqq", "feedback"), List.of(3), List.of()));
        Path text = SharedData.file("tinystories/tinystories-dev.txt");
        Comparison.Options options = new Comparison.Options(128, 4, 1, 0, 0, null, false, List.of(), null);
        ComparisonResult result = Comparison.run(SharedData.stories260k(), text, text, out, entries, options,
                new Comparison.Listener() {
                    public void stage(String configuration, String stage, int total) {
                    }

                    public void step(int done, String detail) {
                    }

                    public void configurationDone(ConfigResult r, int index, int total) {
                    }
                });
        rows = result.rows().stream().collect(Collectors.toMap(ConfigResult::name, r -> r));
    }

    @Test
    void everyMethodRunsAndItsModelIsEvaluated() {
        assertEquals(6, rows.size());
        for (ConfigResult r : rows.values()) {
            assertEquals("ok", r.status(), r.name() + ": " + r.message());
            assertTrue(r.kldMean() > 0 && Double.isFinite(r.ppl()), r.name());
        }
    }

    @Test
    void int8RowsAreFarCloserToTheReferenceThanThreeBitOnes() {
        for (String int8 : List.of("w8a8", "smoothquant-w8a8", "int8-outlier-w8a8")) {
            assertTrue(rows.get(int8).kldMean() < rows.get("int-int3_g32_asym_f16").kldMean() / 5,
                    int8 + " " + rows.get(int8).kldMean());
        }
    }

    @Test
    void feedbackAndHqqImproveOnRoundToNearestOnTheSameGrid() {
        double rtn = rows.get("int-int3_g32_asym_f16").kldMean();
        assertTrue(rows.get("feedback-int3_g32_asym_f16").kldMean() < rtn, rows.get("feedback-int3_g32_asym_f16").kldMean() + " vs " + rtn);
        assertTrue(rows.get("hqq-int3_g32_asym_f16").kldMean() < rtn, rows.get("hqq-int3_g32_asym_f16").kldMean() + " vs " + rtn);
        assertEquals(rows.get("int-int3_g32_asym_f16").fileBytes(), rows.get("hqq-int3_g32_asym_f16").fileBytes(), 4096,
                "same grid, same size");
    }

    @Test
    void perLayerErrorsOnlyWhereTheStoredWeightsStandForTheOriginalOnes() {
        List<String> smoothed = rows.get("smoothquant-w8a8").layers().stream().map(LayerErrors.TensorError::tensor).toList();
        assertTrue(!smoothed.isEmpty() && smoothed.stream().allMatch(n -> n.endsWith("attn_output.weight")
                || n.endsWith("ffn_down.weight")), smoothed.toString());
        assertEquals(7 * 5, rows.get("w8a8").layers().size(), "stories260K: 5 blocks of 7 linears");
        assertTrue(rows.get("hqq-int3_g32_asym_f16").layers().stream().allMatch(t -> t.weightError() < 0.5));
    }
}
