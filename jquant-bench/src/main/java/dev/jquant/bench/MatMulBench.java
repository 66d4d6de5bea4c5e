package dev.jquant.bench;

import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.kernel.MatMul;
import dev.jquant.kernel.Parallel;
import dev.jquant.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The prefill product: a 2048 x 2048 weight stored in {@code format} times {@code tokens} F32
 * activation vectors ({@link MatMul#matmul}: row tiles decoded once, 4 x 4 register-blocked
 * micro-kernel), on {@code threads} threads of the shared pool. GFLOP/s = 2 * 2048 * 2048 * tokens / time.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar jquant-bench/target/benchmarks.jar MatMulBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.jquant.format.*::dot", "-XX:CompileCommand=inline,dev.jquant.format.BlockDot::*", "-XX:CompileCommand=inline,dev.jquant.format.Nibbles::*", "-XX:CompileCommand=inline,dev.jquant.format.F16::toFloats", "-XX:CompileCommand=inline,dev.jquant.format.IQ4_NL::fmaNibbles", "-XX:CompileCommand=inline,dev.jquant.format.Q4_0::blockDot", "-XX:CompileCommand=inline,dev.jquant.format.Q5_0::withFifthBit", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::load", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::quants*", "-XX:CompileCommand=inline,dev.jquant.format.Bit5RowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.Q6_KRowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.IntFormat::codes", "-XX:CompileCommand=dontinline,dev.jquant.format.IntFormat::*End"})
public class MatMulBench {
    static final int ROWS = 2048;
    static final int COLS = 2048;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String format;

    @Param({"64"})
    public int tokens;

    @Param({"1"})
    public int threads;

    private Arena arena;
    private Tensor w;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        Format fmt = Formats.byName(format);
        long rowBytes = fmt.rowBytes(COLS);
        arena = Arena.ofShared();
        MemorySegment weights = arena.allocate(rowBytes * ROWS, 64);
        Random rnd = new Random(1);
        float[] row = new float[COLS];
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < COLS; i++) {
                row[i] = (float) rnd.nextGaussian() * 0.02f;
            }
            fmt.encode(row, 0, COLS, weights, r * rowBytes);
        }
        w = new Tensor("w", fmt, new long[] {ROWS, COLS}, weights);
        x = new float[tokens * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[tokens * ROWS];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        MatMul.matmul(w, x, tokens, out);
        return out;
    }
}
