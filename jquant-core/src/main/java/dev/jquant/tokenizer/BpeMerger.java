package dev.jquant.tokenizer;

/**
 * The merge loop shared by SentencePiece and byte-level BPE: symbols in a linked list, candidate
 * pairs in a binary heap ordered by (cost, position of the left symbol), stale entries skipped
 * when popped. O(n log n) in the number of symbols.
 */
final class BpeMerger {
    private BpeMerger() {
    }

    /**
     * Merges {@code ids} in place and returns how many symbols remain at the front of the array.
     * An id below zero is a symbol that never merges (a character missing from the vocabulary).
     */
    static int merge(int[] ids, int n, PairTable pairs) {
        if (n < 2) {
            return n;
        }
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        Heap heap = new Heap(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(heap, ids, i, i + 1, pairs);
        }
        while (heap.size > 0) {
            int left = heap.topLeft();
            int leftId = heap.topLeftId();
            int rightId = heap.topRightId();
            heap.pop();
            int right = next[left];
            // stale: the left symbol was absorbed, or either side has merged since
            if (right < 0 || ids[left] != leftId || ids[right] != rightId) {
                continue;
            }
            ids[left] = pairs.result(pairs.find(leftId, rightId));
            ids[right] = Integer.MIN_VALUE; // absorbed
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(heap, ids, prev[left], left, pairs);
            }
            if (next[left] >= 0) {
                offer(heap, ids, left, next[left], pairs);
            }
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            ids[count++] = ids[i];
        }
        return count;
    }

    private static void offer(Heap heap, int[] ids, int left, int right, PairTable pairs) {
        int slot = pairs.find(ids[left], ids[right]);
        if (slot >= 0) {
            heap.push(pairs.cost(slot), left, ids[left], ids[right]);
        }
    }

    /** A min-heap of (cost, left position) with the pair's ids kept to detect stale entries. */
    private static final class Heap {
        double[] cost;
        int[] left;
        int[] leftId;
        int[] rightId;
        int size;

        Heap(int capacity) {
            cost = new double[capacity];
            left = new int[capacity];
            leftId = new int[capacity];
            rightId = new int[capacity];
        }

        int topLeft() {
            return left[0];
        }

        int topLeftId() {
            return leftId[0];
        }

        int topRightId() {
            return rightId[0];
        }

        void push(double c, int l, int a, int b) {
            if (size == cost.length) {
                int capacity = size * 2;
                cost = java.util.Arrays.copyOf(cost, capacity);
                left = java.util.Arrays.copyOf(left, capacity);
                leftId = java.util.Arrays.copyOf(leftId, capacity);
                rightId = java.util.Arrays.copyOf(rightId, capacity);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!less(c, l, cost[parent], left[parent])) {
                    break;
                }
                set(i, parent);
                i = parent;
            }
            cost[i] = c;
            left[i] = l;
            leftId[i] = a;
            rightId[i] = b;
        }

        void pop() {
            size--;
            if (size == 0) {
                return;
            }
            double c = cost[size];
            int l = left[size];
            int a = leftId[size];
            int b = rightId[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && less(cost[child + 1], left[child + 1], cost[child], left[child])) {
                    child++;
                }
                if (!less(cost[child], left[child], c, l)) {
                    break;
                }
                set(i, child);
                i = child;
            }
            cost[i] = c;
            left[i] = l;
            leftId[i] = a;
            rightId[i] = b;
        }

        private void set(int to, int from) {
            cost[to] = cost[from];
            left[to] = left[from];
            leftId[to] = leftId[from];
            rightId[to] = rightId[from];
        }

        private static boolean less(double c1, int l1, double c2, int l2) {
            return c1 < c2 || (c1 == c2 && l1 < l2);
        }
    }
}
