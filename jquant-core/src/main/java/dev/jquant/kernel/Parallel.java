package dev.jquant.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The one thread pool jquant computes on, and the one way it splits work: a range of independent
 * items (rows, heads, tokens) cut into contiguous chunks, a few per thread so uneven chunks even out.
 */
public final class Parallel {
    private static volatile Parallel shared = new Parallel(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final ForkJoinPool pool;

    private Parallel(int threads) {
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    /** The shared pool. */
    public static Parallel get() {
        return shared;
    }

    /** Replaces the shared pool with one of {@code threads} threads (the CLI's --threads). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (threads != shared.threads) {
            Parallel old = shared;
            shared = new Parallel(threads);
            if (old.pool != null) {
                old.pool.shutdown();
            }
        }
    }

    public int threads() {
        return threads;
    }

    /** A body over the half-open range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** Runs {@code body} over [0, n) in parallel; items of at least {@code grain} per chunk. */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
        if (pool == null || chunks == 1) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Chunk(body, n, chunks, 0, chunks));
    }

    private static final class Chunk extends RecursiveAction {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final int from;
        private final int to;

        Chunk(RangeBody body, int n, int chunks, int from, int to) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                int start = (int) ((long) n * from / chunks);
                int end = (int) ((long) n * to / chunks);
                body.run(start, end);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Chunk(body, n, chunks, from, mid), new Chunk(body, n, chunks, mid, to));
        }
    }
}
