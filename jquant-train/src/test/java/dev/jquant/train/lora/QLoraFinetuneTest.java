package dev.jquant.train.lora;

import dev.jquant.JQuant;
import dev.jquant.eval.Perplexity;
import dev.jquant.format.NF4;
import dev.jquant.io.peft.PeftAdapterFiles;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.KvCacheType;
import dev.jquant.model.LoraAdapter;
import dev.jquant.model.LoraTarget;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import dev.jquant.tokenizer.ChatTemplate;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.train.Batch;
import dev.jquant.train.LearningRate;
import dev.jquant.train.Trainer;
import dev.jquant.train.TrainingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** QLoRA on the real stories260K: a short run on Shakespeare, and instruction pairs scored on their responses only. */
class QLoraFinetuneTest {
    @TempDir
    Path dir;

    @Test
    void aShortFinetuneOnShakespeareLowersTheLossOfTheNf4Base() throws Exception {
        String text = Files.readString(SharedData.file("tinyshakespeare/input.txt"));
        Path train = dir.resolve("train.txt");
        Path heldOut = dir.resolve("held-out.txt");
        Files.writeString(train, text.substring(0, 200_000));
        Files.writeString(heldOut, text.substring(text.length() - 20_000));
        Path out = dir.resolve("adapter");
        Path base = dir.resolve("base.gguf");
        QLoraModel.Settings s = new QLoraModel.Settings(NF4.DQ, 4, 8f, 0.05f, EnumSet.allOf(LoraTarget.class), 1);
        Trainer.Options opt = new Trainer.Options(4, 64, 1, 12, new LearningRate(5e-3f, 5e-4f, 1, 12), 0f, 0.9f, 0.999f,
                1e-8f, 1f, 1, 0);
        QLoraFinetune.Result r = QLoraFinetune.run(new QLoraFinetune.Job(SharedData.stories260k(), train, out, s, null, base,
                false), opt, null);
        assertEquals(12, r.steps());
        assertTrue(r.lastLoss() < r.firstLoss() - 0.5, "training loss " + r.firstLoss() + " -> " + r.lastLoss());
        assertTrue(r.trainableParameters() < 0.1 * r.totalParameters(), r.trainableParameters() + " of " + r.totalParameters());
        assertTrue(r.memory().total() < r.memory().fullFineTune() / 2, r.memory().toString());
        assertTrue(Files.exists(out.resolve("loss.csv")));

        try (Checkpoint b = JQuant.load(base)) {
            assertEquals("NF4_DQ", b.tensor("blk.0.attn_q.weight").format().name());
            LoraAdapter adapter = PeftAdapterFiles.read(out, b.config());
            assertEquals(r.trainableParameters(), adapter.parameterCount());
            Tokenizer tok = b.tokenizer();
            int[] tokens = tok.encode(Files.readString(heldOut), true, false);
            double before = Perplexity.compute(new Transformer(b), tokens, 128, 8, tok.bos(), null, null).ppl();
            double after = Perplexity.compute(new Transformer(b, KvCacheType.F32, adapter), tokens, 128, 8, tok.bos(), null,
                    null).ppl();
            assertTrue(after < 0.7 * before, "held-out perplexity " + before + " -> " + after);
        }
    }

    @Test
    void instructionPairsScoreOnlyTheirResponses() throws Exception {
        Path jsonl = dir.resolve("pairs.jsonl");
        Files.writeString(jsonl, """
                {"instruction": "Tell a story.", "response": "Once upon a time there was a cat."}

                {"prompt": "Name a colour", "input": "of the sky", "output": "Blue."}
                """);
        List<InstructionData.Pair> pairs = InstructionData.read(jsonl);
        assertEquals(new InstructionData.Pair("Name a colour\n\nof the sky", "Blue."), pairs.get(1));
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Tokenizer tok = c.tokenizer();
            InstructionData.Example alpaca = InstructionData.format(pairs.get(0), tok, null);
            int[] prompt = tok.encode("### Instruction:\nTell a story.\n\n### Response:\n", true, true);
            assertEquals(prompt.length, alpaca.responseStart());
            assertEquals(tok.eos(), alpaca.tokens()[alpaca.tokens().length - 1]);
            ChatTemplate template = new ChatTemplate(
                    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
                    "<s>", "</s>");
            InstructionData.Example chat = InstructionData.format(pairs.get(0), tok, template);
            assertEquals(tok.encode("<|user|>Tell a story.<|assistant|>", true, true).length, chat.responseStart());

            Trainer.Options opt = new Trainer.Options(3, 48, 1, 1, new LearningRate(1e-3f, 1e-3f, 0, 1), 0f, 0.9f, 0.999f,
                    1e-8f, 1f, 5, 0);
            Batch b = InstructionData.batches(List.of(alpaca), opt, tok.eos()).batch(0, 0);
            for (int j = 0; j < opt.seq(); j++) {
                boolean scored = j + 1 >= alpaca.responseStart() && j + 1 < alpaca.tokens().length;
                assertEquals(scored ? alpaca.tokens()[j + 1] : TrainingModel.IGNORE, b.targets()[j], "position " + j);
            }
        }
    }
}
