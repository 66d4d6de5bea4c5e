package dev.jquant.io.safetensors;

import dev.jquant.JQuantException;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SafetensorsShardsTest {
    private static final String INDEX = """
            {"metadata": {"total_size": 20},
             "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                            "c": "model-00001-of-00002.safetensors"}}""";

    @TempDir
    Path dir;

    @Test
    void readsTensorsFromTheShardTheIndexNames() throws IOException {
        writeShards();
        Files.writeString(dir.resolve(SafetensorsShards.INDEX_FILE), INDEX);
        try (SafetensorsShards s = SafetensorsShards.open(dir)) {
            assertEquals(List.of("a", "b", "c"), List.copyOf(s.names()));
            assertEquals(2, s.files().size());
            assertArrayEquals(new float[]{1, 2}, s.tensor("a").toFloats());
            assertArrayEquals(new float[]{3}, s.tensor("b").toFloats());
            assertArrayEquals(new float[]{4, 5}, s.tensor("c").toFloats());
            JQuantException e = assertThrows(JQuantException.class, () -> s.tensor("d"));
            assertEquals(dir + ": tensor d is in none of the safetensors files", e.getMessage());
        }
    }

    @Test
    void missingShardIsNamed() throws IOException {
        writeShards();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsShards.INDEX_FILE), INDEX);
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsShards.open(dir));
        assertEquals(dir.resolve(SafetensorsShards.INDEX_FILE)
                + ": shard model-00002-of-00002.safetensors (holding tensor b) is missing", e.getMessage());
    }

    @Test
    void tensorAbsentFromItsShard() throws IOException {
        writeShards();
        Files.writeString(dir.resolve(SafetensorsShards.INDEX_FILE),
                INDEX.replace("\"b\": \"model-00002", "\"b\": \"model-00001"));
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsShards.open(dir));
        assertEquals(dir.resolve(SafetensorsShards.INDEX_FILE)
                + ": tensor b is mapped to model-00001-of-00002.safetensors, which does not hold it", e.getMessage());
    }

    @Test
    void shardOutsideTheDirectoryIsRefused() throws IOException {
        writeShards();
        Files.writeString(dir.resolve(SafetensorsShards.INDEX_FILE),
                "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsShards.open(dir));
        assertEquals(dir.resolve(SafetensorsShards.INDEX_FILE)
                + ": weight_map.a: '../../etc/passwd' is not a file name in this directory", e.getMessage());
    }

    @Test
    void directoryWithoutWeights() {
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsShards.open(dir));
        assertEquals(dir + ": neither model.safetensors nor model.safetensors.index.json is there", e.getMessage());
    }

    @Test
    void pickleWeightsAreNamedAsTheReason() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[]{'P', 'K'});
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsShards.open(dir));
        assertEquals(dir + ": only PyTorch pickle weights (pytorch_model.bin) are there; jquant reads safetensors"
                + " (convert them first)", e.getMessage());
    }

    private void writeShards() {
        try (Arena arena = Arena.ofConfined()) {
            new SafetensorsWriter()
                    .add("a", Tensor.ofFloats("a", new float[]{1, 2}, arena, 2))
                    .add("c", Tensor.ofFloats("c", new float[]{4, 5}, arena, 2))
                    .write(dir.resolve("model-00001-of-00002.safetensors"));
            new SafetensorsWriter()
                    .add("b", Tensor.ofFloats("b", new float[]{3}, arena, 1))
                    .write(dir.resolve("model-00002-of-00002.safetensors"));
        }
    }
}
