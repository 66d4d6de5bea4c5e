package dev.jquant.tokenizer;

import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Builds a tokenizer from GGUF metadata with llama.cpp's defaults and overrides. */
final class GgufTokenizerLoader {
    private static final String P = "tokenizer.ggml.";

    private GgufTokenizerLoader() {
    }

    static BaseTokenizer load(GgufFile gguf) {
        String where = gguf.path().toString();
        String model = gguf.getString(P + "model", null);
        if (model == null) {
            throw new JQuantException(where + ": no tokenizer (metadata key " + P + "model is missing)");
        }
        List<String> pieces = strings(gguf, P + "tokens");
        int n = pieces.size();
        float[] scores = scores(gguf, n);
        TokenType[] types = types(gguf, n);
        Vocabulary vocab = new Vocabulary(where, pieces, scores, types);
        String pre = gguf.getString(P + "pre", "");
        return switch (model) {
            case "llama" -> {
                SpecialIds ids = ids(gguf, n, new SpecialIds(1, 2, 0, -1, -1, -1, true, false, false));
                markPhi3Strips(gguf, vocab);
                yield new SpmTokenizer(vocab, ids, gguf.getBool(P + "add_space_prefix", true));
            }
            case "gpt2" -> {
                PairTable merges = BpeTokenizer.rankMerges(vocab, splitMerges(strings(gguf, P + "merges"), where));
                String preName = pre.isEmpty() ? "default" : pre;
                SpecialIds defaults = new SpecialIds(11, 11, -1, -1, -1, -1, PreTokenizer.addsBos(preName), false, false);
                yield new BpeTokenizer(vocab, ids(gguf, n, defaults), merges, PreTokenizer.forName(preName), true,
                        PreTokenizer.ignoresMerges(preName), false, false);
            }
            case "bert" -> {
                SpecialIds ids = ids(gguf, n, new SpecialIds(101, -1, 100, 102, -1, -1, true, false, true));
                boolean lowercase = gguf.getBool(P + "normalizer.lowercase", true);
                boolean strip = gguf.getBool(P + "normalizer.strip_accents", lowercase);
                yield new WordPieceTokenizer(vocab, ids, lowercase, strip);
            }
            default -> throw new JQuantException(where + ": tokenizer model '" + model
                    + "' is not supported (supported: llama, gpt2, bert)");
        };
    }

    /** Special ids and add_* flags from the metadata, falling back to the model type's defaults. */
    private static SpecialIds ids(GgufFile gguf, int n, SpecialIds d) {
        return new SpecialIds(id(gguf, "bos_token_id", d.bos(), n), id(gguf, "eos_token_id", d.eos(), n),
                id(gguf, "unknown_token_id", d.unk(), n), id(gguf, "seperator_token_id", d.sep(), n),
                id(gguf, "eot_token_id", -1, n), id(gguf, "eom_token_id", -1, n),
                gguf.getBool(P + "add_bos_token", d.addBos()), gguf.getBool(P + "add_eos_token", d.addEos()),
                gguf.getBool(P + "add_sep_token", d.addSep()));
    }

    /** A special id; out-of-range values (such as UINT32 -1) fall back to the default, as in llama.cpp. */
    private static int id(GgufFile gguf, String key, int fallback, int n) {
        int def = fallback < n ? fallback : -1;
        if (!gguf.has(P + key)) {
            return def;
        }
        long v = gguf.getLong(P + key);
        return v >= 0 && v < n ? (int) v : def;
    }

    /** llama.cpp lets Phi-3's special tokens swallow the whitespace after them. */
    private static void markPhi3Strips(GgufFile gguf, Vocabulary vocab) {
        String name = gguf.getString("general.name", "").toLowerCase(Locale.ROOT);
        if (!name.contains("phi-3") && !name.contains("phi3")) {
            return;
        }
        for (int id = 0; id < vocab.size(); id++) {
            String piece = vocab.piece(id);
            boolean keep = piece.equals("<unk>") || piece.equals("<s>") || piece.equals("<|endoftext|>");
            if ((vocab.type(id).isSpecial() || piece.equals("</s>")) && !keep) {
                vocab.setStrip(id, false, true);
            }
        }
    }

    static List<String[]> splitMerges(List<String> lines, String where) {
        List<String[]> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            out.add(splitMerge(lines.get(i), i, where));
        }
        return out;
    }

    /** "left right" split at the first space after the first character (a piece may be a lone space-like char). */
    static String[] splitMerge(String line, int index, String where) {
        int space = line.indexOf(' ', 1);
        if (space < 0) {
            throw new JQuantException(where + ": merge #" + index + " '" + line + "' is not two pieces separated by a space");
        }
        return new String[] {line.substring(0, space), line.substring(space + 1)};
    }

    private static List<String> strings(GgufFile gguf, String key) {
        List<?> list = array(gguf, key);
        List<String> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw new JQuantException(gguf.path() + ": metadata " + key + " must be an array of strings");
            }
            out.add(s);
        }
        return out;
    }

    private static float[] scores(GgufFile gguf, int n) {
        float[] out = new float[n];
        if (!gguf.has(P + "scores")) {
            return out;
        }
        List<?> list = array(gguf, P + "scores");
        if (list.size() < n) {
            throw new JQuantException(gguf.path() + ": " + P + "scores has " + list.size() + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            if (!(list.get(i) instanceof Number v)) {
                throw new JQuantException(gguf.path() + ": metadata " + P + "scores must be numbers");
            }
            out[i] = v.floatValue();
        }
        return out;
    }

    private static TokenType[] types(GgufFile gguf, int n) {
        TokenType[] out = new TokenType[n];
        java.util.Arrays.fill(out, TokenType.NORMAL);
        if (!gguf.has(P + "token_type")) {
            return out;
        }
        List<?> list = array(gguf, P + "token_type");
        if (list.size() < n) {
            throw new JQuantException(gguf.path() + ": " + P + "token_type has " + list.size() + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            if (!(list.get(i) instanceof Number v)) {
                throw new JQuantException(gguf.path() + ": metadata " + P + "token_type must be integers");
            }
            out[i] = TokenType.fromGguf(v.intValue());
        }
        return out;
    }

    private static List<?> array(GgufFile gguf, String key) {
        if (!gguf.has(key)) {
            throw new JQuantException(gguf.path() + ": metadata key " + key + " is missing");
        }
        return gguf.getArray(key);
    }
}
