package dev.jquant.eval.compare;

import dev.jquant.JQuantException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CandidateCatalogTest {

    @Test
    void methodsTimesBitsThenFormatsWithoutDuplicates() {
        List<CandidateCatalog.Entry> e = CandidateCatalog.resolve(List.of("rtn", "nf4", "RTN"), List.of(8, 4, 7), List.of("Q4_K", "IQ4_NL"));
        List<String> names = e.stream().map(CandidateCatalogTest::label).toList();
        assertEquals(List.of("rtn-q8_0", "rtn-q4_k", "rtn@7-bit", "nf4@8-bit", "nf4-nf4", "nf4@7-bit", "rtn-iq4_nl"), names);
        CandidateCatalog.Unavailable seven = assertInstanceOf(CandidateCatalog.Unavailable.class, e.get(2));
        assertTrue(seven.reason().contains("7 bits"), seven.reason());
        assertInstanceOf(CandidateCatalog.Unavailable.class, e.get(3));
    }

    private static String label(CandidateCatalog.Entry x) {
        return x instanceof CandidateCatalog.Planned p ? p.candidate().name() : x.method() + "@" + x.setting();
    }

    @Test
    void theInt8AndIntegerGridMethodsAreRealCandidates() {
        List<CandidateCatalog.Entry> e = CandidateCatalog.resolve(
                List.of("w8a8", "smoothquant", "int8-outlier", "hqq", "feedback"), List.of(8, 4), List.of());
        assertEquals(List.of("w8a8", "w8a8@4-bit", "smoothquant-w8a8", "smoothquant@4-bit", "int8-outlier-w8a8",
                "int8-outlier@4-bit", "hqq-int8_g32_asym_f16", "hqq-int4_g32_asym_f16", "feedback-int8_g32_asym_f16",
                "feedback-int4_g32_asym_f16"), e.stream().map(CandidateCatalogTest::label).toList());
        assertInstanceOf(Int8Candidate.class, ((CandidateCatalog.Planned) e.get(2)).candidate());
        IntGridCandidate hqq = assertInstanceOf(IntGridCandidate.class, ((CandidateCatalog.Planned) e.get(7)).candidate());
        assertEquals("INT4_G32_ASYM_F16", hqq.setting());
        assertTrue(((CandidateCatalog.Unavailable) e.get(3)).reason().contains("only 8-bit"));
        assertFalse(CandidateCatalog.methodNames().isEmpty());
        for (String m : CandidateCatalog.methodNames()) {
            // every listed method runs at some width: nothing is listed only to be refused
            boolean runs = CandidateCatalog.resolve(List.of(m), List.of(2, 3, 4, 5, 6, 8), List.of()).stream()
                    .anyMatch(x -> x instanceof CandidateCatalog.Planned);
            assertTrue(runs, m);
        }
    }

    @Test
    void unknownMethodsAndFormatsAreUserErrors() {
        JQuantException m = assertThrows(JQuantException.class, () -> CandidateCatalog.resolve(List.of("magic"), List.of(4), List.of()));
        assertTrue(m.getMessage().startsWith("--methods: unknown method 'magic'; known: rtn"), m.getMessage());
        JQuantException f = assertThrows(JQuantException.class, () -> CandidateCatalog.resolve(List.of(), List.of(4), List.of("Q9_Z")));
        assertTrue(f.getMessage().startsWith("--formats: "), f.getMessage());
    }

    @Test
    void paretoFrontierKeepsOnlyUndominatedRows() {
        ConfigResult small = row("small", 100, 0.1);
        ConfigResult big = row("big", 200, 0.01);
        ConfigResult worse = row("worse", 150, 0.2);
        ConfigResult failed = ConfigResult.notRun("x", "rtn", "Q4_K", "failed", "boom");
        List<ConfigResult> marked = Pareto.mark(List.of(small, big, worse, failed));
        assertEquals(List.of(true, true, false, false), marked.stream().map(ConfigResult::onFrontier).toList());
    }

    private static ConfigResult row(String name, long bytes, double kld) {
        return new ConfigResult(name, "rtn", name, "ok", "", bytes, 4, 4, 5, 0.1, kld, kld, 90, 0.01, 1, 1, bytes, 0,
                Double.NaN, Double.NaN, false, List.of());
    }
}
