package dev.jquant.eval;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The machine's read bandwidth as the engine's own thread pool sees it: the threads sum a buffer far
 * larger than the caches, as a decode step streams its weights. The ceiling that decode's "weight
 * GB/s" is compared with.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final long CHUNK = 1 << 20;

    private MemoryBandwidth() {
    }

    /** Best of {@code runs} passes over a {@code bytes} buffer (rounded to whole MiB), in GB/s. */
    public static double readGbPerSecond(long bytes, int runs) {
        int chunks = (int) Math.max(1, bytes / CHUNK);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(chunks * CHUNK, 64);
            buffer.fill((byte) 1);
            AtomicLong sink = new AtomicLong();
            double best = 0;
            for (int run = 0; run < runs; run++) {
                long t0 = System.nanoTime();
                Parallel.get().forRange(chunks, 1, (start, end) -> sink.addAndGet(sum(buffer, start * CHUNK, end * CHUNK)));
                best = Math.max(best, chunks * CHUNK / (double) (System.nanoTime() - t0));
            }
            if (sink.get() != (long) runs * chunks * CHUNK / 8 * 0x0101010101010101L) {
                throw new IllegalStateException("bandwidth buffer summed wrong"); // keeps the reads from being optimised away
            }
            return best;
        }
    }

    private static long sum(MemorySegment buffer, long from, long to) {
        LongVector acc0 = LongVector.zero(S);
        LongVector acc1 = LongVector.zero(S);
        long step = S.vectorByteSize();
        for (long at = from; at < to; at += 2 * step) {
            acc0 = acc0.add(LongVector.fromMemorySegment(S, buffer, at, ByteOrder.LITTLE_ENDIAN));
            acc1 = acc1.add(LongVector.fromMemorySegment(S, buffer, at + step, ByteOrder.LITTLE_ENDIAN));
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
