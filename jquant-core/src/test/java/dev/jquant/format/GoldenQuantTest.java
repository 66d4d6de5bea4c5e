package dev.jquant.format;

import dev.jquant.testing.SharedData;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufTensorInfo;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bit-exactness against llama.cpp: golden-T.gguf is what `llama-quantize --pure` (ggml's reference
 * quantizers, no importance matrix) made of golden-f32.gguf.
 */
class GoldenQuantTest {

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "IQ4_XS"})
    void encodingTheF32ModelGivesLlamaCppBytes(String type) {
        Format format = Formats.byName(type);
        try (GgufFile f32 = GgufFile.open(SharedData.file("golden-quant/golden-f32.gguf"));
             GgufFile golden = GgufFile.open(SharedData.file("golden-quant/golden-" + type + ".gguf"));
             Arena arena = Arena.ofConfined()) {
            int checked = 0;
            for (GgufTensorInfo info : golden.tensorInfos()) {
                if (info.typeId() != format.typeId()) {
                    continue;
                }
                Tensor expected = golden.tensor(info);
                Tensor source = f32.tensor(f32.tensorInfos().stream().filter(i -> i.name().equals(info.name()))
                        .findFirst().orElseThrow());
                assertEquals(F32.INSTANCE, source.format());
                assertEquals(2, expected.rank());
                int cols = source.cols();
                float[] row = new float[cols];
                MemorySegment out = arena.allocate(expected.rowBytes());
                for (int r = 0; r < source.rows(); r++) {
                    source.decodeRow(r, row, 0);
                    format.encode(row, 0, cols, out, 0);
                    MemorySegment want = expected.data().asSlice(r * expected.rowBytes(), expected.rowBytes());
                    long at = out.mismatch(want);
                    if (at >= 0) {
                        fail(type + " " + info.name() + " row " + r + ": first differing byte " + at + " (block "
                                + at / format.blockBytes() + ", byte " + at % format.blockBytes() + "): got "
                                + out.get(ValueLayout.JAVA_BYTE, at) + ", llama.cpp wrote "
                                + want.get(ValueLayout.JAVA_BYTE, at));
                    }
                }
                checked++;
            }
            assertTrue(checked >= 7, type + ": only " + checked + " tensors of that type in the golden file");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "IQ4_XS"})
    void decodingLlamaCppBytesFollowsTheLayoutAndApproximatesTheSource(String type) {
        Format format = Formats.byName(type);
        try (GgufFile f32 = GgufFile.open(SharedData.file("golden-quant/golden-f32.gguf"));
             GgufFile golden = GgufFile.open(SharedData.file("golden-quant/golden-" + type + ".gguf"))) {
            double err2 = 0;
            double sig2 = 0;
            for (GgufTensorInfo info : golden.tensorInfos()) {
                if (info.typeId() != format.typeId()) {
                    continue;
                }
                Tensor t = golden.tensor(info);
                float[] decoded = t.toFloats();
                float[] source = f32.tensors().get(info.name()).toFloats();
                for (int i = 0; i < decoded.length; i++) {
                    int r = i / t.cols();
                    float expected = LayoutReader.element(format, t.data(), r * t.rowBytes(), i % t.cols());
                    if (Float.floatToIntBits(expected) != Float.floatToIntBits(decoded[i])) {
                        fail(type + " " + info.name() + " element " + i + ": decoded " + decoded[i]
                                + ", the layout says " + expected);
                    }
                    err2 += sq(decoded[i] - source[i]);
                    sig2 += sq(source[i]);
                }
            }
            // relative RMS error of a b-bit quantizer is about 2^-b; 3x that leaves room for heavy tails
            double bits = format.bitsPerWeight();
            double relRms = Math.sqrt(err2 / sig2);
            assertTrue(relRms < 3 * Math.pow(2, -Math.floor(bits - 0.5)), type + ": relative RMS error " + relRms);
        }
    }

    private static double sq(double v) {
        return v * v;
    }

    /** llama.cpp's own k-quant mixes of stories260K (with Q5_0/Q4_0/F16 fallbacks) open and decode. */
    @ParameterizedTest
    @ValueSource(strings = {"s260k-Q4_K_M.gguf", "s260k-Q3_K_M.gguf", "s260k-Q2_K.gguf", "s260k-im-Q4_K_M.gguf"})
    void llamaCppQuantizedModelsDecode(String file) {
        try (GgufFile gguf = GgufFile.open(SharedData.file("stories260K/llama.cpp-quantized/" + file));
             GgufFile reference = GgufFile.open(SharedData.file("stories260K/stories260K.gguf"))) {
            Set<String> types = new TreeSet<>();
            for (Tensor t : gguf.tensors().values()) {
                types.add(t.format().name());
                float[] v = t.toFloats();
                float[] ref = reference.tensors().get(t.name()).toFloats();
                double err2 = 0;
                double sig2 = 0;
                for (int i = 0; i < v.length; i++) {
                    assertTrue(Float.isFinite(v[i]), file + " " + t + " element " + i + " is " + v[i]);
                    err2 += sq(v[i] - ref[i]);
                    sig2 += sq(ref[i]);
                }
                // even 2-bit tensors keep the weights: relative RMS error well under 1
                assertTrue(err2 <= 0.25 * sig2, file + " " + t + ": relative RMS error " + Math.sqrt(err2 / sig2));
            }
            assertTrue(types.size() >= 3, file + " holds only " + types);
        }
    }
}
