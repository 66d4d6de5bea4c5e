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
 * One matrix-vector product, single-threaded: every row of a ROWS x COLS weight stored in
 * {@code format} dotted with one F32 activation vector, straight from the stored bytes.
 *
 * <p>Run: {@code ./mvnw -B -pl jquant-core,jquant-bench package -DskipTests && java --add-modules
 * jdk.incubator.vector -jar jquant-bench/target/benchmarks.jar MatVecBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.jquant.format.*::dot", "-XX:CompileCommand=inline,dev.jquant.format.BlockDot::*", "-XX:CompileCommand=inline,dev.jquant.format.Nibbles::*", "-XX:CompileCommand=inline,dev.jquant.format.F16::toFloats", "-XX:CompileCommand=inline,dev.jquant.format.IQ4_NL::fmaNibbles", "-XX:CompileCommand=inline,dev.jquant.format.Q4_0::blockDot", "-XX:CompileCommand=inline,dev.jquant.format.Q5_0::withFifthBit", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::load", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::quants*", "-XX:CompileCommand=inline,dev.jquant.format.Bit5RowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.Q6_KRowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.IntFormat::codes", "-XX:CompileCommand=dontinline,dev.jquant.format.IntFormat::*End"})
public class MatVecBench {
    static final int ROWS = 4096;
    static final int COLS = 4096;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q2_K", "Q3_K", "Q5_K", "Q5_0", "IQ4_XS"})
    public String format;

    private Format fmt;
    private Arena arena;
    private MemorySegment weights;
    private long rowBytes;
    private float[] x;
    private float[] out;
    private Format act;
    private MemorySegment xq;
    private Tensor runtimeWeight;

    @Setup(Level.Trial)
    public void setUp() {
        fmt = Formats.byName(format);
        rowBytes = fmt.rowBytes(COLS);
        arena = Arena.ofShared();
        weights = arena.allocate(rowBytes * ROWS, 64);
        Random rnd = new Random(1);
        float[] row = new float[COLS];
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < COLS; i++) {
                row[i] = (float) rnd.nextGaussian() * 0.02f;
            }
            fmt.encode(row, 0, COLS, weights, r * rowBytes);
        }
        x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[ROWS];
        act = fmt.activationFormat();
        xq = arena.allocate(act.rowBytes(COLS), 64);
        runtimeWeight = new Tensor("w", fmt, new long[] {ROWS, COLS}, weights).withRowGroups(arena);
        Parallel.setThreads(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] floatDot() {
        for (int r = 0; r < ROWS; r++) {
            out[r] = fmt.dot(weights, r * rowBytes, x, 0, COLS);
        }
        return out;
    }

    /**
     * The runtime's decode product ({@code MatMul.matvec}, one thread): on the weights repacked into
     * row groups where the format has them (Q4_0, Q4_K, Q6_K, Q8_0, Q5_0, Q5_K here), else as {@link #floatDot}.
     */
    @Benchmark
    public float[] runtime() {
        MatMul.matvec(runtimeWeight, x, out);
        return out;
    }

    /** The same product with the activations quantized once to the format's activation format (Q8_0 / Q8_K) first. */
    @Benchmark
    public float[] quantizedDot() {
        act.encode(x, 0, COLS, xq, 0);
        for (int r = 0; r < ROWS; r++) {
            out[r] = fmt.dotQuantized(weights, r * rowBytes, xq, 0, COLS);
        }
        return out;
    }
}
