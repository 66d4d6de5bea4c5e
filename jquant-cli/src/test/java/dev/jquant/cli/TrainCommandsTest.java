package dev.jquant.cli;

import dev.jquant.JQuant;
import dev.jquant.model.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gen-corpus, train-tokenizer and train end to end on a tiny model, and the result runs like any model. */
class TrainCommandsTest {
    @TempDir
    Path dir;

    @Test
    void corpusTokenizerTrainResumeGenerate() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Path tok = dir.resolve("tok.gguf");
        Path config = dir.resolve("tiny.json");
        Path out = dir.resolve("tiny.gguf");
        assertRuns("gen-corpus", "--out", corpus.toString(), "--stories", "60", "--seed", "3");
        assertRuns("train-tokenizer", "--data", corpus.toString(), "--vocab-size", "320", "--out", tok.toString());
        Files.writeString(config, """
                {"dim": 32, "ffnDim": 64, "layers": 1, "heads": 2, "kvHeads": 1, "tokenizer": "tok.gguf",
                 "seq": 16, "batch": 2, "steps": 4, "lr": 0.01, "warmup": 1, "checkpointEvery": 2}
                """);
        assertRuns("train", "-q", "--config", config.toString(), "--data", corpus.toString(),
                "--out", out.toString(), "--steps", "2");
        assertRuns("train", "-q", "--config", config.toString(), "--data", corpus.toString(),
                "--out", out.toString(), "--resume");
        assertEquals(5, Files.readAllLines(dir.resolve("tiny.gguf.loss.csv")).size(), "header and four steps");
        try (Checkpoint c = JQuant.load(out)) {
            assertEquals(320, c.config().vocabSize());
            assertEquals(32, c.config().dim());
            assertTrue(c.tokenizer().encode("Once upon a time", true, false).length > 2);
        }
        assertRuns("generate", "-m", out.toString(), "-n", "5", "--temperature", "0");
    }

    private static void assertRuns(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void badConfigIsOneLine() throws Exception {
        Path config = dir.resolve("bad.json");
        Files.writeString(config, "{\"dim\": 32, \"layerz\": 2}");
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "Once upon a time.\n");
        CliRun r = CliRun.of("train", "--config", config.toString(), "--data", corpus.toString(),
                "--out", dir.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("jquant: ") && r.err().contains("unknown key 'layerz'") && r.err().lines().count() == 1, r.err());
    }

    @Test
    void qatLsqAndActivationBitsRefuseWhatTheyCannotDo() throws Exception {
        Path corpus = dir.resolve("c2.txt");
        Files.writeString(corpus, "Once upon a time there was a cat.\n\nThe cat sat on a mat and was happy.\n".repeat(40));
        String model = dev.jquant.testing.SharedData.stories260k().toString();
        CliRun r = CliRun.of("qat", "-q", "-m", model, "--data", corpus.toString(), "--out", dir.resolve("q.gguf").toString(),
                "--act-bits", "1");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--act-bits must be 0 (off) or 2..16") && r.err().strip().lines().count() == 1, r.err());
        r = CliRun.of("qat", "-q", "-m", model, "--data", corpus.toString(), "--out", dir.resolve("q.gguf").toString(),
                "--lsq", "--format", "Q8_0", "--steps", "1");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--lsq learns the scales of integer formats") && r.err().strip().lines().count() == 1, r.err());
        r = CliRun.of("qat", "-q", "-m", model, "--data", corpus.toString(), "--out", dir.resolve("q.gguf").toString(),
                "--lsq", "--act-bits", "8", "--bits", "2", "--group", "32", "--steps", "2", "--batch", "2", "--seq", "16");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("INT2_G32_ASYM_F16 LSQ A8"), r.err());
    }
}
