package dev.jquant.bench;

import dev.jquant.kernel.Parallel;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.SyntheticModels;
import dev.jquant.model.Transformer;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Causal attention of a prompt: one layer with TinyLlama's attention shape (32 query heads, 4 KV
 * heads, head dim 64) but a 64-wide residual stream and FFN, so the projections are negligible and
 * a prefill of {@code tokens} tokens measures RoPE, the KV cache, the scores, softmax and the
 * weighted sum of values (what a 512-token prompt adds per layer on top of the matmuls).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,dev.jquant.format.*::dot", "-XX:CompileCommand=inline,dev.jquant.format.BlockDot::*", "-XX:CompileCommand=inline,dev.jquant.format.Nibbles::*", "-XX:CompileCommand=inline,dev.jquant.format.F16::toFloats", "-XX:CompileCommand=inline,dev.jquant.format.IQ4_NL::fmaNibbles", "-XX:CompileCommand=inline,dev.jquant.format.Q4_0::blockDot", "-XX:CompileCommand=inline,dev.jquant.format.Q5_0::withFifthBit", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::load", "-XX:CompileCommand=inline,dev.jquant.format.Q6_K::quants*", "-XX:CompileCommand=inline,dev.jquant.format.Bit5RowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.Q6_KRowGroups::chain", "-XX:CompileCommand=inline,dev.jquant.format.IntFormat::codes", "-XX:CompileCommand=dontinline,dev.jquant.format.IntFormat::*End"})
public class AttentionBench {
    @Param({"128", "512"})
    public int tokens;

    @Param({"1"})
    public int threads;

    private Transformer model;
    private int[] prompt;

    @Setup(Level.Trial)
    public void setUp() {
        Parallel.setThreads(threads);
        ModelConfig c = new ModelConfig("llama", 64, 64, 1, 32, 4, 64, 300, 512, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, null, false, false, false);
        model = new Transformer(SyntheticModels.random(c, 1));
        Random rnd = new Random(2);
        prompt = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            prompt[i] = rnd.nextInt(300);
        }
    }

    @Benchmark
    public float[] prefill() {
        return model.newSession(tokens).prefillLast(prompt);
    }
}
