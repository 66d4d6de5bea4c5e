package dev.jquant.train;

import dev.jquant.io.gguf.GgufFile;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;
import dev.jquant.train.corpus.StoryGenerator;
import dev.jquant.train.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir
    static Path dir;
    static Path vocabFile;
    static int[] tokens;

    @BeforeAll
    static void data() {
        String text = StoryGenerator.corpus(200, 1);
        vocabFile = dir.resolve("tok.gguf");
        BpeTrainer.train(text, 300).writeGguf(vocabFile);
        try (GgufFile g = GgufFile.open(vocabFile)) {
            Tokenizer tok = Tokenizers.fromGguf(g);
            tokens = Pretraining.encodeDocuments(tok, text);
        }
    }

    static ModelConfig tiny() {
        return new ModelConfig("llama", 32, 64, 2, 4, 2, 8, 300, 32, 1e-5f, 10000f, RopeStyle.ADJACENT_PAIRS, null,
                false, false, true);
    }

    static Trainer.Options options(int steps) {
        return new Trainer.Options(4, 32, 2, steps, new LearningRate(1e-2f, 1e-3f, 3, steps), 0.1f, 0.9f, 0.95f, 1e-8f,
                1f, 42, 0);
    }

    @Test
    void lossFallsFromUniformTowardsTheText() {
        Trainer t = Trainer.start(Parameters.initialize(tiny(), 1), tokens, options(40));
        double[] losses = new double[41];
        t.run(40, s -> losses[s.step()] = s.loss(), null);
        assertEquals(Math.log(300), losses[1], 0.1, "a fresh model predicts about uniformly");
        assertTrue(losses[40] < 4.0, "loss after 40 steps: " + losses[40]);
    }

    @Test
    void resumingFromACheckpointContinuesExactly() throws Exception {
        Trainer straight = Trainer.start(Parameters.initialize(tiny(), 1), tokens, options(6));
        straight.run(6, null, null);
        Path ckpt = dir.resolve("run.ckpt.gguf");
        Path csv = dir.resolve("run.csv");
        Trainer first = Trainer.start(Parameters.initialize(tiny(), 1), tokens, options(6));
        try (GgufFile vocab = GgufFile.open(vocabFile)) {
            first.run(3, null, () -> {
                first.saveCheckpoint(ckpt, vocab, "test");
                first.saveLossCurve(csv);
            });
        }
        Trainer resumed = Trainer.resume(ckpt, csv, tokens, options(6));
        assertEquals(3, resumed.step());
        resumed.run(6, null, null);
        for (String name : straight.parameters().names()) {
            assertArrayEquals(straight.parameters().get(name), resumed.parameters().get(name), name);
        }
        resumed.saveLossCurve(csv);
        List<String> rows = Files.readAllLines(csv);
        assertEquals("step,loss,lr,grad_norm,tokens_per_s", rows.getFirst());
        assertEquals(7, rows.size());
        assertTrue(rows.get(6).startsWith("6,"), rows.get(6));
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int threads = Parallel.get().threads();
        try {
            Parallel.setThreads(1);
            Trainer one = Trainer.start(Parameters.initialize(tiny(), 5), tokens, options(3));
            one.run(3, null, null);
            Parallel.setThreads(3);
            Trainer three = Trainer.start(Parameters.initialize(tiny(), 5), tokens, options(3));
            three.run(3, null, null);
            for (String name : one.parameters().names()) {
                assertArrayEquals(one.parameters().get(name), three.parameters().get(name), name);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void scheduleWarmsUpThenDecaysToTheMinimum() {
        LearningRate lr = new LearningRate(1f, 0.1f, 4, 13);
        assertEquals(0.25f, lr.at(0));
        assertEquals(1f, lr.at(3));
        assertEquals(1f, lr.at(4));
        assertEquals(0.55f, lr.at(8), 1e-6f);
        assertEquals(0.1f, lr.at(12), 1e-6f);
    }

    @Test
    void adamWFirstStepMovesEachWeightByTheRateAndDecaysMatricesOnly() {
        ModelConfig c = tiny();
        Parameters p = Parameters.initialize(c, 2);
        Parameters g = Parameters.zeros(c);
        String matrix = "blk.0.attn_q.weight";
        String norm = "blk.0.attn_norm.weight";
        g.get(matrix)[0] = 0.5f;
        g.get(matrix)[1] = -2f;
        g.get(norm)[0] = 3f;
        float w0 = p.get(matrix)[0];
        float w1 = p.get(matrix)[1];
        float w2 = p.get(matrix)[2];
        new AdamW(c, 0.9f, 0.95f, 1e-8f, 0.1f).step(p, g, 0.01f);
        // after bias correction the first update is lr * sign(g), plus lr * decay * w for matrices
        assertEquals(w0 - 0.01f - 0.001f * w0, p.get(matrix)[0], 1e-6f);
        assertEquals(w1 + 0.01f - 0.001f * w1, p.get(matrix)[1], 1e-6f);
        assertEquals(w2 - 0.001f * w2, p.get(matrix)[2], 1e-7f);
        assertEquals(1f - 0.01f, p.get(norm)[0], 1e-6f);
        assertEquals(1f, p.get(norm)[1]);
    }
}
