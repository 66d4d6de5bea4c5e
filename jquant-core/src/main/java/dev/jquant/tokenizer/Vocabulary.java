package dev.jquant.tokenizer;

import dev.jquant.JQuantException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The token table every tokenizer shares: piece text, score and type per id, and the reverse
 * lookup. Pieces are stored as the model stores them ({@code ▁} for spaces in SentencePiece
 * vocabularies, byte-to-unicode characters in byte-level BPE ones).
 */
public final class Vocabulary {
    private final String source;
    private final String[] pieces;
    private final float[] scores;
    private final TokenType[] types;
    private final Map<String, Integer> ids;
    private final boolean[] lstrip;
    private final boolean[] rstrip;
    private final int maxPieceLength;
    private final int[] charIds; // id of each one-char (BMP) piece, -1 if none: the hot lookup of every encoder

    Vocabulary(String source, List<String> pieces, float[] scores, TokenType[] types) {
        int n = pieces.size();
        if (scores.length != n || types.length != n) {
            throw new JQuantException(source + ": " + n + " tokens but " + scores.length + " scores and "
                    + types.length + " token types");
        }
        this.source = source;
        this.pieces = pieces.toArray(String[]::new);
        this.scores = scores.clone();
        this.types = types.clone();
        this.ids = HashMap.newHashMap(n);
        int longest = 0;
        for (int i = 0; i < n; i++) {
            String piece = this.pieces[i];
            if (piece == null || piece.isEmpty()) {
                // llama.cpp renames empty pieces so that every id keeps a distinct text
                piece = "[EMPTY_" + i + "]";
                this.pieces[i] = piece;
            }
            Integer previous = ids.putIfAbsent(piece, i);
            if (previous != null) {
                throw new JQuantException(source + ": duplicate token '" + piece + "' has ids " + previous + " and " + i);
            }
            longest = Math.max(longest, piece.length());
        }
        this.maxPieceLength = longest;
        this.charIds = new int[Character.MAX_VALUE + 1];
        Arrays.fill(charIds, -1);
        for (int i = 0; i < n; i++) {
            if (this.pieces[i].length() == 1) {
                charIds[this.pieces[i].charAt(0)] = i;
            }
        }
        this.lstrip = new boolean[n];
        this.rstrip = new boolean[n];
    }

    /** Where this vocabulary came from, for error messages. */
    public String source() {
        return source;
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[checkId(id)];
    }

    public float score(int id) {
        return scores[checkId(id)];
    }

    public TokenType type(int id) {
        return types[checkId(id)];
    }

    /** The id of an exact piece, or -1. */
    public int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    /** The id of the piece that is exactly this code point, or -1. */
    int codePointId(int cp) {
        return cp <= Character.MAX_VALUE ? charIds[cp] : id(Character.toString(cp));
    }

    int maxPieceLength() {
        return maxPieceLength;
    }

    boolean lstrip(int id) {
        return lstrip[id];
    }

    boolean rstrip(int id) {
        return rstrip[id];
    }

    /** Marks a special token to swallow the whitespace before ({@code lstrip}) or after it ({@code rstrip}). */
    void setStrip(int id, boolean left, boolean right) {
        lstrip[checkId(id)] = left;
        rstrip[id] = right;
    }

    void setType(int id, TokenType type) {
        types[checkId(id)] = type;
    }

    private int checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new JQuantException(source + ": token id " + id + " is outside the vocabulary (0.." + (pieces.length - 1) + ")");
        }
        return id;
    }
}
