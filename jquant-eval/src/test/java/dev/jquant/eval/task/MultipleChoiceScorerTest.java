package dev.jquant.eval.task;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.eval.Distributions;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import dev.jquant.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultipleChoiceScorerTest {

    @Test
    void logLikelihoodIsTheSumOverTheContinuationOfAFullForwardPass() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Transformer model = new Transformer(c);
            Tokenizer tok = c.tokenizer();
            MultipleChoiceItem item = new MultipleChoiceItem("Once upon a time, there was a little girl named Lily. She ",
                    List.of("loved to play outside.", "was a big red ball of purple."), 0);
            double[] ll = MultipleChoiceScorer.logLikelihoods(model, tok, item);
            for (int k = 0; k < 2; k++) {
                // lm-eval's split: the context's trailing space moves to the continuation.
                int[] ctx = tok.encode(item.context().stripTrailing(), true, false);
                int[] whole = tok.encode(item.context() + item.choices().get(k), true, false);
                float[][] logits = model.newSession(whole.length).prefill(whole);
                double expected = 0;
                for (int t = ctx.length; t < whole.length; t++) {
                    expected += Distributions.logSoftmax(logits[t - 1])[whole[t]];
                }
                assertEquals(expected, ll[k], 1e-3, "choice " + k);
            }
            assertTrue(ll[0] > ll[1], "the fluent continuation is likelier: " + ll[0] + " vs " + ll[1]);
        }
    }

    @Test
    void storiesModelPicksTheRightNextSentenceFarAboveChance(@TempDir Path dir) throws Exception {
        String text = Files.readString(SharedData.file("tinystories/tinystories-dev.txt"));
        Path jsonl = dir.resolve("cloze.jsonl");
        ClozeItems.writeJsonl(ClozeItems.fromText(text, 40, 4, 7), jsonl);
        List<MultipleChoiceItem> items = MultipleChoiceTasks.read(jsonl);
        assertEquals(40, items.size());
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            MultipleChoiceScorer.Result r = MultipleChoiceScorer.score(new Transformer(c), c.tokenizer(), items, null);
            assertEquals(40, r.items());
            // chance is 0.25; a story model that follows the plot does much better
            assertTrue(r.accuracy() > 0.5, "acc " + r.accuracy());
            assertTrue(r.accuracyNorm() > 0.5, "acc_norm " + r.accuracyNorm());
            assertEquals(Math.sqrt(r.accuracy() * (1 - r.accuracy()) / 39), r.accStderr(), 1e-12);
            int correct = 0;
            for (int i = 0; i < items.size(); i++) {
                double[] ll = r.logLikelihoods()[i];
                int best = 0;
                for (int k = 1; k < ll.length; k++) {
                    best = ll[k] > ll[best] ? k : best;
                }
                correct += best == items.get(i).label() ? 1 : 0;
            }
            assertEquals(correct / 40.0, r.accuracy(), 1e-12);
        }
    }

    @Test
    void malformedLinesNameTheFileAndLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"label\": 1}\n\n{\"context\": \"a\", \"choices\": [\"b\"], \"label\": 0}\n");
        JQuantException e = assertThrows(JQuantException.class, () -> MultipleChoiceTasks.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:3") && e.getMessage().contains("at least two"), e.getMessage());
        Files.writeString(f, "{\"context\": 1}\n");
        e = assertThrows(JQuantException.class, () -> MultipleChoiceTasks.read(f));
        assertTrue(e.getMessage().contains("expected {"), e.getMessage());
        Files.writeString(f, "not json\n");
        e = assertThrows(JQuantException.class, () -> MultipleChoiceTasks.read(f));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void continuationIsCutAtTheContextsTokenCount() {
        assertArrayEquals(new int[] {7, 8}, MultipleChoiceScorer.continuation(new int[] {1, 5}, new int[] {1, 6, 7, 8}));
        assertThrows(JQuantException.class, () -> MultipleChoiceScorer.continuation(new int[] {1, 5}, new int[] {1, 5}));
    }
}
