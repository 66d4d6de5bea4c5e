package dev.jquant.bench;

import dev.jquant.format.Formats;
import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.FormatGrid;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.WeightGrid;
import dev.jquant.quantize.calibrate.ChannelStats;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.gptq.Gptq;
import dev.jquant.quantize.gptq.GptqOptions;
import dev.jquant.quantize.rtn.UniformGrid;

import java.util.Random;

/**
 * Where GPTQ's time goes on one matrix of a given shape, phase by phase, in wall-clock seconds on
 * the shared pool: Hessian accumulation over calibration tokens, the inverse-Hessian factor, the
 * column loop with lazy updates on a cheap integer grid, the same onto a GGUF grid (adds that
 * format's per-block scale search), and that scale search alone.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp jquant-cli/target/jquant.jar:jquant-bench/target/classes \
 *     dev.jquant.bench.GptqProbe ROWS COLS [TOKENS=1024] [FORMAT=Q4_K] [THREADS=2]
 * </pre>
 * TinyLlama-1.1B's ffn_down is 2048 x 5632, its attn_q 2048 x 2048, ffn_gate 5632 x 2048.
 */
public final class GptqProbe {
    private GptqProbe() {
    }

    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]);
        int cols = Integer.parseInt(a[1]);
        int tokens = a.length > 2 ? Integer.parseInt(a[2]) : 1024;
        String format = a.length > 3 ? a[3] : "Q4_K";
        Parallel.setThreads(a.length > 4 ? Integer.parseInt(a[4]) : 2);
        Random rnd = new Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() / Math.sqrt(cols));
        }
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up
            System.out.printf("round %d: %d x %d, %d tokens, %d threads%n", round, rows, cols, tokens,
                    Parallel.get().threads());
            ChannelStats stats = new ChannelStats(cols, true, 0);
            int chunk = 128;
            float[] x = new float[chunk * cols];
            long addNanos = 0;
            for (int done = 0; done < tokens; done += chunk) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                long s = System.nanoTime();
                stats.add(x, chunk);
                addNanos += System.nanoTime() - s;
            }
            double hessianSeconds = addNanos / 1e9;
            long t1 = System.nanoTime();
            double[] h = stats.hessian();
            double toDouble = seconds(t1);
            long t2 = System.nanoTime();
            Gptq.Prepared p = Gptq.prepare(h, cols, GptqOptions.DEFAULTS);
            double factor = seconds(t2);
            WeightGrid cheap = new UniformGrid(4, 128, false, new RangeObserver.MinMax());
            long t3 = System.nanoTime();
            Gptq.quantize(w, rows, p, cheap.encoder(w, rows, cols), GptqOptions.DEFAULTS);
            double loop = seconds(t3);
            WeightGrid gguf = new FormatGrid(Formats.byName(format));
            long t4 = System.nanoTime();
            Gptq.quantize(w, rows, p, gguf.encoder(w, rows, cols), GptqOptions.DEFAULTS);
            double loopGguf = seconds(t4);
            GridEncoder enc = gguf.encoder(w, rows, cols);
            long t5 = System.nanoTime();
            Parallel.get().forRange(rows, 16, (start, end) -> {
                float[] row = new float[cols];
                for (int r = start; r < end; r++) {
                    System.arraycopy(w, r * cols, row, 0, cols);
                    for (int c0 = 0; c0 < cols; c0 += enc.group()) {
                        enc.fit(r, row, c0);
                    }
                }
            });
            double fit = seconds(t5);
            System.out.printf("  hessian XᵀX %.2f s, to double %.2f s, damp+factor+inverse %.2f s%n",
                    hessianSeconds, toDouble, factor);
            System.out.printf("  column loop + lazy updates: int4 g128 %.2f s, %s %.2f s; %s scale search alone %.2f s%n",
                    loop, format, loopGguf, format, fit);
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
