package dev.jquant.quantize;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.format.Formats;
import dev.jquant.format.Q4_K;
import dev.jquant.format.Q8_0;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufTensorInfo;
import dev.jquant.model.Checkpoint;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufQuantizerTest {

    /** The whole file jquant writes holds, tensor for tensor, the bytes llama-quantize --pure wrote. */
    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "IQ4_XS"})
    void quantizingTheGoldenModelReproducesLlamaCppsFile(String type, @TempDir Path dir) {
        Path out = dir.resolve("out.gguf");
        try (Checkpoint c = JQuant.load(SharedData.file("golden-quant/golden-f32.gguf"))) {
            RtnPlanner planner = new RtnPlanner(Formats.byName(type), null, null, List.of());
            GgufQuantizer.quantize(c, planner.plan(c), out, null);
        }
        try (GgufFile ours = GgufFile.open(out);
             GgufFile golden = GgufFile.open(SharedData.file("golden-quant/golden-" + type + ".gguf"))) {
            assertEquals(golden.tensorInfos().size(), ours.tensorInfos().size());
            Map<String, GgufTensorInfo> byName = ours.tensorInfos().stream()
                    .collect(Collectors.toMap(GgufTensorInfo::name, i -> i));
            for (GgufTensorInfo want : golden.tensorInfos()) {
                GgufTensorInfo got = byName.get(want.name());
                assertEquals(want.typeId(), got.typeId(), want.name());
                long at = ours.tensor(got).data().mismatch(golden.tensor(want).data());
                assertEquals(-1, at, type + " " + want.name() + " differs at byte " + at);
            }
            assertEquals(golden.getLong("general.file_type"), ours.getLong("general.file_type"));
            assertEquals(golden.getString("general.architecture"), ours.getString("general.architecture"));
        }
    }

    @Test
    void rowsThatDoNotFitTheBlocksFallBackAsLlamaCppDoes() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Map<String, TensorPlan> plans = new RtnPlanner(Q4_K.INSTANCE, null, null, List.of()).plan(c).stream()
                    .collect(Collectors.toMap(TensorPlan::name, p -> p));
            assertEquals("Q5_0", plans.get("blk.0.attn_q.weight").target().name(), "64 columns: Q4_K -> Q5_0");
            assertEquals(F16.INSTANCE, plans.get("blk.0.ffn_down.weight").target(), "172 columns: nothing fits but F16");
            assertTrue(plans.get("blk.0.ffn_down.weight").reason().contains("172 columns"));
            assertEquals(F32.INSTANCE, plans.get("blk.0.attn_norm.weight").target());
        }
    }

    @Test
    void overridesAndKeepPatternsApply() {
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            Map<String, TensorPlan> plans = new RtnPlanner(Q8_0.INSTANCE, F16.INSTANCE, F32.INSTANCE,
                    List.of(Pattern.compile("attn_v"))).plan(c).stream().collect(Collectors.toMap(TensorPlan::name, p -> p));
            assertEquals(F16.INSTANCE, plans.get("token_embd.weight").target());
            assertEquals(F32.INSTANCE, plans.get("output.weight").target());
            assertEquals(F32.INSTANCE, plans.get("blk.3.attn_v.weight").target());
            assertTrue(plans.get("blk.3.attn_v.weight").reason().startsWith("kept"));
            assertEquals(Q8_0.INSTANCE, plans.get("blk.3.attn_q.weight").target());
        }
    }

    @Test
    void aFailureLeavesNoOutputBehind(@TempDir Path dir) {
        Path out = dir.resolve("never.gguf");
        try (Checkpoint c = JQuant.load(SharedData.stories260k())) {
            List<TensorPlan> plans = new java.util.ArrayList<>(new RtnPlanner(Q8_0.INSTANCE, null, null, List.of()).plan(c));
            plans.add(new TensorPlan("no.such.tensor", Q8_0.INSTANCE, "test"));
            JQuantException e = assertThrows(JQuantException.class, () -> GgufQuantizer.quantize(c, plans, out, null));
            assertTrue(e.getMessage().contains("no.such.tensor"), e.getMessage());
        }
        assertFalse(Files.exists(out));
        assertEquals(0, dir.toFile().list().length, "no temporary file left");
    }
}
