package dev.jquant.bench;

import dev.jquant.format.*;
import dev.jquant.kernel.*;
import dev.jquant.tensor.Tensor;
import java.lang.foreign.*;
import java.lang.management.*;
import java.util.*;

/**
 * Kernel timings in thread CPU time, for a machine shared with other work where wall-clock JMH
 * numbers mostly measure the scheduler: the best of five batches, single thread.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector [the jquant.jvm.flags CompileCommands] -cp jquant-bench/target/benchmarks.jar \
 *     dev.jquant.bench.KernelProbe matvec|matmul|decode F32,F16,Q8_0,Q4_0,Q4_K,Q6_K TOKENS [ROWS]
 * </pre>
 * A ROWS (default 2048) x 2048 weight per format (32768 rows of Q4_0 outgrow a 32 MiB L3, so the
 * product streams from memory): matvec reports weight GB/s, matmul GFLOP/s over TOKENS tokens,
 * decode the vectorised against the scalar row decoder, pages the row-group product from memory with
 * the weights in 4 KiB pages against the same weights in huge pages ({@code LargePages}), alternated
 * in one JVM, in wall time on one and two threads (give ROWS of 65536 or more, beyond the L3).
 */
public final class KernelProbe {
    private static final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    interface Op { void run(); }
    static double cpuMs(Op op, int reps) {
        for (int i = 0; i < Math.max(3, reps / 2); i++) op.run();
        double best = Double.MAX_VALUE;
        for (int k = 0; k < 5; k++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < reps; i++) op.run();
            best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / 1e6 / reps);
        }
        return best;
    }
    public static void main(String[] a) {
        Parallel.setThreads(1);
        String mode = a[0];
        int rows = a.length > 3 ? Integer.parseInt(a[3]) : 2048, cols = 2048;
        Arena arena = Arena.ofShared();
        Random rnd = new Random(1);
        for (String fn : a[1].split(",")) {
            Format f = Formats.byName(fn);
            long rb = f.rowBytes(cols);
            MemorySegment seg = arena.allocate(rb * rows, 64);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) { for (int i = 0; i < cols; i++) row[i] = (float) rnd.nextGaussian() * 0.02f; f.encode(row, 0, cols, seg, r * rb); }
            Tensor w = new Tensor("w", f, new long[]{rows, cols}, seg);
            int tokens = Integer.parseInt(a[2]);
            float[] x = new float[tokens * cols]; for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] out = new float[tokens * rows];
            float[] dec = new float[cols];
            switch (mode) {
                case "matmul" -> { double ms = cpuMs(() -> MatMul.matmul(w, x, tokens, out), 3);
                    System.out.printf("%-6s matmul %dx%d x %d tokens: %.2f ms cpu, %.1f GFLOP/s%n", fn, rows, cols, tokens, ms, 2.0 * rows * cols * tokens / ms / 1e6);
                    Tensor packed = w.withRowGroups(arena);
                    if (packed != w) { double pms = cpuMs(() -> MatMul.matmul(packed, x, tokens, out), 3);
                        System.out.printf("%-6s matmul %dx%d x %d tokens in row groups: %.2f ms cpu, %.1f GFLOP/s%n", fn, rows, cols, tokens, pms, 2.0 * rows * cols * tokens / pms / 1e6); } }
                case "matvec" -> { double ms = cpuMs(() -> MatMul.matvec(w, x, out), 20);
                    System.out.printf("%-6s matvec %dx%d: %.3f ms cpu, %.1f GB/s%n", fn, rows, cols, ms, rb * rows / ms / 1e6);
                    Tensor packed = w.withRowGroups(arena);
                    if (packed != w) { double pms = cpuMs(() -> MatMul.matvec(packed, x, out), 20);
                        System.out.printf("%-6s matvec %dx%d in row groups: %.3f ms cpu, %.1f GB/s%n", fn, rows, cols, pms, rb * rows / pms / 1e6); } }
                case "pages" -> pages(fn, w, x, out);
                case "decode" -> { double ms = cpuMs(() -> { for (int r = 0; r < rows; r++) f.decode(seg, r * rb, dec, 0, cols); }, 5);
                    double ms2 = cpuMs(() -> { for (int r = 0; r < rows; r++) f.decodeScalar(seg, r * rb, dec, 0, cols); }, 5);
                    System.out.printf("%-6s decode %d rows: vector %.3f ms, scalar %.3f ms cpu%n", fn, rows, ms, ms2); }
            }
        }
    }

    /** The same weight repacked twice, in small and in huge pages, products alternated; see the class comment. */
    static void pages(String fn, Tensor w, float[] x, float[] out) {
        System.setProperty("jquant.largePages", "false");
        Tensor small = w.withRowGroups(Arena.ofAuto());
        System.setProperty("jquant.largePages", "true");
        Tensor huge = w.withRowGroups(Arena.ofAuto());
        if (small == w) {
            System.out.printf("%-6s has no row groups%n", fn);
            return;
        }
        long bytes = small.rowGroups().byteSize();
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            List<Double> ratios = new ArrayList<>();
            long bestSmall = Long.MAX_VALUE, bestHuge = Long.MAX_VALUE;
            for (int rep = 0; rep < 40; rep++) {
                long t0 = System.nanoTime();
                MatMul.matvec(small, x, out);
                long t1 = System.nanoTime();
                MatMul.matvec(huge, x, out);
                long t2 = System.nanoTime();
                if (rep >= 10) {
                    ratios.add((double) (t1 - t0) / (t2 - t1));
                    bestSmall = Math.min(bestSmall, t1 - t0);
                    bestHuge = Math.min(bestHuge, t2 - t1);
                }
            }
            Collections.sort(ratios);
            System.out.printf("%-6s matvec %dx%d from memory, %d thread(s): 4 KiB pages %.1f GB/s, huge pages %.1f GB/s (best); "
                    + "time 4 KiB / huge: median %.3f, quartiles %.3f-%.3f%n", fn, w.dim(0), w.dim(1), threads,
                    (double) bytes / bestSmall, (double) bytes / bestHuge, ratios.get(ratios.size() / 2),
                    ratios.get(ratios.size() / 4), ratios.get(3 * ratios.size() / 4));
        }
        Parallel.setThreads(1);
    }
}
