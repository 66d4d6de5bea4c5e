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
    void otherBaseFormatsUseLlamaCppsBlockFallbacks() {
        Path base = dir.resolve("q4k-base.gguf");
        CliRun r = CliRun.of("finetune", "-q", "-m", SharedData.stories260k().toString(), "--data", data.toString(),
                "--out", dir.resolve("q4k-adapter").toString(), "--base-format", "q4_k", "--base-out", base.toString(),
                "--steps", "1", "--batch", "1", "--seq", "16", "--lora-rank", "1");
        assertEquals(0, r.exitCode(), r.err());
        try (Checkpoint b = JQuant.load(base)) {
            // rows of 64 and 172 are not multiples of Q4_K's 256: smaller blocks, as llama.cpp falls back
            dev.jquant.format.Format q4k = dev.jquant.format.Formats.byName("Q4_K");
            assertEquals(dev.jquant.quantize.BlockFallback.forColumns(q4k, 64), b.tensor("blk.0.attn_q.weight").format());
            assertEquals(dev.jquant.quantize.BlockFallback.forColumns(q4k, 172), b.tensor("blk.0.ffn_down.weight").format());
            assertTrue(b.tensor("blk.0.attn_q.weight").format().bitsPerWeight() < 6, b.tensor("blk.0.attn_q.weight").toString());
            assertEquals("F32", b.tensor("token_embd.weight").format().name());
        }
        r = CliRun.of("finetune", "-q", "-m", SharedData.stories260k().toString(), "--data", data.toString(),
                "--out", dir.resolve("int4-adapter").toString(), "--base-format", "int4", "--steps", "1", "--batch", "1",
                "--seq", "16");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("base INT4_G64_SYM_F16"), r.err());
    }

    @Test
    void instructionPairsTrainWithAChatTemplateFile() throws Exception {
        Path jsonl = dir.resolve("pairs.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append("{\"instruction\": \"Tell a story about number ").append(i)
                    .append(".\", \"response\": \"Once upon a time there were ").append(i).append(" cats.\"}\n");
        }
        Files.writeString(jsonl, sb.toString());
        Path template = dir.resolve("template.jinja");
        Files.writeString(template, "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>{% endif %}");
        Path out = dir.resolve("chat-adapter");
        CliRun r = CliRun.of("finetune", "-q", "-m", SharedData.stories260k().toString(), "--data", jsonl.toString(),
                "--out", out.toString(), "--chat-template", template.toString(), "--steps", "3", "--batch", "2",
                "--seq", "48", "--lora-rank", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("20 of 20 instruction pairs (chat template)"), r.err());
        assertTrue(Files.exists(out.resolve(PeftAdapterFiles.WEIGHTS)));
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
        assertOneLine(CliRun.of("finetune", "-m", model, "--data", data.toString(), "--out", dir.resolve("x").toString(),
                "--base-format", "q4_k", "--double-quant"), "apply to --base-format nf4");
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
