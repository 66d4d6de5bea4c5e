package dev.jquant.generate;

import dev.jquant.JQuantException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 0.5f, 2.9f};

    private static int[] drawMany(SamplingParams p, int n) {
        Sampler s = new Sampler(p);
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < n; i++) {
            counts[s.sample(LOGITS, new int[0], 0)]++;
        }
        return counts;
    }

    @Test
    void greedyTakesTheArgmax() {
        assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(LOGITS, new int[0], 0));
    }

    @Test
    void repetitionPenaltyCanChangeTheGreedyChoice() {
        SamplingParams p = new SamplingParams(0, 0, 1, 0, 1.5f, 64, 0);
        assertEquals(5, new Sampler(p).sample(LOGITS, new int[] {1}, 1), "3.0/1.5 = 2.0 < 2.9");
    }

    @Test
    void topKOneIsGreedy() {
        int[] counts = drawMany(new SamplingParams(1.5f, 1, 1, 0, 1, 64, 7), 200);
        assertEquals(200, counts[1]);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // probabilities at T=1: token 1 ~0.36, 5 ~0.33, 2 ~0.22: top-p 0.5 keeps {1, 5}
        int[] counts = drawMany(new SamplingParams(1, 0, 0.5f, 0, 1, 64, 3), 2000);
        assertEquals(2000, counts[1] + counts[5]);
        assertTrue(counts[1] > 700 && counts[5] > 700, "both nucleus tokens drawn: " + java.util.Arrays.toString(counts));
    }

    @Test
    void minPDropsUnlikelyTokens() {
        int[] counts = drawMany(new SamplingParams(1, 0, 1, 0.5f, 1, 64, 5), 2000);
        // min-p 0.5 × p(1): keeps 1, 5, 2 (p(2)/p(1) = e^-0.5 = 0.61), drops 0, 3, 4
        assertEquals(0, counts[0] + counts[3] + counts[4]);
        assertTrue(counts[2] > 0);
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        int n = 20000;
        int[] counts = drawMany(new SamplingParams(1, 0, 1, 0, 1, 64, 11), n);
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i]) / z;
            assertEquals(p, counts[i] / (double) n, 4 * Math.sqrt(p * (1 - p) / n) + 1e-3, "token " + i);
        }
    }

    @Test
    void theSameSeedGivesTheSameDraws() {
        SamplingParams p = new SamplingParams(1, 0, 1, 0, 1, 64, 99);
        assertEquals(java.util.Arrays.toString(drawMany(p, 50)), java.util.Arrays.toString(drawMany(p, 50)));
        Set<String> differentSeeds = new HashSet<>();
        for (long seed = 0; seed < 5; seed++) {
            differentSeeds.add(java.util.Arrays.toString(drawMany(new SamplingParams(1, 0, 1, 0, 1, 64, seed), 50)));
        }
        assertTrue(differentSeeds.size() > 1);
    }

    @Test
    void invalidSettingsAreRejectedWithTheirNames() {
        JQuantException e = assertThrows(JQuantException.class, () -> new SamplingParams(1, 0, 1.5f, 0, 1, 64, 0));
        assertTrue(e.getMessage().contains("top-p 1.5"), e.getMessage());
        assertThrows(JQuantException.class, () -> new SamplingParams(-1, 0, 1, 0, 1, 64, 0));
    }
}
