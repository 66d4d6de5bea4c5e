package dev.jquant.quantize.smoothquant;

import dev.jquant.JQuant;
import dev.jquant.kernel.Int8MatMul;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.w8a8.ActivationMode;
import dev.jquant.quantize.w8a8.ActivationRanges;
import dev.jquant.testing.SharedData;
import dev.jquant.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * W8A8 on a real model: stories260K calibrated on the second half of tinystories-dev, scored on
 * chunks from its first half the way llama-perplexity scores them.
 */
class Stories260kW8A8Test {

    @Test
    void smoothQuantPerplexityWithinOnePercentOfF32() throws IOException {
        try (Checkpoint model = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            Tokenizer tok = model.tokenizer();
            int[] tokens = tok.encode(Files.readString(SharedData.file("tinystories/tinystories-dev.txt")), true, false);
            List<int[]> calibration = windows(tokens, tokens.length / 2, 16, 256, tok.bos());
            List<int[]> eval = windows(tokens, 0, 6, 512, tok.bos());
            Transformer reference = new Transformer(model);
            ActivationRanges ranges = ActivationRanges.collect(reference, calibration);

            Checkpoint smoothed = model.withTensors(new SmoothQuant(0.5, ActivationMode.DYNAMIC).quantize(model, ranges, arena));
            assertEquals(Int8MatMul.WEIGHTS, smoothed.tensor(TensorNames.block(0, TensorNames.FFN_UP)).format());
            OutputDivergence dynamic = OutputDivergence.measure(reference, new Transformer(smoothed), eval, 256);
            OutputDivergence fixed = OutputDivergence.measure(reference, new Transformer(model.withTensors(
                    new SmoothQuant(0.5, ActivationMode.STATIC).quantize(model, ranges, arena))), eval, 256);
            OutputDivergence split = OutputDivergence.measure(reference, new Transformer(model.withTensors(
                    new OutlierSplit(OutlierSplit.DEFAULT_THRESHOLD, ActivationMode.DYNAMIC).quantize(model, ranges, arena))), eval, 256);
            System.out.printf("stories260K PPL: F32 %.4f, SmoothQuant W8A8 dynamic %.4f (KL %.5f), static %.4f (KL %.5f),"
                            + " int8-outlier %.4f (KL %.5f)%n", dynamic.refPpl(), dynamic.ppl(), dynamic.meanKl(), fixed.ppl(),
                    fixed.meanKl(), split.ppl(), split.meanKl());
            assertTrue(Math.abs(dynamic.ppl() / dynamic.refPpl() - 1) < 0.01, "dynamic " + dynamic);
            // one scale per tensor for the whole calibration range costs more than a scale per token
            assertTrue(Math.abs(fixed.ppl() / fixed.refPpl() - 1) < 0.02, "static " + fixed);
            assertTrue(split.meanKl() < 0.005, "int8-outlier KL " + split.meanKl());
            assertTrue(dynamic.meanKl() > 0 && dynamic.meanKl() < 0.005, "KL " + dynamic.meanKl());
        }
    }

    /** {@code count} consecutive windows from {@code start}, each starting with BOS. */
    static List<int[]> windows(int[] tokens, int start, int count, int length, int bos) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] w = Arrays.copyOfRange(tokens, start + i * length, start + (i + 1) * length);
            w[0] = bos;
            out.add(w);
        }
        return out;
    }
}
