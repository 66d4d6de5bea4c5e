package dev.jquant.quantize.hqq;

import dev.jquant.JQuant;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.tensor.TensorConverter;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HqqTest {

    /** Heavy-tailed weights (Student t, 3 degrees of freedom): HQQ's zero points beat min-max on both L1 and L2. */
    @Test
    void lowerWeightErrorThanMinMaxRounding() {
        Random rnd = new Random(17);
        int rows = 64;
        int cols = 256;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double chi = (Math.pow(rnd.nextGaussian(), 2) + Math.pow(rnd.nextGaussian(), 2) + Math.pow(rnd.nextGaussian(), 2)) / 3;
            w[i] = (float) (0.02 * rnd.nextGaussian() / Math.sqrt(chi));
        }
        IntFormat int4 = new IntFormat(4, 64, false, ScaleType.F16);
        try (Arena arena = Arena.ofShared()) {
            Tensor source = Tensor.ofFloats("w", w, arena, rows, cols);
            double[] rtn = errors(w, TensorConverter.convert(source, int4, arena).toFloats());
            double[] hqq = errors(w, Hqq.DEFAULT.quantize(source, int4, arena).toFloats());
            System.out.printf("INT4 g64 weight error, mean |e| / rms: RTN %.6f / %.6f, HQQ %.6f / %.6f%n", rtn[0], rtn[1], hqq[0], hqq[1]);
            assertTrue(hqq[0] < 0.95 * rtn[0], "L1 " + hqq[0] + " vs " + rtn[0]);
            assertTrue(hqq[1] < rtn[1], "L2 " + hqq[1] + " vs " + rtn[1]);
        }
    }

    @Test
    void constantGroupsAreExact() {
        float[] w = new float[128];
        java.util.Arrays.fill(w, 0, 64, 0.25f);
        java.util.Arrays.fill(w, 64, 128, -3f);
        try (Arena arena = Arena.ofShared()) {
            float[] back = Hqq.DEFAULT.quantize(Tensor.ofFloats("w", w, arena, 1, 128),
                    new IntFormat(4, 64, false, ScaleType.F16), arena).toFloats();
            assertEquals(0.25f, back[0], 1e-6);
            assertEquals(-3f, back[127], 1e-6);
        }
    }

    /** On stories260K, HQQ's output is closer to F32 than min-max rounding's at 4 and 3 bits. */
    @Test
    void stories260kKlBelowRtn() throws Exception {
        try (Checkpoint model = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            int[] tokens = model.tokenizer().encode(Files.readString(SharedData.file("tinystories/tinystories-dev.txt")), true, false);
            List<int[]> eval = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int[] w = java.util.Arrays.copyOfRange(tokens, i * 512, (i + 1) * 512);
                w[0] = 1;
                eval.add(w);
            }
            Transformer reference = new Transformer(model);
            for (int bits : new int[] {4, 3}) {
                IntFormat f = new IntFormat(bits, 32, false, ScaleType.F16);
                double rtn = OutputDivergence.measure(reference, new Transformer(model.withTensors(rtn(model, f, arena))),
                        eval, 256).meanKl();
                double hqq = OutputDivergence.measure(reference, new Transformer(model.withTensors(
                        Hqq.DEFAULT.quantize(model, f, arena))), eval, 256).meanKl();
                System.out.printf("stories260K %s KL: RTN %.5f, HQQ %.5f%n", f.name(), rtn, hqq);
                assertTrue(hqq < rtn, bits + " bits: HQQ " + hqq + " vs RTN " + rtn);
            }
        }
    }

    private static Map<String, Tensor> rtn(Checkpoint model, IntFormat f, Arena arena) {
        Map<String, Tensor> out = new HashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String s : W8A8.LINEARS) {
                Tensor t = model.tensor(dev.jquant.model.TensorNames.block(l, s));
                out.put(t.name(), TensorConverter.convert(t, f, arena));
            }
        }
        return out;
    }

    private static double[] errors(float[] a, float[] b) {
        double l1 = 0;
        double l2 = 0;
        for (int i = 0; i < a.length; i++) {
            double e = a[i] - b[i];
            l1 += Math.abs(e);
            l2 += e * e;
        }
        return new double[] {l1 / a.length, Math.sqrt(l2 / a.length)};
    }
}
