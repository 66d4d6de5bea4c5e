package dev.jquant.eval.task;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Cloze items made from a story text at test time (no data set is committed): the context is the
 * opening sentences of a paragraph, the right choice its next sentence, and the wrong ones that
 * sentence with its words shuffled (same length, so acc and acc_norm are both fair tests of fluency).
 */
final class ClozeItems {
    private ClozeItems() {
    }

    static List<MultipleChoiceItem> fromText(String text, int count, int choices, long seed) {
        List<List<String>> paragraphs = new ArrayList<>();
        for (String p : text.split("\\n\\s*\\n")) {
            List<String> sentences = List.of(p.strip().replace('\n', ' ').split("(?<=[.!?])\\s+"));
            if (sentences.size() >= 3) {
                paragraphs.add(sentences);
            }
        }
        Random rnd = new Random(seed);
        List<MultipleChoiceItem> items = new ArrayList<>();
        while (items.size() < count) {
            int pi = rnd.nextInt(paragraphs.size());
            List<String> p = paragraphs.get(pi);
            int cut = 2 + rnd.nextInt(p.size() - 2);
            String answer = p.get(cut);
            List<String> words = List.of(answer.split(" "));
            if (words.size() < 4) {
                continue;
            }
            List<String> options = new ArrayList<>();
            int label = rnd.nextInt(choices);
            for (int c = 0; c < choices; c++) {
                if (c == label) {
                    options.add(" " + answer);
                } else {
                    List<String> shuffled = new ArrayList<>(words);
                    do {
                        Collections.shuffle(shuffled, rnd);
                    } while (shuffled.equals(words));
                    options.add(" " + String.join(" ", shuffled));
                }
            }
            items.add(new MultipleChoiceItem(String.join(" ", p.subList(0, cut)), options, label));
        }
        return items;
    }

    static void writeJsonl(List<MultipleChoiceItem> items, Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (MultipleChoiceItem item : items) {
            sb.append(mapper.writeValueAsString(Map.of("context", item.context(), "choices", item.choices(),
                    "label", item.label()))).append('\n');
        }
        Files.writeString(file, sb);
    }
}
