package dev.jquant.train.qat;

import dev.jquant.JQuant;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.testing.SharedData;
import dev.jquant.train.Batch;
import dev.jquant.train.LearningRate;
import dev.jquant.train.Parameters;
import dev.jquant.train.Trainer;
import dev.jquant.train.TrainingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LSQ's step-size gradient, its clip mask, per-token activation fake-quantization, and both end to end. */
class LsqQuantizerTest {
    @TempDir
    Path dir;

    /**
     * LSQ's gradients are the exact derivatives of a surrogate in which each unclipped weight is
     * {@code w + s r} with its rounding offset r = round(v) - v frozen, and each clipped one {@code s (c - z)}:
     * finite differences of the loss of that surrogate, through the whole model, check the step sizes'
     * gradient (gradient scale divided out) and the weights' (zero where clipped).
     */
    @Test
    void stepSizeGradientMatchesFiniteDifferencesOfTheStraightThroughSurrogate() {
        ModelConfig c = new ModelConfig("llama", 16, 24, 2, 4, 2, 4, 23, 64, 1e-5f, 10000f, RopeStyle.ADJACENT_PAIRS,
                null, false, false, true);
        Random rnd = new Random(3);
        Parameters w = Parameters.initialize(c, 3);
        for (String name : w.names()) {
            float[] v = w.get(name);
            for (int i = 0; i < v.length; i++) {
                v[i] = name.endsWith("norm.weight") ? 1f + 0.3f * (float) rnd.nextGaussian() : 0.4f * (float) rnd.nextGaussian();
            }
        }
        IntFormat f = new IntFormat(2, 8, false, ScaleType.F32);
        Map<String, IntFormat> formats = new HashMap<>();
        for (String name : w.names()) {
            if (w.shape(name).length == 2 && name.startsWith("blk.")) {
                formats.put(name, f);
            }
        }
        LsqQuantizer lsq = new LsqQuantizer(formats, w);
        Parameters trainable = w.with(lsq.scales());
        for (String name : lsq.scales().names()) {
            float[] s = trainable.get(name);
            for (int i = 0; i < s.length; i++) {
                s[i] *= 0.6f + 0.3f * rnd.nextFloat(); // tighter than round-to-nearest, so some codes clip
            }
        }
        Batch b = Batch.ofWindows(rnd.ints(2 * 7, 0, c.vocabSize()).toArray(), 2, 6);
        TrainingModel model = new TrainingModel(c);
        Parameters grads = trainable.zerosLike();
        model.forwardBackward(lsq.apply(trainable), b, grads, 1f);
        lsq.backward(trainable, grads);

        int qp = 3;
        int clipped = 0;
        for (String weight : formats.keySet()) {
            float[] s0 = trainable.get(weight + LsqQuantizer.SUFFIX).clone();
            float[] wv = trainable.get(weight);
            float[] z = lsq.zeros(weight);
            int cols = (int) trainable.shape(weight)[1];
            int groups = f.groups(cols);
            float[] offset = new float[wv.length];
            for (int i = 0; i < wv.length; i++) {
                int k = (i / cols) * groups + (i % cols) / 8;
                double v = (double) wv[i] / s0[k] + z[k];
                boolean inside = v >= 0 && v <= 3;
                offset[i] = inside ? (float) (Math.rint(v) - v) : 0;
                if (!inside) {
                    clipped++;
                    assertEquals(0f, grads.get(weight)[i], weight + "[" + i + "] is clipped: no gradient");
                }
            }
            double[] dir = new double[s0.length];
            double analytic = 0;
            for (int k = 0; k < s0.length; k++) {
                dir[k] = rnd.nextGaussian() / Math.sqrt(s0.length);
                int groupLength = Math.min(8, cols - (k % groups) * 8);
                analytic += grads.get(weight + LsqQuantizer.SUFFIX)[k] * Math.sqrt(groupLength * qp) * dir[k];
            }
            double h = 1e-3;
            double plus = surrogateLoss(model, lsq, trainable, b, weight, s0, dir, h, z, offset, cols, groups);
            double minus = surrogateLoss(model, lsq, trainable, b, weight, s0, dir, -h, z, offset, cols, groups);
            double numeric = (plus - minus) / (2 * h);
            assertEquals(numeric, analytic, 2e-3 + 1e-2 * Math.abs(numeric), weight + " step sizes");
        }
        assertTrue(clipped > 0, "some codes are clipped");

        // what the file stores is what the forward pass saw, step sizes rounded to the scale type included
        IntFormat f16 = new IntFormat(2, 8, false, ScaleType.F16);
        Map<String, IntFormat> halfScales = new HashMap<>();
        formats.keySet().forEach(n -> halfScales.put(n, f16));
        LsqQuantizer half = new LsqQuantizer(halfScales, w);
        Parameters p = w.with(half.scales());
        for (float[] s : half.scales().names().stream().map(p::get).toList()) {
            for (int i = 0; i < s.length; i++) {
                s[i] *= 0.7f + 0.01f * i;
            }
        }
        Parameters seen = half.apply(p);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            for (String weight : halfScales.keySet()) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(seen.get(weight), half.encode(weight, p, arena).toFloats(), weight);
            }
        }
    }

    /** The loss with {@code weight} replaced by the surrogate at step sizes {@code s0 + h dir}, the other matrices fake-quantized. */
    private static double surrogateLoss(TrainingModel model, LsqQuantizer lsq, Parameters trainable, Batch b, String weight,
                                        float[] s0, double[] dir, double h, float[] z, float[] offset, int cols, int groups) {
        float[] wv = trainable.get(weight);
        float[] out = new float[wv.length];
        for (int i = 0; i < wv.length; i++) {
            int k = (i / cols) * groups + (i % cols) / 8;
            double s = s0[k] + h * dir[k];
            double v = Math.clamp((double) wv[i] / s + z[k], 0, 3);
            out[i] = (float) (s * (v - z[k] + offset[i]));
        }
        return model.loss(lsq.apply(trainable).map((n, v) -> n.equals(weight) ? out : v), b);
    }

    @Test
    void perTokenActivationQuantizationKeepsEachRowWithinHalfAStep() {
        Random rnd = new Random(11);
        int n = 5;
        int in = 37;
        float[] x = new float[n * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * (1 + i / in));
        }
        float[] q = ActivationQuantizedLinear.quantizeRows(x, n, in, 127);
        for (int t = 0; t < n; t++) {
            float amax = 0;
            for (int c = 0; c < in; c++) {
                amax = Math.max(amax, Math.abs(x[t * in + c]));
            }
            float step = amax / 127;
            java.util.Set<Float> levels = new java.util.HashSet<>();
            for (int c = 0; c < in; c++) {
                assertTrue(Math.abs(q[t * in + c] - x[t * in + c]) <= step / 2 * 1.0001, "row " + t);
                levels.add(Math.round(q[t * in + c] / step) * 1f);
            }
            assertTrue(levels.stream().allMatch(l -> Math.abs(l) <= 127), "codes within 8 bits");
        }
        float[] coarse = ActivationQuantizedLinear.quantizeRows(x, n, in, 1);
        assertTrue(java.util.stream.IntStream.range(0, in).mapToObj(c -> Math.abs(coarse[c])).distinct().count() <= 2,
                "2 bits: 0 and +-amax only");
    }

    @Test
    void lsqWritesTheWeightsItTrainedWithAndActivationQuantizationTrains() throws Exception {
        Path text = dir.resolve("train.txt");
        Files.writeString(text, Files.readString(SharedData.file("tinystories/tinystories-dev.txt")).substring(0, 100_000));
        Path out = dir.resolve("lsq.gguf");
        IntFormat int2 = new IntFormat(2, 32, false, ScaleType.F16);
        Trainer.Options opt = new Trainer.Options(2, 32, 1, 6, new LearningRate(1e-3f, 1e-4f, 1, 6), 0f, 0.9f, 0.95f,
                1e-8f, 1f, 7, 0);
        QuantizationAwareTraining.Result r = QuantizationAwareTraining.run(SharedData.stories260k(), text, out, int2,
                List.of(), false, new QuantizationAwareTraining.Extras(true, 8), opt, null);
        assertTrue(Double.isFinite(r.lastLoss()) && r.steps() == 6, r.toString());
        try (Checkpoint q = JQuant.load(out)) {
            assertEquals(int2, q.tensor("blk.0.attn_q.weight").format());
            assertEquals(int2, q.tensor("blk.4.ffn_down.weight").format());
            float[] logits = new dev.jquant.model.Transformer(q).newSession(8).prefillLast(new int[] {1, 403, 407});
            assertTrue(java.util.stream.IntStream.range(0, logits.length).allMatch(i -> Float.isFinite(logits[i])));
        }
    }
}
