package dev.jquant.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits text around special tokens written literally in it, with llama.cpp's rule: tokens are
 * tried longest first, each one taking every occurrence that still lies in unsplit text.
 * User-defined tokens are always split out; control and unknown tokens only with parse-special.
 */
final class SpecialTokens {
    /** A piece of the input: a special token ({@code token >= 0}) or the raw text [start, end). */
    record Fragment(int token, int start, int end) {
        boolean isText() {
            return token < 0;
        }
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        int rank = -1; // index into the length-sorted candidates, -1 if no token ends here
    }

    private final Vocabulary vocab;
    private final int[] candidates; // special token ids, longest piece first
    private final Node root = new Node();

    SpecialTokens(Vocabulary vocab) {
        this.vocab = vocab;
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.type(id).isSpecial()) {
                ids.add(id);
            }
        }
        ids.sort(Comparator.comparingInt((Integer id) -> -vocab.piece(id).length()));
        candidates = ids.stream().mapToInt(Integer::intValue).toArray();
        for (int rank = 0; rank < candidates.length; rank++) {
            Node node = root;
            for (char c : vocab.piece(candidates[rank]).toCharArray()) {
                node = node.children.computeIfAbsent(c, k -> new Node());
            }
            node.rank = rank;
        }
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        long[] matches = findOccurrences(text, parseSpecial);
        // llama.cpp's order: token by token (longest first), each one left to right
        Arrays.sort(matches);
        boolean[] taken = new boolean[text.length()];
        int[] tokenAt = new int[text.length()];
        Arrays.fill(tokenAt, -1);
        for (long m : matches) {
            int rank = (int) (m >>> 32);
            int start = (int) m;
            int len = vocab.piece(candidates[rank]).length();
            if (isFree(taken, start, len)) {
                Arrays.fill(taken, start, start + len, true);
                tokenAt[start] = candidates[rank];
            }
        }
        int textStart = 0;
        for (int pos = 0; pos < text.length(); ) {
            int token = tokenAt[pos];
            if (token < 0) {
                pos++;
                continue;
            }
            int textEnd = pos;
            if (vocab.lstrip(token)) {
                while (textEnd > textStart && isAsciiSpace(text.charAt(textEnd - 1))) {
                    textEnd--;
                }
            }
            if (textEnd > textStart) {
                out.add(new Fragment(-1, textStart, textEnd));
            }
            out.add(new Fragment(token, pos, pos + vocab.piece(token).length()));
            pos += vocab.piece(token).length();
            if (vocab.rstrip(token)) {
                while (pos < text.length() && tokenAt[pos] < 0 && isAsciiSpace(text.charAt(pos))) {
                    pos++;
                }
            }
            textStart = pos;
        }
        if (textStart < text.length()) {
            out.add(new Fragment(-1, textStart, text.length()));
        }
        return out;
    }

    /** Every (rank, position) where a candidate occurs, packed as rank << 32 | position. */
    private long[] findOccurrences(String text, boolean parseSpecial) {
        if (candidates.length == 0) {
            return new long[0];
        }
        long[] found = new long[16];
        int n = 0;
        for (int start = 0; start < text.length(); start++) {
            Node node = root;
            for (int i = start; i < text.length(); i++) {
                node = node.children.get(text.charAt(i));
                if (node == null) {
                    break;
                }
                if (node.rank >= 0 && (parseSpecial || vocab.type(candidates[node.rank]) == TokenType.USER_DEFINED)) {
                    if (n == found.length) {
                        found = Arrays.copyOf(found, n * 2);
                    }
                    found[n++] = ((long) node.rank << 32) | start;
                }
            }
        }
        return Arrays.copyOf(found, n);
    }

    private static boolean isFree(boolean[] taken, int start, int len) {
        for (int i = start; i < start + len; i++) {
            if (taken[i]) {
                return false;
            }
        }
        return true;
    }

    /** C's isspace in the "C" locale, which llama.cpp uses for lstrip/rstrip. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
