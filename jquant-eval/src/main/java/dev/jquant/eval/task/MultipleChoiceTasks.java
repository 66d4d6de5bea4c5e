package dev.jquant.eval.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jquant.JQuantException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads multiple-choice items from JSONL, one object per line:
 * {@code {"context": "...", "choices": ["...", "..."], "label": 0}} (lm-eval's HellaSwag/ARC shape
 * after its preprocessing). Blank lines are skipped.
 */
public final class MultipleChoiceTasks {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private MultipleChoiceTasks() {
    }

    public static List<MultipleChoiceItem> read(Path file) {
        List<MultipleChoiceItem> items = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (!line.isBlank()) {
                    items.add(parse(line, file + ":" + number));
                }
            }
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (items.isEmpty()) {
            throw new JQuantException(file + ": no multiple-choice items");
        }
        return items;
    }

    static MultipleChoiceItem parse(String line, String where) {
        JsonNode node;
        try {
            node = MAPPER.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new JQuantException(where + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode context = node.get("context");
        JsonNode choices = node.get("choices");
        JsonNode label = node.get("label");
        if (context == null || !context.isTextual() || choices == null || !choices.isArray() || label == null
                || !label.canConvertToInt()) {
            throw new JQuantException(where + ": expected {\"context\": string, \"choices\": [string, ...], \"label\": int}");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode c : choices) {
            if (!c.isTextual()) {
                throw new JQuantException(where + ": every choice must be a string");
            }
            texts.add(c.asText());
        }
        try {
            return new MultipleChoiceItem(context.asText(), texts, label.asInt());
        } catch (IllegalArgumentException e) {
            throw new JQuantException(where + ": " + e.getMessage());
        }
    }
}
