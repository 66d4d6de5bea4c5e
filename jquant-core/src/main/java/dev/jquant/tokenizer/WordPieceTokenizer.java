package dev.jquant.tokenizer;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * BERT's WordPiece as llama.cpp's WPM vocabularies store it: a word-initial piece carries a
 * {@code ▁} prefix where Hugging Face has none, a continuation piece has no {@code ##}. Text is
 * cleaned, optionally accent-stripped and lowercased, split at whitespace, punctuation and CJK
 * characters, and each word is covered greedily by the longest pieces; a word that cannot be
 * covered becomes [UNK].
 */
public final class WordPieceTokenizer extends BaseTokenizer {
    private final boolean lowercase;
    private final boolean stripAccents;

    WordPieceTokenizer(Vocabulary vocab, SpecialIds ids, boolean lowercase, boolean stripAccents) {
        super(vocab, ids);
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        for (String word : words(text)) {
            encodeWord(SpmTokenizer.SPACE + word, out);
        }
    }

    private void encodeWord(String word, IntList out) {
        IntList pieces = new IntList();
        int n = word.length();
        for (int i = 0; i < n; ) {
            int matched = -1;
            int end = Math.min(n, i + vocab.maxPieceLength());
            for (; end > i; end--) {
                matched = vocab.id(word.substring(i, end));
                if (matched >= 0) {
                    break;
                }
            }
            if (matched < 0) {
                pieces = null; // the whole word is unknown
                break;
            }
            pieces.add(matched);
            i = end;
        }
        if (pieces == null || pieces.size() == 0) {
            if (specialIds().unk() >= 0) {
                out.add(specialIds().unk());
            }
        } else {
            out.addAll(pieces.toArray(), pieces.size());
        }
    }

    /** BERT's normalizer and pre-tokenizer: the words to cover with pieces. */
    List<String> words(String text) {
        String t = stripAccents ? Normalizer.normalize(text, Normalizer.Form.NFD) : text;
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < t.length(); ) {
            int cp = t.codePointAt(i);
            i += Character.charCount(cp);
            if (Unicode.isWhitespace(cp)) {
                flush(word, words);
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || Unicode.isOther(cp)
                    || (stripAccents && Character.getType(cp) == Character.NON_SPACING_MARK)) {
                continue;
            }
            String s = lowercase ? Character.toString(cp).toLowerCase(Locale.ROOT) : Character.toString(cp);
            if (Unicode.isBertPunctuation(cp) || isChinese(cp)) {
                flush(word, words);
                words.add(s);
            } else {
                word.append(s);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** The CJK ranges BERT isolates (Hugging Face's ranges, including its 0x2B920 start). */
    private static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    @Override
    byte[] normalBytes(String piece) {
        return piece.replace(SpmTokenizer.SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }
}
