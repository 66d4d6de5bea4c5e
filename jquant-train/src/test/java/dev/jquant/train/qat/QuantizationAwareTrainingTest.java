package dev.jquant.train.qat;

import dev.jquant.JQuant;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import dev.jquant.train.LearningRate;
import dev.jquant.train.Parameters;
import dev.jquant.train.Trainer;
import dev.jquant.train.TrainingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** QAT on stories260K (tinystories-dev text): what it trained through is what it writes, and it beats RTN. */
class QuantizationAwareTrainingTest {
    @TempDir
    Path dir;

    @Test
    void fakeQuantizationIsTheFormatsRoundTrip() {
        Format q4 = Formats.byName("Q4_0");
        float[] v = new float[2 * 64];
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        float[] q = FakeQuantizer.roundTrip(v, 64, q4);
        double maxErr = 0;
        java.util.Set<Float> levels = new java.util.HashSet<>();
        for (int i = 0; i < 32; i++) {
            maxErr = Math.max(maxErr, Math.abs(q[i] - v[i]));
            levels.add(q[i]);
        }
        assertTrue(maxErr > 0 && maxErr < 0.3, "error " + maxErr);
        assertTrue(levels.size() <= 16, "a Q4_0 block has at most 16 levels: " + levels.size());
        assertEquals(0, FakeQuantizer.roundTrip(q, 64, q4)[5] - q[5], 1e-6, "quantized values are fixed points");
    }

    @Test
    void trainsThroughTheQuantizedWeightsItWrites() throws Exception {
        Path text = dir.resolve("train.txt");
        String dev = Files.readString(SharedData.file("tinystories/tinystories-dev.txt"));
        Files.writeString(text, dev.substring(0, 200_000));
        Path out = dir.resolve("qat.gguf");
        IntFormat int3 = new IntFormat(3, 64, false, ScaleType.F16);
        Trainer.Options opt = new Trainer.Options(4, 64, 1, 30, new LearningRate(1e-3f, 1e-4f, 3, 30), 0f, 0.9f, 0.95f,
                1e-8f, 1f, 7, 0);
        QuantizationAwareTraining.Result r = QuantizationAwareTraining.run(SharedData.stories260k(), text, out, int3,
                java.util.List.of(), false, opt, null);
        assertTrue(r.lastLoss() < r.firstLoss() - 0.1, r.firstLoss() + " -> " + r.lastLoss());
        try (Checkpoint q = JQuant.load(out); Checkpoint f = JQuant.load(SharedData.stories260k())) {
            assertEquals(int3, q.tensor("blk.0.ffn_down.weight").format());
            assertEquals(f.tensors().keySet(), q.tensors().keySet());
            // the file's weights are the fake-quantized weights the trainer's forward pass used
            Parameters stored = Parameters.fromCheckpoint(q);
            float[] again = FakeQuantizer.roundTrip(stored.get("blk.1.attn_q.weight"), 64, int3);
            assertEquals(0, maxDiff(again, stored.get("blk.1.attn_q.weight")), 1e-6);
            int[] tokens = q.tokenizer().encode("Once upon a time, there was a little dog", true, false);
            float[] train = new TrainingModel(stored.config()).forward(stored, tokens, 1, tokens.length);
            float[] engine = new Transformer(q).newSession(64).prefillLast(tokens);
            float[] last = java.util.Arrays.copyOfRange(train, (tokens.length - 1) * 512, tokens.length * 512);
            assertEquals(0, maxDiff(engine, last), 1e-3);
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
