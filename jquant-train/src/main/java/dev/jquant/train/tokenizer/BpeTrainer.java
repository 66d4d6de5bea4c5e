package dev.jquant.train.tokenizer;

import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufValueType;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.tokenizer.HfTokenizerJson;
import dev.jquant.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Trains a SentencePiece-style BPE vocabulary with byte fallback: spaces become {@code ▁}, which
 * starts every word; the vocabulary is {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte tokens
 * {@code <0x00>..<0xFF>}, then the pieces merges made, in merge order with falling scores (the
 * merge priority {@code SpmTokenizer} applies), then the characters of the text, most frequent
 * first. Characters that do not fit are left to byte fallback. Ties go to the lexicographically
 * smallest pair, so the result depends only on the text and the size.
 */
public final class BpeTrainer {
    private static final char SPACE = '\u2581';
    private static final int BYTE_TOKENS = 256;
    private static final List<String> CONTROLS = List.of("<unk>", "<s>", "</s>");
    private static final int FIXED = CONTROLS.size() + BYTE_TOKENS;

    /** A trained vocabulary: parallel lists of pieces, scores and GGUF token types. */
    public record Vocabulary(List<String> pieces, List<Float> scores, List<Integer> types) {
        public int size() {
            return pieces.size();
        }

        /** As a vocabulary-only GGUF file (tokenizer.ggml.model "llama"), written atomically. */
        public void writeGguf(Path out) {
            GgufWriter w = new GgufWriter();
            w.putString("general.name", "jquant BPE tokenizer");
            putInto(w);
            w.write(out);
        }

        /** As a Llama-2-style Hugging Face tokenizer.json, written atomically. */
        public void writeTokenizerJson(Path out) {
            try {
                Path tmp = Files.createTempFile("jquant-vocab", ".gguf");
                try {
                    writeGguf(tmp);
                    try (GgufFile gguf = GgufFile.open(tmp)) {
                        HfTokenizerJson.write(Tokenizers.fromGguf(gguf), out);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new JQuantException(out + ": cannot write: " + e.getMessage());
            }
        }

        /** The {@code tokenizer.ggml.*} metadata llama.cpp reads for a SentencePiece vocabulary. */
        public void putInto(GgufWriter w) {
            w.putString("tokenizer.ggml.model", "llama");
            w.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, pieces);
            w.putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, scores);
            w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, types);
            w.putU32("tokenizer.ggml.unknown_token_id", 0);
            w.putU32("tokenizer.ggml.bos_token_id", 1);
            w.putU32("tokenizer.ggml.eos_token_id", 2);
            w.putBool("tokenizer.ggml.add_bos_token", true);
            w.putBool("tokenizer.ggml.add_space_prefix", true);
        }
    }

    private BpeTrainer() {
    }

    /** Learns a vocabulary of at most {@code vocabSize} tokens from {@code text}. */
    public static Vocabulary train(String text, int vocabSize) {
        if (vocabSize < FIXED + 1) {
            throw new JQuantException("--vocab-size must be more than " + FIXED + " (3 control + 256 byte tokens), got " + vocabSize);
        }
        Map<String, Integer> wordCounts = words(text);
        if (wordCounts.isEmpty()) {
            throw new JQuantException("the training text holds no words");
        }
        List<String> chars = characters(wordCounts, vocabSize - FIXED);
        Map<String, Integer> ids = new HashMap<>();
        List<String> symbols = new ArrayList<>(chars);
        for (int i = 0; i < chars.size(); i++) {
            ids.put(chars.get(i), i);
        }
        // each distinct word as a sequence of symbol ids (-1: a character left to byte fallback)
        List<int[]> words = new ArrayList<>();
        int[] counts = new int[wordCounts.size()];
        for (var e : wordCounts.entrySet()) {
            counts[words.size()] = e.getValue();
            words.add(e.getKey().codePoints().map(cp -> ids.getOrDefault(Character.toString(cp), -1)).toArray());
        }
        List<String> merged = new ArrayList<>();
        while (FIXED + chars.size() + merged.size() < vocabSize) {
            long best = bestPair(words, counts, symbols);
            if (best < 0) {
                break;
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String piece = symbols.get(left) + symbols.get(right);
            Integer id = ids.get(piece);
            if (id == null) {
                id = symbols.size();
                symbols.add(piece);
                ids.put(piece, id);
                merged.add(piece);
            }
            for (int w = 0; w < words.size(); w++) {
                words.set(w, merge(words.get(w), left, right, id));
            }
        }
        return vocabulary(merged, chars);
    }

    /** Distinct words with their counts: text split so that every word starts at a (meta-)space. */
    static Map<String, Integer> words(String text) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String escaped = SPACE + line.replace(' ', SPACE);
            int start = 0;
            for (int i = 1; i <= escaped.length(); i++) {
                if (i == escaped.length() || escaped.charAt(i) == SPACE) {
                    if (i > start) {
                        counts.merge(escaped.substring(start, i), 1, Integer::sum);
                    }
                    start = i;
                }
            }
        }
        return counts;
    }

    /** The most frequent characters, at most {@code room} of them, ties in code point order. */
    private static List<String> characters(Map<String, Integer> words, int room) {
        Map<Integer, Long> freq = new TreeMap<>();
        words.forEach((w, n) -> w.codePoints().forEach(cp -> freq.merge(cp, (long) n, Long::sum)));
        return freq.entrySet().stream()
                .sorted(Map.Entry.<Integer, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(room)
                .map(e -> Character.toString(e.getKey()))
                .toList();
    }

    /** The adjacent pair occurring most often (at least twice), packed as left << 32 | right; -1 if none. */
    private static long bestPair(List<int[]> words, int[] counts, List<String> symbols) {
        Map<Long, Long> pairs = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            int[] s = words.get(w);
            for (int i = 0; i + 1 < s.length; i++) {
                if (s[i] >= 0 && s[i + 1] >= 0) {
                    pairs.merge((long) s[i] << 32 | s[i + 1], (long) counts[w], Long::sum);
                }
            }
        }
        Comparator<Map.Entry<Long, Long>> order = Map.Entry.<Long, Long>comparingByValue()
                .thenComparing(e -> pairText(e.getKey(), symbols), Comparator.reverseOrder());
        return pairs.entrySet().stream().filter(e -> e.getValue() >= 2).max(order).map(Map.Entry::getKey).orElse(-1L);
    }

    private static String pairText(long pair, List<String> symbols) {
        return symbols.get((int) (pair >>> 32)) + " " + symbols.get((int) pair);
    }

    /** Replaces every occurrence of (left, right) in {@code s}, left to right, by {@code id}. */
    private static int[] merge(int[] s, int left, int right, int id) {
        int[] out = new int[s.length];
        int n = 0;
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                out[n++] = id;
                i++;
            } else {
                out[n++] = s[i];
            }
        }
        return n == s.length ? s : java.util.Arrays.copyOf(out, n);
    }

    private static Vocabulary vocabulary(List<String> merged, List<String> chars) {
        Map<String, Integer> types = new LinkedHashMap<>();
        types.put(CONTROLS.get(0), 2); // unknown
        types.put(CONTROLS.get(1), 3); // control
        types.put(CONTROLS.get(2), 3);
        for (int b = 0; b < BYTE_TOKENS; b++) {
            types.put(String.format("<0x%02X>", b), 6); // byte
        }
        List<String> pieces = new ArrayList<>(types.keySet());
        List<Integer> typeList = new ArrayList<>(types.values());
        List<Float> scores = new ArrayList<>();
        pieces.forEach(p -> scores.add(0f));
        for (int i = 0; i < merged.size(); i++) {
            pieces.add(merged.get(i));
            scores.add((float) -i);
            typeList.add(1); // normal
        }
        for (int i = 0; i < chars.size(); i++) {
            pieces.add(chars.get(i));
            scores.add((float) -(merged.size() + i));
            typeList.add(1);
        }
        return new Vocabulary(List.copyOf(pieces), List.copyOf(scores), List.copyOf(typeList));
    }
}
