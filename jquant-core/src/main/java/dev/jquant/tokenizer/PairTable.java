package dev.jquant.tokenizer;

import java.util.Arrays;

/**
 * Which adjacent token pairs merge, into what, and how early: an open-addressing map from
 * (left id, right id) to (cost, merged id). Lower cost merges first; byte-level BPE uses the
 * merge rank, SentencePiece the negated score of the merged piece.
 */
final class PairTable {
    private long[] keys;
    private double[] costs;
    private int[] results;
    private int size;

    PairTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, -1L);
        costs = new double[capacity];
        results = new int[capacity];
    }

    int size() {
        return size;
    }

    /** Adds a merge unless the pair already has one (the earlier merge wins, as in merges.txt). */
    boolean putIfAbsent(int left, int right, double cost, int result) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long key = key(left, right);
        int slot = slot(key);
        if (keys[slot] == key) {
            return false;
        }
        keys[slot] = key;
        costs[slot] = cost;
        results[slot] = result;
        size++;
        return true;
    }

    /** The slot holding this pair, or -1 if the pair does not merge. */
    int find(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        long key = key(left, right);
        int slot = slot(key);
        return keys[slot] == key ? slot : -1;
    }

    double cost(int slot) {
        return costs[slot];
    }

    int result(int slot) {
        return results[slot];
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    private int slot(long key) {
        int mask = keys.length - 1;
        int h = (int) ((key * 0x9E3779B97F4A7C15L) >>> 33) & mask;
        while (keys[h] != -1L && keys[h] != key) {
            h = (h + 1) & mask;
        }
        return h;
    }

    private void grow() {
        long[] oldKeys = keys;
        double[] oldCosts = costs;
        int[] oldResults = results;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, -1L);
        costs = new double[keys.length];
        results = new int[keys.length];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != -1L) {
                int slot = slot(oldKeys[i]);
                keys[slot] = oldKeys[i];
                costs[slot] = oldCosts[i];
                results[slot] = oldResults[i];
            }
        }
    }
}
