package dev.jquant.eval;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.BF16;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import dev.jquant.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QualityComparisonTest {
    private static int[] tokens(int n, long seed) {
        Random rnd = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + rnd.nextInt(500);
        }
        return t;
    }

    @Test
    void aModelAgainstItselfHasZeroDivergence() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Transformer m = new Transformer(c);
            QualityComparison.Result r = QualityComparison.compare(m, new QualityComparison.LiveReference(m),
                    tokens(200, 1), 64, 0, 1, null, null);
            assertEquals(0, r.kldMean(), 1e-9);
            assertEquals(100, r.sameTopPct(), 1e-9);
            assertEquals(1, r.pplReference() / r.ppl(), 1e-6, "vector reductions may reorder between JIT tiers");
            assertEquals(3 * 31, r.tokensScored());
            double ppl = Perplexity.compute(m, tokens(200, 1), 64, 0, 1, null, null).ppl();
            assertEquals(1, ppl / r.ppl(), 1e-6, "the same perplexity as the perplexity command");
        }
    }

    @Test
    void bf16WeightsDivergeSlightlyAndASavedReferenceGivesTheSameNumbers(@TempDir Path dir) {
        try (Checkpoint f32 = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            Transformer ref = new Transformer(f32);
            Transformer bf16 = new Transformer(TestModels.convert(f32, BF16.INSTANCE, arena));
            int[] toks = tokens(300, 2);
            Path saved = dir.resolve("ref.logp");
            QualityComparison.Result live;
            try (ReferenceLogProbs.Writer w = new ReferenceLogProbs.Writer(saved, 64, 4, 512)) {
                live = QualityComparison.compare(bf16, new QualityComparison.LiveReference(ref), toks, 64, 4, 1, w, null);
                w.commit();
            }
            assertTrue(live.kldMean() > 0 && live.kldMean() < 1e-3, "BF16 KLD " + live.kldMean());
            assertTrue(live.sameTopPct() > 95);
            assertTrue(live.kldMax() >= live.kldP99() && live.kldP99() >= live.kldP90() && live.kldP90() >= live.kldMedian());
            try (ReferenceLogProbs file = ReferenceLogProbs.open(saved)) {
                QualityComparison.Result fromFile = QualityComparison.compare(bf16,
                        new QualityComparison.SavedReference(file), toks, 64, 4, 1, null, null);
                assertEquals(live.kldMean(), fromFile.kldMean(), 2e-5);
                assertEquals(1, live.pplReference() / fromFile.pplReference(), 1e-4);
                assertEquals(1, live.ppl() / fromFile.ppl(), 1e-12);
                JQuantException e = assertThrows(JQuantException.class, () -> QualityComparison.compare(bf16,
                        new QualityComparison.SavedReference(file), tokens(300, 3), 64, 4, 1, null, null));
                assertTrue(e.getMessage().contains("different text"), e.getMessage());
            }
        }
    }

    @Test
    void aTruncatedReferenceFileIsRejected(@TempDir Path dir) throws Exception {
        Path saved = dir.resolve("ref.logp");
        try (Checkpoint f32 = JQuant.load(SharedData.stories260k())) {
            Transformer m = new Transformer(f32);
            try (ReferenceLogProbs.Writer w = new ReferenceLogProbs.Writer(saved, 64, 2, 512)) {
                QualityComparison.compare(m, new QualityComparison.LiveReference(m), tokens(200, 4), 64, 2, 1, w, null);
                w.commit();
            }
        }
        byte[] all = Files.readAllBytes(saved);
        Files.write(saved, java.util.Arrays.copyOf(all, all.length - 100));
        JQuantException e = assertThrows(JQuantException.class, () -> ReferenceLogProbs.open(saved));
        assertTrue(e.getMessage().contains("the header implies"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("ref.logp.tmp")));
    }
}
