package dev.jquant.cli;

import dev.jquant.JQuant;
import dev.jquant.io.peft.PeftAdapterFiles;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.KvCacheType;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** finetune, --lora at run time and merge end to end on stories260K, and their errors as one line. */
class LoraCommandsTest {
    @TempDir
    static Path dir;
    static Path adapter;
    static Path data;

    @BeforeAll
    static void finetune() throws Exception {
        data = dir.resolve("shakes.txt");
        Files.writeString(data, Files.readString(SharedData.file("tinyshakespeare/input.txt")).substring(0, 50_000));
        adapter = dir.resolve("adapter");
        CliRun r = CliRun.of("finetune", "-q", "-m", SharedData.stories260k().toString(), "--data", data.toString(),
                "--out", adapter.toString(), "--steps", "3", "--batch", "2", "--seq", "32", "--lora-rank", "2",
                "--targets", "q,v,down", "--lr", "1e-2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("trainable parameters: ") && r.err().contains("full fine-tuning"), r.err());
    }

    @Test
    void adapterRunsAtRunTimeAndMergesIntoTheSameModel() {
        Path merged = dir.resolve("merged.gguf");
        CliRun m = CliRun.of("merge", "-m", SharedData.stories260k().toString(), "--lora", adapter.toString(), "--out",
                merged.toString());
        assertEquals(0, m.exitCode(), m.err());
        try (Checkpoint base = JQuant.load(SharedData.stories260k()); Checkpoint mc = JQuant.load(merged)) {
            int[] tokens = base.tokenizer().encode("Once upon a time", true, false);
            float[][] runTime = new Transformer(base, KvCacheType.F32, PeftAdapterFiles.read(adapter, base.config()))
                    .newSession(16).prefill(tokens);
            float[][] fromMerged = new Transformer(mc).newSession(16).prefill(tokens);
            float[][] plain = new Transformer(base).newSession(16).prefill(tokens);
            double moved = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < plain[t].length; v++) {
                    assertEquals(runTime[t][v], fromMerged[t][v], 1e-3, "position " + t);
                    moved = Math.max(moved, Math.abs(plain[t][v] - runTime[t][v]));
                }
            }
            assertTrue(moved > 1e-3, "the adapter changes the logits by " + moved);
        }
        CliRun q = CliRun.of("merge", "-m", SharedData.stories260k().toString(), "--lora", adapter.toString(), "--out",
                dir.resolve("merged-q8.gguf").toString(), "--format", "Q8_0");
        assertEquals(0, q.exitCode(), q.err());
        CliRun g = CliRun.of("generate", "-m", SharedData.stories260k().toString(), "--lora", adapter.toString(), "-n", "4",
                "--temperature", "0");
        assertEquals(0, g.exitCode(), g.err());
        CliRun p = CliRun.of("perplexity", "-m", SharedData.stories260k().toString(), "--lora", adapter.toString(), "-f",
                data.toString(), "--chunks", "1", "-c", "64", "--json");
        assertEquals(0, p.exitCode(), p.err());
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String model = SharedData.stories260k().toString();
        assertOneLine(CliRun.of("generate", "-m", model, "--lora", dir.resolve("none").toString(), "-n", "2"),
                "no such adapter directory");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertOneLine(CliRun.of("perplexity", "-m", model, "--lora", empty.toString(), "-f", data.toString()),
                "adapter_config.json is missing");
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", data.toString(), "--out", dir.resolve("x").toString(),
                "--targets", "q,w"), "unknown LoRA target module 'w'");
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", data.toString(), "--out", dir.resolve("x").toString(),
                "--lora-rank", "0"), "--lora-rank must be at least 1");
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", data.toString(), "--out", dir.resolve("x").toString(),
                "--base-format", "q9_z"), "unknown format 'Q9_Z'");
        Path jsonl = dir.resolve("bad.jsonl");
        Files.writeString(jsonl, "{\"instruction\": \"hi\"}\n");
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", jsonl.toString(), "--out", dir.resolve("x").toString()),
                "line 1: needs a prompt");
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", jsonl.toString(), "--out", dir.resolve("x").toString(),
                "--chat-template"), "has no chat template");
        // an adapter for another model: shapes do not match
        Path other = dir.resolve("other.gguf");
        dev.jquant.model.SyntheticModels.writeGguf(dev.jquant.model.SyntheticModels.preset("mistral"), 1, other);
        assertOneLine(CliRun.of("merge", "-m", other.toString(), "--lora", adapter.toString(), "--out",
                dir.resolve("y.gguf").toString()), "the model has 2");
        assertTrue(Files.notExists(dir.resolve("y.gguf")), "nothing written");
    }

    private static void assertOneLine(CliRun r, String fragment) {
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("jquant: ") && r.err().contains(fragment) && r.err().strip().lines().count() == 1,
                "'" + fragment + "' in: " + r.err());
    }
}
