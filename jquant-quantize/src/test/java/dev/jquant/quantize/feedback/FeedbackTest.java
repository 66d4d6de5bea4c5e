package dev.jquant.quantize.feedback;

import dev.jquant.JQuant;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** stories260K calibrated on the second half of tinystories-dev, scored on its first half: feedback beats RTN at 4 and 3 bits. */
class FeedbackTest {

    @Test
    void lowerKlThanRoundToNearest() throws Exception {
        try (Checkpoint model = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            int[] tokens = model.tokenizer().encode(Files.readString(SharedData.file("tinystories/tinystories-dev.txt")), true, false);
            List<int[]> calibration = windows(tokens, tokens.length / 2, 4, 256);
            OutputDivergence.Reference eval = OutputDivergence.Reference.of(new Transformer(model), windows(tokens, 0, 4, 512), 256);
            for (int bits : new int[] {4, 3}) {
                IntFormat f = new IntFormat(bits, 32, false, ScaleType.F16);
                double rtn = OutputDivergence.measure(eval, new Transformer(model.withTensors(rtn(model, f, arena)))).meanKl();
                List<double[]> blocks = new ArrayList<>();
                Map<String, Tensor> q = new Feedback(f, true, 8).quantize(model, calibration, arena,
                        (layer, passes, before, after) -> blocks.add(new double[] {before, after}));
                double fb = OutputDivergence.measure(eval, new Transformer(model.withTensors(q))).meanKl();
                System.out.printf("stories260K %s KL: RTN %.5f, feedback %.5f%n", f.name(), rtn, fb);
                assertTrue(fb < 0.9 * rtn, bits + " bits: feedback " + fb + " vs RTN " + rtn);
                for (double[] b : blocks) {
                    assertTrue(b[1] <= b[0], "a block got worse: " + Arrays.toString(b));
                }
            }
        }
    }

    private static Map<String, Tensor> rtn(Checkpoint model, IntFormat f, Arena arena) {
        Map<String, Tensor> out = new HashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String s : W8A8.LINEARS) {
                Tensor t = model.tensor(TensorNames.block(l, s));
                out.put(t.name(), TensorConverter.convert(t, f, arena));
            }
        }
        return out;
    }

    static List<int[]> windows(int[] tokens, int start, int count, int length) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] w = Arrays.copyOfRange(tokens, start + i * length, start + (i + 1) * length);
            w[0] = 1;
            out.add(w);
        }
        return out;
    }
}
