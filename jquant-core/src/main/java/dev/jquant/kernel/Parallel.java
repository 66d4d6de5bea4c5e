package dev.jquant.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread pool jquant computes on, and the one way it splits work: a range of independent
 * items (rows, heads, tokens) cut into contiguous chunks, a few per thread so uneven chunks even out.
 *
 * <p>The calling thread works too, beside {@code threads - 1} workers that claim chunks from a shared
 * counter. Decoding a token is a few hundred short parallel regions (one per matrix-vector product,
 * a fraction of a millisecond each), so waking a parked thread for each one (tens of microseconds in
 * a virtual machine, more under load) cost more than the second core gained: a worker therefore spins
 * for a while after a region before it parks, and catches the next region without the scheduler,
 * as llama.cpp's threads do. Chunk boundaries depend only on the range and the chunk count, never on
 * which thread ran a chunk, so results are the same for any timing.
 */
public final class Parallel {
    /** How long an idle worker spins for the next region before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private static volatile Parallel shared = new Parallel(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final Worker[] workers;
    /** One region at a time; a second caller (or a nested call from inside a region) runs its range alone. */
    private final ReentrantLock regionLock = new ReentrantLock();
    private volatile Region current;
    private volatile boolean shutdown;

    private Parallel(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i);
            workers[i].start();
        }
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
            old.shutdown();
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
        int chunks = Math.min(threads * 8, Math.max(1, n / Math.max(1, grain)));
        if (workers.length == 0 || chunks == 1 || regionLock.isHeldByCurrentThread() || !regionLock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Region region = new Region(body, n, chunks);
            current = region;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
            region.work();
            region.awaitDone();
            current = null;
            region.rethrow();
        } finally {
            regionLock.unlock();
        }
    }

    private void shutdown() {
        shutdown = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    /** One parallel range: chunks claimed by counter, completion counted. */
    private static final class Region {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Region(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Runs chunks until none is left to claim. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    if (failure.get() == null) {
                        body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitDone() {
            while (done.get() < chunks) {
                Thread.onSpinWait();
            }
        }

        void rethrow() {
            Throwable t = failure.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    private static final class Worker extends Thread {
        private final Parallel pool;

        Worker(Parallel pool, int index) {
            super("jquant-worker-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            Region last = null;
            while (!pool.shutdown) {
                Region region = pool.current;
                if (region != null && region != last) {
                    region.work();
                    last = region;
                    continue;
                }
                waitForRegion(last);
            }
        }

        /** Spins for {@link #SPIN_NANOS}, then parks until a region other than {@code last} is published. */
        private void waitForRegion(Region last) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (System.nanoTime() < spinUntil) {
                Region r = pool.current;
                if ((r != null && r != last) || pool.shutdown) {
                    return;
                }
                Thread.onSpinWait();
            }
            while (!pool.shutdown) {
                Region r = pool.current;
                if (r != null && r != last) {
                    return;
                }
                LockSupport.park(this);
            }
        }
    }
}
