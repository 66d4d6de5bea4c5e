package dev.jquant.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.jquant.JQuantException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a Hugging Face tokenizer: tokenizer.json (BPE, byte-level or Llama-2 style with byte
 * fallback, and WordPiece), or vocab.json + merges.txt; tokenizer_config.json supplies BOS/EOS,
 * the add_*_token flags and added tokens.
 */
final class HfTokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfTokenizerLoader() {
    }

    static BaseTokenizer load(Path dir) {
        JsonNode config = readJsonIfPresent(dir.resolve("tokenizer_config.json"));
        Path tokenizerJson = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tokenizerJson)) {
            return fromTokenizerJson(tokenizerJson, config);
        }
        Path vocab = firstExisting(dir, "vocab.json", "encoder.json");
        Path merges = firstExisting(dir, "merges.txt", "vocab.bpe");
        if (vocab == null || merges == null) {
            throw new JQuantException(dir + ": no tokenizer.json, and no vocab.json + merges.txt");
        }
        return fromVocabAndMerges(vocab, merges, preNameFor(config), config);
    }

    /** GPT-2-style files with an explicit llama.cpp pre-tokenizer name (e.g. "llama-bpe", "qwen2"). */
    static BpeTokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt, String pre, JsonNode config) {
        Map<String, Integer> vocabMap = vocabMap(readJson(vocabJson), vocabJson);
        List<String[]> merges = readMergesTxt(mergesTxt);
        Table table = new Table(vocabJson.toString(), vocabMap);
        table.addConfigTokens(config);
        Vocabulary vocab = table.build();
        PairTable ranks = BpeTokenizer.rankMerges(vocab, merges);
        SpecialIds ids = configIds(config, vocab, -1, -1, PreTokenizer.addsBos(pre), false);
        return new BpeTokenizer(vocab, ids, ranks, PreTokenizer.forName(pre), true, PreTokenizer.ignoresMerges(pre), false, false);
    }

    private static BaseTokenizer fromTokenizerJson(Path file, JsonNode config) {
        JsonNode root = readJson(file);
        JsonNode model = root.path("model");
        String type = model.path("type").asText(model.has("merges") ? "BPE" : "");
        String where = file.toString();
        Table table = new Table(where, vocabMap(model.path("vocab"), file));
        if (type.equals("WordPiece")) {
            table.toPhantomSpaces(model.path("continuing_subword_prefix").asText("##"));
        }
        table.addAddedTokens(root.path("added_tokens"));
        table.addConfigTokens(config);
        Vocabulary vocab = table.build();
        int[] template = templateIds(root.path("post_processor"), vocab);
        switch (type) {
            case "BPE" -> {
                List<String[]> merges = jsonMerges(model.path("merges"), where);
                PairTable ranks = BpeTokenizer.rankMerges(vocab, merges);
                boolean byteLevel = containsType(root.path("pre_tokenizer"), "ByteLevel")
                        || containsType(root.path("decoder"), "ByteLevel");
                int unk = model.hasNonNull("unk_token") ? vocab.id(model.path("unk_token").asText()) : -1;
                SpecialIds ids = configIds(config, vocab, template[0], template[1], template[0] >= 0, template[1] >= 0);
                ids = new SpecialIds(ids.bos(), ids.eos(), unk, -1, -1, -1, ids.addBos(), ids.addEos(), false);
                if (byteLevel) {
                    List<String> regexes = new ArrayList<>();
                    collectRegexes(root.path("pre_tokenizer"), regexes, where);
                    PreTokenizer pre = regexes.isEmpty() ? null : PreTokenizer.ofRegexes(where, regexes);
                    return new BpeTokenizer(vocab, ids, ranks, pre, true, model.path("ignore_merges").asBoolean(false),
                            false, false);
                }
                String scheme = prependScheme(root);
                return new BpeTokenizer(vocab, ids, ranks, null, false, model.path("ignore_merges").asBoolean(false),
                        !scheme.equals("never"), scheme.equals("first"));
            }
            case "WordPiece" -> {
                JsonNode normalizer = findType(root.path("normalizer"), "BertNormalizer");
                boolean lowercase = normalizer.path("lowercase").asBoolean(true);
                JsonNode strip = normalizer.path("strip_accents");
                boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase;
                int cls = template[0] >= 0 ? template[0] : vocab.id("[CLS]");
                int sep = template[1] >= 0 ? template[1] : vocab.id("[SEP]");
                int unk = vocab.id(model.path("unk_token").asText("[UNK]"));
                SpecialIds ids = new SpecialIds(cls, -1, unk, sep, -1, -1, cls >= 0, false, sep >= 0);
                return new WordPieceTokenizer(vocab, ids, lowercase, stripAccents);
            }
            default -> throw new JQuantException(where + ": tokenizer model type '" + type
                    + "' is not supported (supported: BPE, WordPiece)");
        }
    }

    /**
     * Where a Llama-2-style tokenizer.json puts ▁ in front of text: "always" (Prepend normalizer, or
     * Metaspace's default), "first" (only at the start of the input) or "never".
     */
    private static String prependScheme(JsonNode root) {
        if (!findType(root.path("normalizer"), "Prepend").isMissingNode()) {
            return "always";
        }
        JsonNode meta = findType(root.path("pre_tokenizer"), "Metaspace");
        if (meta.isMissingNode()) {
            return "never";
        }
        return meta.path("prepend_scheme").asText(meta.path("add_prefix_space").asBoolean(true) ? "always" : "never");
    }

    /** The regexes a byte-level pre_tokenizer applies, in order, in llama.cpp's keep-everything split style. */
    private static void collectRegexes(JsonNode node, List<String> out, String where) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        switch (node.path("type").asText()) {
            case "Sequence" -> node.path("pretokenizers").forEach(p -> collectRegexes(p, out, where));
            case "ByteLevel" -> {
                if (node.path("use_regex").asBoolean(true)) {
                    out.add(PreTokenizer.GPT2);
                }
            }
            case "Digits" -> out.add(node.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+");
            case "Split" -> {
                String behavior = node.path("behavior").asText("Isolated");
                if (!behavior.equals("Isolated") || node.path("invert").asBoolean(false)) {
                    throw new JQuantException(where + ": Split pre-tokenizer with behavior " + behavior
                            + (node.path("invert").asBoolean(false) ? " (inverted)" : "") + " is not supported");
                }
                JsonNode pattern = node.path("pattern");
                out.add(pattern.has("Regex") ? pattern.path("Regex").asText() : Pattern.quote(pattern.path("String").asText()));
            }
            default -> throw new JQuantException(where + ": pre_tokenizer type '" + node.path("type").asText()
                    + "' is not supported with byte-level BPE");
        }
    }

    /** BOS and closing ids from a TemplateProcessing/BertProcessing post-processor, -1 where absent. */
    private static int[] templateIds(JsonNode post, Vocabulary vocab) {
        JsonNode tp = findType(post, "TemplateProcessing");
        if (!tp.isMissingNode()) {
            JsonNode single = tp.path("single");
            int first = specialIn(single.path(0), vocab);
            int last = single.size() > 1 ? specialIn(single.path(single.size() - 1), vocab) : -1;
            return new int[] {first, last};
        }
        JsonNode bert = findType(post, "BertProcessing");
        if (bert.isMissingNode()) {
            bert = findType(post, "RobertaProcessing");
        }
        if (!bert.isMissingNode()) {
            return new int[] {vocab.id(bert.path("cls").path(0).asText()), vocab.id(bert.path("sep").path(0).asText())};
        }
        return new int[] {-1, -1};
    }

    private static int specialIn(JsonNode item, Vocabulary vocab) {
        JsonNode special = item.path("SpecialToken");
        return special.isMissingNode() ? -1 : vocab.id(special.path("id").asText());
    }

    /** BOS/EOS and add flags: tokenizer_config.json wins over what the post-processor implies. */
    private static SpecialIds configIds(JsonNode config, Vocabulary vocab, int bos, int eos, boolean addBos, boolean addEos) {
        int b = tokenId(config.path("bos_token"), vocab, bos);
        int e = tokenId(config.path("eos_token"), vocab, eos >= 0 ? eos : conventionalEos(vocab));
        boolean ab = config.path("add_bos_token").isBoolean() ? config.path("add_bos_token").asBoolean() : addBos;
        boolean ae = config.path("add_eos_token").isBoolean() ? config.path("add_eos_token").asBoolean() : addEos;
        return new SpecialIds(b, e, -1, -1, -1, -1, ab, ae, false);
    }

    /** Without tokenizer_config.json, the usual end-of-sequence control token, or -1. */
    private static int conventionalEos(Vocabulary vocab) {
        for (String text : List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>")) {
            int id = vocab.id(text);
            if (id >= 0 && vocab.type(id) == TokenType.CONTROL) {
                return id;
            }
        }
        return -1;
    }

    /** A token named by a string or an {"content": ...} object, or the fallback. */
    private static int tokenId(JsonNode node, Vocabulary vocab, int fallback) {
        String text = node.isTextual() ? node.asText() : node.path("content").isTextual() ? node.path("content").asText() : null;
        if (text == null) {
            return fallback;
        }
        int id = vocab.id(text);
        return id >= 0 ? id : fallback;
    }

    /** The vocabulary under construction: HF pieces by id, plus added tokens and their types. */
    private static final class Table {
        final String where;
        final Map<Integer, String> pieces = new HashMap<>();
        final Map<Integer, TokenType> types = new HashMap<>();
        final Map<Integer, boolean[]> strips = new HashMap<>();

        Table(String where, Map<String, Integer> vocab) {
            this.where = where;
            vocab.forEach((piece, id) -> pieces.put(id, piece));
        }

        /** WordPiece "##x" continuations become "x", word starts "▁x", as llama.cpp's WPM vocabularies store them. */
        void toPhantomSpaces(String prefix) {
            pieces.replaceAll((id, p) -> p.startsWith("[") && p.endsWith("]") ? p
                    : p.startsWith(prefix) ? p.substring(prefix.length()) : SpmTokenizer.SPACE + p);
        }

        void addAddedTokens(JsonNode added) {
            for (JsonNode t : added) {
                add(t.path("id").asInt(-1), t);
            }
        }

        void addConfigTokens(JsonNode config) {
            for (Map.Entry<String, JsonNode> e : config.path("added_tokens_decoder").properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new JQuantException(where + ": added_tokens_decoder key '" + e.getKey() + "' is not a token id");
                }
                add(id, e.getValue());
            }
        }

        private void add(int id, JsonNode t) {
            String content = t.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new JQuantException(where + ": added token " + t + " needs an id and a content");
            }
            pieces.put(id, content);
            types.put(id, t.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED);
            strips.put(id, new boolean[] {t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false)});
        }

        Vocabulary build() {
            int size = pieces.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
            List<String> list = new ArrayList<>(size);
            TokenType[] t = new TokenType[size];
            for (int id = 0; id < size; id++) {
                String piece = pieces.get(id);
                // holes in the id space become unused placeholders, as llama.cpp's converter writes them
                list.add(piece != null ? piece : "[PAD" + id + "]");
                t[id] = piece == null ? TokenType.UNUSED
                        : types.getOrDefault(id, BaseTokenizer.byteValue(piece) >= 0 ? TokenType.BYTE : TokenType.NORMAL);
            }
            Vocabulary vocab = new Vocabulary(where, list, new float[size], t);
            strips.forEach((id, s) -> vocab.setStrip(id, s[0], s[1]));
            return vocab;
        }
    }

    private static Map<String, Integer> vocabMap(JsonNode node, Path file) {
        if (!node.isObject()) {
            throw new JQuantException(file + ": no vocabulary object (expected {\"piece\": id, ...})");
        }
        Map<String, Integer> out = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new JQuantException(file + ": vocabulary entry '" + e.getKey() + "' has id " + e.getValue()
                        + ", not a non-negative integer");
            }
            out.put(e.getKey(), e.getValue().asInt());
        }
        return out;
    }

    /** Merges as "a b" strings (older files) or [a, b] pairs (newer ones). */
    private static List<String[]> jsonMerges(JsonNode merges, String where) {
        if (!merges.isArray()) {
            throw new JQuantException(where + ": model.merges is missing or not a list");
        }
        List<String[]> out = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            if (m.isArray() && m.size() == 2) {
                out.add(new String[] {m.path(0).asText(), m.path(1).asText()});
            } else if (m.isTextual()) {
                out.add(GgufTokenizerLoader.splitMerge(m.asText(), out.size(), where));
            } else {
                throw new JQuantException(where + ": merge #" + out.size() + " " + m + " is neither \"a b\" nor [a, b]");
            }
        }
        return out;
    }

    private static List<String[]> readMergesTxt(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read merges: " + e.getMessage(), e);
        }
        List<String> merges = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) {
                continue;
            }
            merges.add(line);
        }
        return GgufTokenizerLoader.splitMerges(merges, file.toString());
    }

    /** The llama.cpp pre-tokenizer matching a tokenizer_config.json's tokenizer_class. */
    private static String preNameFor(JsonNode config) {
        String cls = config.path("tokenizer_class").asText("");
        return cls.startsWith("Qwen2") ? "qwen2" : "gpt-2";
    }

    private static boolean containsType(JsonNode node, String type) {
        return !findType(node, type).isMissingNode();
    }

    /** The node of this type: the node itself or a member of its Sequence. */
    static JsonNode findType(JsonNode node, String type) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return MissingNode.getInstance();
        }
        if (type.equals(node.path("type").asText())) {
            return node;
        }
        for (String key : List.of("pretokenizers", "normalizers", "decoders", "processors")) {
            for (JsonNode child : node.path(key)) {
                JsonNode found = findType(child, type);
                if (!found.isMissingNode()) {
                    return found;
                }
            }
        }
        return MissingNode.getInstance();
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new JQuantException(file + ": not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse("")
                    + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")"));
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static JsonNode readJsonIfPresent(Path file) {
        return Files.isRegularFile(file) ? readJson(file) : JSON.createObjectNode();
    }

    private static Path firstExisting(Path dir, String... names) {
        return Arrays.stream(names).map(dir::resolve).filter(Files::isRegularFile).findFirst().orElse(null);
    }
}
