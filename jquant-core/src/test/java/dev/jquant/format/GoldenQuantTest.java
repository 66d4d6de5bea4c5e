package dev.jquant.format;

import dev.jquant.SharedData;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufTensorInfo;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

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
        try (GgufFile f32 = GgufFile.open(SharedData.path("golden-quant/golden-f32.gguf"));
             GgufFile golden = GgufFile.open(SharedData.path("golden-quant/golden-" + type + ".gguf"));
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
                                + out.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) + ", llama.cpp wrote "
                                + want.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at));
                    }
                }
                checked++;
            }
            assertTrue(checked >= 7, type + ": only " + checked + " tensors of that type in the golden file");
        }
    }
}
