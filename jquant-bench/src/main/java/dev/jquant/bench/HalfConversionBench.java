package dev.jquant.bench;

import dev.jquant.format.F16;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * F16 to F32 conversion of one 2048-element row (what prefill decodes per row and decode's dot
 * converts): the vectorised {@link F16#decode}, the scalar {@code Float.float16ToFloat} loop it
 * replaced ({@link F16#decodeScalar}), and a bulk copy to {@code short[]} followed by a plain loop
 * that C2's auto-vectoriser may turn into vcvtph2ps.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.jquant.format.*::dot", "-XX:CompileCommand=inline,dev.jquant.format.BlockDot::*", "-XX:CompileCommand=inline,dev.jquant.format.Nibbles::*", "-XX:CompileCommand=inline,dev.jquant.format.F16::toFloats", "-XX:CompileCommand=inline,dev.jquant.format.IQ4_NL::fmaNibbles", "-XX:CompileCommand=inline,dev.jquant.format.Q4_0::blockDot", "-XX:CompileCommand=inline,dev.jquant.format.Q5_0::withFifthBit", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::load", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::quants*", "-XX:CompileCommand=inline,dev.jquant.format.Bit5RowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.Q6_KRowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.IntFormat::codes", "-XX:CompileCommand=dontinline,dev.jquant.format.IntFormat::*End"})
public class HalfConversionBench {
    static final int N = 2048;
    private static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Arena arena;
    private MemorySegment halves;
    private final float[] out = new float[N];
    private final short[] shorts = new short[N];

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        halves = arena.allocate(2L * N, 64);
        Random rnd = new Random(1);
        for (int i = 0; i < N; i++) {
            halves.set(LE, 2L * i, Float.floatToFloat16((float) rnd.nextGaussian()));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] vectorDecode() {
        F16.INSTANCE.decode(halves, 0, out, 0, N);
        return out;
    }

    @Benchmark
    public float[] scalarDecode() {
        F16.INSTANCE.decodeScalar(halves, 0, out, 0, N);
        return out;
    }

    @Benchmark
    public float[] copyThenAutoVectorisedLoop() {
        MemorySegment.copy(halves, LE, 0, shorts, 0, N);
        for (int i = 0; i < N; i++) {
            out[i] = Float.float16ToFloat(shorts[i]);
        }
        return out;
    }
}
