package dev.jquant.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece-style BPE as llama.cpp runs it for "llama" vocabularies: spaces become {@code ▁},
 * a {@code ▁} is put in front of text that starts the input or follows a special token
 * (add_space_prefix), adjacent symbols merge while their concatenation is a piece, highest score
 * first (leftmost on ties), and characters no piece covers fall back to {@code <0xXX>} byte tokens.
 */
public final class SpmTokenizer extends BaseTokenizer {
    static final char SPACE = '\u2581';

    private final boolean addSpacePrefix;
    private final PairTable pairs;
    private final int[] byteTokens;

    SpmTokenizer(Vocabulary vocab, SpecialIds ids, boolean addSpacePrefix) {
        super(vocab, ids);
        this.addSpacePrefix = addSpacePrefix;
        this.pairs = scorePairs(vocab);
        this.byteTokens = byteFallbackIds(vocab);
    }

    /** Every split of a piece into two pieces merges into it, at the priority of its score. */
    private static PairTable scorePairs(Vocabulary vocab) {
        PairTable table = new PairTable(vocab.size() * 4);
        for (int id = 0; id < vocab.size(); id++) {
            String piece = vocab.piece(id);
            for (int k = piece.offsetByCodePoints(0, 1); k < piece.length(); k = piece.offsetByCodePoints(k, 1)) {
                int left = vocab.id(piece.substring(0, k));
                int right = left < 0 ? -1 : vocab.id(piece.substring(k));
                if (right >= 0) {
                    table.putIfAbsent(left, right, -(double) vocab.score(id), id);
                }
            }
        }
        return table;
    }

    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        String escaped = (addSpacePrefix && afterSpecial ? " " + text : text).replace(' ', SPACE);
        int[] symbols = new int[escaped.length()];
        int n = 0;
        for (int i = 0; i < escaped.length(); ) {
            int cp = escaped.codePointAt(i);
            int len = Character.charCount(cp);
            int id = vocab.codePointId(cp);
            symbols[n++] = id >= 0 ? id : -(cp + 1); // negative: a character no piece covers
            i += len;
        }
        n = BpeMerger.merge(symbols, n, pairs);
        for (int i = 0; i < n; i++) {
            if (symbols[i] >= 0) {
                out.add(symbols[i]);
            } else {
                emitBytes(-symbols[i] - 1, out);
            }
        }
    }

    private void emitBytes(int cp, IntList out) {
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
        return piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    boolean stripsLeadingSpace() {
        return addSpacePrefix;
    }
}
