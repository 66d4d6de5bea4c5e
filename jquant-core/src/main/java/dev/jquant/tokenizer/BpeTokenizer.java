package dev.jquant.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Merge-rank BPE. In byte-level mode (GPT-2, Llama 3, Qwen2, ...) the text is cut into
 * pre-tokens, each pre-token's UTF-8 bytes become GPT-2's byte characters, and merges apply
 * lowest rank first. Without it (Llama-2-style tokenizer.json), spaces become {@code ▁}, a
 * {@code ▁} goes in front, and characters outside the vocabulary fall back to {@code <0xXX>}.
 */
public final class BpeTokenizer extends BaseTokenizer {
    private static final int CACHE_LIMIT = 1 << 16;

    private final PreTokenizer pre;
    private final boolean byteLevel;
    private final boolean ignoreMerges;
    private final boolean addSpacePrefix;
    private final boolean prefixOnlyAtStart;
    private final PairTable merges;
    private final int[] byteTokens;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param pre          splits text before merging; null for none
     * @param ignoreMerges      emit a pre-token that is a whole vocabulary entry as is (Llama 3)
     * @param addSpacePrefix    (not byte-level) put ▁ in front of text that follows a special token or starts the input
     * @param prefixOnlyAtStart (not byte-level) only in front of the input's start (Metaspace prepend_scheme "first")
     */
    BpeTokenizer(Vocabulary vocab, SpecialIds ids, PairTable merges, PreTokenizer pre, boolean byteLevel,
                 boolean ignoreMerges, boolean addSpacePrefix, boolean prefixOnlyAtStart) {
        super(vocab, ids);
        this.pre = pre;
        this.byteLevel = byteLevel;
        this.ignoreMerges = ignoreMerges;
        this.addSpacePrefix = addSpacePrefix;
        this.prefixOnlyAtStart = prefixOnlyAtStart;
        this.merges = merges;
        this.byteTokens = byteFallbackIds(vocab);
    }

    /** Ranks merges in list order: each "left right" pair (both pieces, and their concatenation, in the vocabulary). */
    static PairTable rankMerges(Vocabulary vocab, List<String[]> pairs) {
        PairTable table = new PairTable(pairs.size());
        for (int rank = 0; rank < pairs.size(); rank++) {
            String[] pair = pairs.get(rank);
            int left = vocab.id(pair[0]);
            int right = vocab.id(pair[1]);
            int merged = vocab.id(pair[0] + pair[1]);
            if (left < 0 || right < 0 || merged < 0) {
                String missing = left < 0 ? pair[0] : right < 0 ? pair[1] : pair[0] + pair[1];
                throw new dev.jquant.JQuantException(vocab.source() + ": merge #" + rank + " '" + pair[0] + " " + pair[1]
                        + "' refers to '" + missing + "', which is not in the vocabulary");
            }
            table.putIfAbsent(left, right, rank, merged);
        }
        return table;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        String input = text;
        if (!byteLevel) {
            boolean prefix = prefixOnlyAtStart ? atStart : afterSpecial;
            input = (addSpacePrefix && prefix ? " " + text : text).replace(' ', SpmTokenizer.SPACE);
        }
        List<String> words = pre == null ? List.of(input) : pre.split(input);
        for (String word : words) {
            encodeWord(byteLevel ? ByteLevel.encode(word) : word, out);
        }
    }

    private void encodeWord(String word, IntList out) {
        if (ignoreMerges) {
            int whole = vocab.id(word);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = mergeWord(word);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, cached);
        }
        out.addAll(cached, cached.length);
    }

    private int[] mergeWord(String word) {
        int[] symbols = new int[word.length()];
        int n = 0;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            int id = vocab.codePointId(cp);
            symbols[n++] = id >= 0 ? id : -(cp + 1); // negative: a character outside the vocabulary
            i += len;
        }
        n = BpeMerger.merge(symbols, n, merges);
        IntList out = new IntList();
        for (int i = 0; i < n; i++) {
            if (symbols[i] >= 0) {
                out.add(symbols[i]);
            } else {
                emitUnknown(-symbols[i] - 1, out);
            }
        }
        return out.toArray();
    }

    private void emitUnknown(int cp, IntList out) {
        if (byteLevel) {
            // a byte character the vocabulary lacks: nothing to emit but UNK
            if (specialIds().unk() >= 0) {
                out.add(specialIds().unk());
            }
            return;
        }
        for (byte b : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
            int id = byteTokens[b & 0xff];
            if (id >= 0) {
                out.add(id);
            } else if (specialIds().unk() >= 0) {
                out.add(specialIds().unk());
            }
        }
    }

    @Override
    byte[] normalBytes(String piece) {
        return byteLevel ? ByteLevel.decode(piece) : piece.replace(SpmTokenizer.SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    boolean stripsLeadingSpace() {
        return !byteLevel && addSpacePrefix;
    }
}
