package dev.jquant.quantize.mixed;

import dev.jquant.JQuant;
import dev.jquant.format.Formats;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;
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

/**
 * The must-show of issue 4: on stories260K, a mix searched for a 4.5 bits-per-weight budget over
 * the block weights has lower KL against F32 (on text it was not calibrated on) than every uniform
 * 4-bit setting of the same or smaller size (GPTQ and AWQ are compared in BENCHMARKS.md once merged).
 */
class Stories260kMixedPrecisionTest {

    @Test
    void mixAtFourAndAHalfBitsBeatsEveryUniformFourBitSetting() throws Exception {
        try (Checkpoint model = JQuant.load(SharedData.stories260k()); Arena arena = Arena.ofShared()) {
            int[] tokens = model.tokenizer().encode(Files.readString(SharedData.file("tinystories/tinystories-dev.txt")), true, false);
            Transformer reference = new Transformer(model);
            OutputDivergence.Reference calibration = OutputDivergence.Reference.of(reference,
                    windows(tokens, tokens.length / 2, 2, 256), 128);
            OutputDivergence.Reference eval = OutputDivergence.Reference.of(reference, windows(tokens, 0, 4, 512), 256);
            List<String> linears = linears(model);
            long budget = MixedPrecision.budgetForBitsPerWeight(model, linears, 4.5);

            List<int[]> calibrationWindows = windows(tokens, tokens.length / 2, 2, 256);
            Setting.Hessians hessians = MixedPrecision.hessians(model, calibrationWindows);
            MixedPrecision.Result mix = MixedPrecision.search(model, linears, MixedPrecision.defaultCandidates(true),
                    calibration, hessians, budget, null, arena);
            double mixKl = OutputDivergence.measure(eval, new Transformer(model.withTensors(mix.tensors()))).meanKl();
            System.out.printf("mixed %.3f bpw: eval KL %.5f (calibration: predicted %.5f, measured %.5f)%n",
                    mix.bitsPerWeight(), mixKl, mix.predictedKl(), mix.measuredKl());
            assertTrue(mix.bytes() <= budget, mix.bytes() + " > " + budget);

            for (Setting uniform : uniformFourBit()) {
                Map<String, Tensor> q = new HashMap<>();
                long bytes = 0;
                for (String n : linears) {
                    q.put(n, uniform.apply(model.tensor(n), arena, hessians));
                    bytes += q.get(n).byteSize();
                }
                double kl = OutputDivergence.measure(eval, new Transformer(model.withTensors(q))).meanKl();
                System.out.printf("uniform %-24s %.3f bpw: eval KL %.5f%n", uniform.label(), 8.0 * bytes / mix.parameters(), kl);
                // nominal 4.5-bit formats cost 4.63 here (ffn_down's 172 columns pad to 192): compare with those too
                if (bytes <= budget * 1.03) {
                    assertTrue(mixKl < kl, "mix " + mixKl + " vs " + uniform.label() + " " + kl);
                }
            }
        }
    }

    static List<Setting> uniformFourBit() {
        List<Setting> s = new ArrayList<>();
        for (String f : List.of("INT4_G64_ASYM_F16", "INT4_G128_ASYM_F16", "INT4_G32_SYM_F16", "INT4_G64_SYM_F16",
                "NF4", "NF4_DQ", "FP4_G32", "MXFP4")) {
            s.add(new Setting("rtn", Formats.byName(f)));
        }
        s.add(new Setting("hqq", Formats.byName("INT4_G64_ASYM_F16")));
        s.add(new Setting("hqq", Formats.byName("INT4_G128_ASYM_F16")));
        s.add(new Setting("hqq", Formats.byName("INT4_ROW_ASYM_F16")));
        s.add(new Setting("gptq", Formats.byName("INT4_ROW_ASYM_F16")));
        s.add(new Setting("gptq", Formats.byName("INT4_G64_ASYM_F16")));
        return s;
    }

    static List<String> linears(Checkpoint model) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String s : W8A8.LINEARS) {
                out.add(TensorNames.block(l, s));
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
