package dev.jquant.train.lora;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.JQuantException;
import dev.jquant.io.TextFiles;
import dev.jquant.tokenizer.ChatTemplate;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.train.Batch;
import dev.jquant.train.Trainer;
import dev.jquant.train.TrainingModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Instruction pairs from a JSONL file, one JSON object a line: the prompt under {@code "instruction"}
 * or {@code "prompt"} (with an optional {@code "input"} appended after a blank line, as in Alpaca),
 * the answer under {@code "response"}, {@code "output"} or {@code "completion"}. Each pair is formatted
 * with a chat template (user turn, then assistant turn) or, for a model without one, Alpaca's
 * {@code ### Instruction: / ### Response:} layout; only the response's tokens are scored.
 */
public final class InstructionData {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One pair as text. */
    public record Pair(String prompt, String response) {
    }

    /** One formatted pair: its tokens, of which those from {@code responseStart} on are the response. */
    public record Example(int[] tokens, int responseStart) {
    }

    private InstructionData() {
    }

    /** Reads every non-blank line of a JSONL file; errors name the line. */
    public static List<Pair> read(Path file) {
        List<Pair> pairs = new ArrayList<>();
        String[] lines = TextFiles.read(file).split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            JsonNode o;
            try {
                o = JSON.readTree(lines[i]);
            } catch (JacksonException e) {
                throw new JQuantException(where + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (o == null || !o.isObject()) {
                throw new JQuantException(where + ": expected a JSON object");
            }
            String prompt = text(o, "instruction", "prompt");
            String response = text(o, "response", "output", "completion");
            if (prompt == null || response == null) {
                throw new JQuantException(where + ": needs a prompt (\"instruction\" or \"prompt\") and a response "
                        + "(\"response\", \"output\" or \"completion\") as strings");
            }
            String input = text(o, "input");
            pairs.add(new Pair(input == null || input.isBlank() ? prompt : prompt + "\n\n" + input, response));
        }
        if (pairs.isEmpty()) {
            throw new JQuantException(file + ": no instruction pairs");
        }
        return pairs;
    }

    private static String text(JsonNode o, String... keys) {
        for (String k : keys) {
            if (o.path(k).isTextual()) {
                return o.path(k).asText();
            }
        }
        return null;
    }

    /** The pair as tokens with {@code template} (null: Alpaca's layout, BOS ... EOS). */
    public static Example format(Pair p, Tokenizer tokenizer, ChatTemplate template) {
        String prefix;
        String full;
        boolean addBos;
        if (template == null) {
            prefix = "### Instruction:\n" + p.prompt() + "\n\n### Response:\n";
            full = prefix + p.response();
            addBos = true;
        } else {
            prefix = template.render(List.of(new ChatTemplate.Message("user", p.prompt())), true);
            full = template.render(List.of(new ChatTemplate.Message("user", p.prompt()),
                    new ChatTemplate.Message("assistant", p.response())), false);
            if (!full.startsWith(prefix)) {
                throw new JQuantException("chat template: the rendered conversation does not start with its own prompt, "
                        + "so the response cannot be told apart");
            }
            addBos = tokenizer.bos() >= 0 && !prefix.startsWith(tokenizer.piece(tokenizer.bos()));
        }
        int[] head = tokenizer.encode(prefix, addBos, true);
        int[] tail = tokenizer.encode(full.substring(prefix.length()), false, template == null, true);
        int[] all = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return new Example(all, head.length);
    }

    /**
     * Batches of whole examples, one a sequence: cut to {@code seq + 1} tokens, padded with EOS (not scored),
     * targets scored only inside the response. Examples whose response does not start within the window are
     * left out; it is an error when none is left.
     */
    public static Trainer.BatchSource batches(List<Example> examples, Trainer.Options opt, int pad) {
        List<Example> usable = examples.stream().filter(e -> e.responseStart() < Math.min(opt.seq() + 1, e.tokens().length)).toList();
        if (usable.isEmpty()) {
            throw new JQuantException("no instruction pair has its response start within " + opt.seq()
                    + " tokens; raise --seq");
        }
        return (step, micro) -> {
            SplittableRandom rnd = new SplittableRandom(opt.seed() * 0x9E3779B97F4A7C15L + (long) step * opt.accumulation() + micro);
            int seq = opt.seq();
            int[] inputs = new int[opt.batch() * seq];
            int[] targets = new int[opt.batch() * seq];
            Arrays.fill(inputs, Math.max(0, pad));
            Arrays.fill(targets, TrainingModel.IGNORE);
            for (int b = 0; b < opt.batch(); b++) {
                Example e = usable.get(rnd.nextInt(usable.size()));
                int len = Math.min(seq + 1, e.tokens().length);
                for (int j = 0; j + 1 < len; j++) {
                    inputs[b * seq + j] = e.tokens()[j];
                    if (j + 1 >= e.responseStart()) {
                        targets[b * seq + j] = e.tokens()[j + 1];
                    }
                }
            }
            return new Batch(inputs, targets, opt.batch(), seq);
        };
    }

    /** How many of {@code examples} the batches can use (their response starts within the window). */
    public static long usable(List<Example> examples, int seq) {
        return examples.stream().filter(e -> e.responseStart() < Math.min(seq + 1, e.tokens().length)).count();
    }
}
