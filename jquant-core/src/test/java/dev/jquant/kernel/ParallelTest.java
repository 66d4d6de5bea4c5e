package dev.jquant.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The shared pool: every item exactly once, failures reach the caller, nested and concurrent callers work. */
class ParallelTest {
    private final int threadsBefore = Parallel.get().threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void everyItemRunsExactlyOnceForAnyThreadCountAndShape() {
        for (int threads = 1; threads <= 3; threads++) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 2, 7, 64, 1000, 4099}) {
                for (int region = 0; region < 50; region++) { // back-to-back regions, as decode issues them
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    Parallel.get().forRange(n, 1, (start, end) -> {
                        for (int i = start; i < end; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "item " + i + " of " + n + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void aFailureInAnyChunkReachesTheCaller() {
        Parallel.setThreads(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                Parallel.get().forRange(100, 1, (start, end) -> {
                    if (start <= 97 && 97 < end) {
                        throw new IllegalArgumentException("item 97");
                    }
                }));
        assertEquals("item 97", e.getMessage());
        int[] sum = new int[1];
        Parallel.get().forRange(10, 10, (start, end) -> sum[0] += end - start); // the pool still works
        assertEquals(10, sum[0]);
    }

    @Test
    void nestedAndConcurrentCallersRunTheirRangesWhole() throws Exception {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(64 * 64);
        Runnable nested = () -> Parallel.get().forRange(64, 1, (s, e) -> {
            for (int i = s; i < e; i++) {
                int row = i;
                Parallel.get().forRange(64, 1, (s2, e2) -> {
                    for (int j = s2; j < e2; j++) {
                        hits.incrementAndGet(row * 64 + j);
                    }
                });
            }
        });
        Thread other = new Thread(nested);
        other.start();
        nested.run();
        other.join();
        for (int i = 0; i < hits.length(); i++) {
            assertEquals(2, hits.get(i), "cell " + i);
        }
    }
}
