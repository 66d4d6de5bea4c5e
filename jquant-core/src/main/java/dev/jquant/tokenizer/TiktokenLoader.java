package dev.jquant.tokenizer;

import dev.jquant.JQuantException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Reads a tiktoken ranks file (one "base64-bytes rank" per line, as Llama 3's tokenizer.model).
 * Tokens become byte-level pieces; every split of a token into two tokens merges at the token's
 * rank, which is exactly tiktoken's "merge the pair whose concatenation ranks lowest".
 */
final class TiktokenLoader {
    private TiktokenLoader() {
    }

    static BpeTokenizer load(Path file, Map<String, Integer> specials, PreTokenizer pre, SpecialIdsFactory ids) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read tiktoken ranks: " + e.getMessage(), e);
        }
        List<String> byRank = new ArrayList<>();
        for (int lineNo = 1; lineNo <= lines.size(); lineNo++) {
            String line = lines.get(lineNo - 1).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                throw new JQuantException(file + ": line " + lineNo + " is not 'base64 rank'");
            }
            byte[] bytes;
            int rank;
            try {
                bytes = Base64.getDecoder().decode(parts[0]);
                rank = Integer.parseInt(parts[1]);
            } catch (IllegalArgumentException e) {
                throw new JQuantException(file + ": line " + lineNo + " is not 'base64 rank': " + e.getMessage());
            }
            if (rank != byRank.size()) {
                throw new JQuantException(file + ": line " + lineNo + " has rank " + rank + ", expected " + byRank.size()
                        + " (ranks must count up from 0)");
            }
            byRank.add(ByteLevel.encode(bytes));
        }
        int n = byRank.size();
        List<String> pieces = new ArrayList<>(byRank);
        int size = n;
        for (int id : specials.values()) {
            size = Math.max(size, id + 1);
        }
        String[] extra = new String[size - n];
        for (Map.Entry<String, Integer> e : specials.entrySet()) {
            if (e.getValue() < n) {
                throw new JQuantException(file + ": special token " + e.getKey() + " id " + e.getValue()
                        + " collides with the " + n + " ranked tokens");
            }
            extra[e.getValue() - n] = e.getKey();
        }
        TokenType[] types = new TokenType[size];
        Arrays.fill(types, 0, n, TokenType.NORMAL);
        for (int i = 0; i < extra.length; i++) {
            if (extra[i] == null) {
                throw new JQuantException(file + ": no special token given for id " + (n + i));
            }
            pieces.add(extra[i]);
            types[n + i] = TokenType.CONTROL;
        }
        Vocabulary vocab = new Vocabulary(file.toString(), pieces, new float[size], types);
        return new BpeTokenizer(vocab, ids.of(vocab), rankPairs(vocab, n), pre, true, true, false, false);
    }

    private static PairTable rankPairs(Vocabulary vocab, int ranked) {
        PairTable table = new PairTable(ranked * 2);
        for (int id = 0; id < ranked; id++) {
            String piece = vocab.piece(id);
            for (int k = 1; k < piece.length(); k++) {
                int left = vocab.id(piece.substring(0, k));
                int right = left < 0 ? -1 : vocab.id(piece.substring(k));
                if (right >= 0 && left < ranked && right < ranked) {
                    table.putIfAbsent(left, right, id, id);
                }
            }
        }
        return table;
    }

    /** Which special ids a tiktoken vocabulary uses, once its pieces are known. */
    interface SpecialIdsFactory {
        SpecialIds of(Vocabulary vocab);
    }
}
