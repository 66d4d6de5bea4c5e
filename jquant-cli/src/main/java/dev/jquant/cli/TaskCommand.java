package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.eval.task.MultipleChoiceItem;
import dev.jquant.eval.task.MultipleChoiceScorer;
import dev.jquant.eval.task.MultipleChoiceTasks;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "task", mixinStandardHelpOptions = true,
        description = "Multiple-choice accuracy by log-likelihood over a JSONL file of {\"context\", \"choices\", \"label\"} "
                + "(as lm-eval scores HellaSwag/ARC): acc and length-normalised acc_norm.")
final class TaskCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE.jsonl", description = "the items, one JSON object per line")
    Path file;

    @Option(names = "--limit", defaultValue = "0", description = "score at most N items (default: all)")
    int limit;

    @Option(names = "--json", description = "print one JSON object with acc, acc_stderr, acc_norm, acc_norm_stderr, items")
    boolean json;

    @Override
    public Integer call() {
        List<MultipleChoiceItem> items = MultipleChoiceTasks.read(file);
        if (limit > 0 && limit < items.size()) {
            items = items.subList(0, limit);
        }
        try (Checkpoint c = modelOptions.load()) {
            if (c.tokenizer() == null) {
                throw new JQuantException(modelOptions.model + ": the model has no tokenizer; pass one with --tokenizer");
            }
            Progress progress = new Progress("task", json);
            MultipleChoiceScorer.Result r = MultipleChoiceScorer.score(new Transformer(c), c.tokenizer(), items,
                    (done, total, acc) -> progress.update(done, total, String.format("acc %.3f", acc)));
            progress.done();
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("model", modelOptions.model.toString());
                out.put("file", file.toString());
                out.put("items", r.items());
                out.put("acc", r.accuracy());
                out.put("acc_stderr", r.accStderr());
                out.put("acc_norm", r.accuracyNorm());
                out.put("acc_norm_stderr", r.accNormStderr());
                out.put("seconds", r.seconds());
                System.out.println(Json.write(out));
            } else {
                System.out.printf("acc       %.4f ± %.4f%nacc_norm  %.4f ± %.4f%nitems     %d (%.1f s)%n", r.accuracy(),
                        r.accStderr(), r.accuracyNorm(), r.accNormStderr(), r.items(), r.seconds());
            }
        }
        return 0;
    }
}
