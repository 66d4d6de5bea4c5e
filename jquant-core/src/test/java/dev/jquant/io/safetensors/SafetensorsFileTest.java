package dev.jquant.io.safetensors;

import dev.jquant.JQuantException;
import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file written byte by byte as the specification describes, independent of SafetensorsWriter. */
    @Test
    void readsAHandWrittenFile() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.5f).putFloat(-2.25f).putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-3f));
        Path p = rawFile(header, data.array());

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(java.util.List.of("b", "a"), java.util.List.copyOf(f.entries().keySet()));
            Tensor a = f.tensor("a");
            assertEquals(F32.INSTANCE, a.format());
            assertArrayEquals(new long[]{1, 2}, a.shape());
            assertArrayEquals(new float[]{1.5f, -2.25f}, a.toFloats());
            Tensor b = f.tensor("b");
            assertEquals(F16.INSTANCE, b.format());
            assertArrayEquals(new float[]{0.5f, -3f}, b.toFloats());
        }
    }

    @Test
    void writerRoundTripsFloatDtypesAndMetadata() {
        Random rnd = new Random(7);
        float[] values = new float[6 * 10];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        Path p = dir.resolve("m.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats("w", values, arena, 6, 10);
            new SafetensorsWriter().putMetadata("format", "pt")
                    .add("f32", t).add("f16", t, F16.INSTANCE).add("bf16", t, BF16.INSTANCE)
                    .write(p);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(values, f.tensor("f32").toFloats());
            float[] h = f.tensor("f16").toFloats();
            float[] b = f.tensor("bf16").toFloats();
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), h[i], "f16 element " + i);
                assertEquals(BF16.toFloat(BF16.fromFloat(values[i])), b[i], "bf16 element " + i);
            }
            assertArrayEquals(new long[]{6, 10}, f.tensor("bf16").shape());
            assertEquals(SafetensorsDtype.BF16, f.entries().get("bf16").dtype());
        }
    }

    @Test
    void headerIsPaddedToEightBytesWithSpaces() throws IOException {
        Path p = dir.resolve("pad.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            new SafetensorsWriter().add("x", Tensor.ofFloats("x", new float[]{1, 2, 3}, arena, 3)).write(p);
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        long n = bytes.getLong(0);
        assertEquals(0, n % 8);
        assertEquals(8 + n + 12, bytes.capacity());
        String header = new String(bytes.array(), 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}"), header);
        assertTrue(header.strip().endsWith("}"));
    }

    @Test
    void permutedRowsAreWrittenInTheRequestedOrder() {
        Path p = dir.resolve("perm.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor m = Tensor.ofFloats("m", new float[]{0, 1, 10, 11, 20, 21}, arena, 3, 2);
            Tensor v = Tensor.ofFloats("v", new float[]{5, 6, 7}, arena, 3);
            new SafetensorsWriter().addPermutedRows("m", m, F32.INSTANCE, new int[]{2, 0, 1})
                    .addPermutedRows("v", v, F16.INSTANCE, new int[]{1, 2, 0}).write(p);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[]{20, 21, 0, 1, 10, 11}, f.tensor("m").toFloats());
            assertArrayEquals(new float[]{6, 7, 5}, f.tensor("v").toFloats());
        }
    }

    @Test
    void otherDtypesAreListedButFailClearlyAtUse() {
        Path p = dir.resolve("ids.safetensors");
        MemorySegment ids = MemorySegment.ofArray(new int[]{1, 2, 3, 4});
        new SafetensorsWriter().addRaw("position_ids", SafetensorsDtype.I32, new long[]{4}, ids).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(SafetensorsDtype.I32, f.entries().get("position_ids").dtype());
            JQuantException e = assertThrows(JQuantException.class, () -> f.tensor("position_ids"));
            assertEquals(p + ": unsupported dtype I32 for tensor position_ids (jquant reads F32, F16 and BF16)",
                    e.getMessage());
        }
    }

    @Test
    void aFailedWriteLeavesNoFileBehind() throws IOException {
        Path p = dir.resolve("dup.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats("x", new float[]{1}, arena, 1);
            SafetensorsWriter w = new SafetensorsWriter().add("x", t).add("x", t);
            assertThrows(JQuantException.class, () -> w.write(p));
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    // ---- corrupt input ----

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 0, 0});
        assertMessage(p, p + ": header length: needs 8 bytes at offset 0 but the file has 3 left (truncated or corrupt)");
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        Path p = dir.resolve("long.safetensors");
        Files.write(p, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
        assertMessage(p, p + ": header length: 1000 runs past the end of the file (20 bytes; truncated?)");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        Path p = dir.resolve("huge.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-2).array());
        assertMessage(p, p + ": header length: 18446744073709551614 exceeds the limit of 100000000 bytes (corrupt file?)");
    }

    @Test
    void truncatedData() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[10]);
        assertMessage(p, p + ": tensor w: data_offsets [0, 16] lie outside the data section of 10 bytes (or begin > end)");
    }

    @Test
    void badJson() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",", new byte[0]);
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().startsWith(p + ": header: not valid JSON: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void negativeOffsets() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", new byte[4]);
        assertMessage(p, p + ": tensor w: data_offsets holds -4, not a non-negative 64-bit integer");
    }

    @Test
    void offsetsBeyond64Bits() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
                new byte[4]);
        assertMessage(p, p + ": tensor w: data_offsets holds 99999999999999999999, not a non-negative 64-bit integer");
    }

    @Test
    void hugeOffsetsPastTheEnd() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[9223372036854775800,9223372036854775804]}}",
                new byte[4]);
        assertMessage(p, p + ": tensor w: data_offsets [9223372036854775800, 9223372036854775804] lie outside the data"
                + " section of 4 bytes (or begin > end)");
    }

    @Test
    void beginAfterEnd() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", new byte[4]);
        assertMessage(p, p + ": tensor w: data_offsets [4, 0] lie outside the data section of 4 bytes (or begin > end)");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path p = rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertMessage(p, p + ": tensor b: data_offsets [4, 12] overlap those of tensor a [0, 8]");
    }

    @Test
    void shapeDisagreesWithSize() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p, p + ": tensor w: shape [2, 3] of BF16 needs 12 bytes but data_offsets span 8");
    }

    @Test
    void shapeWhoseProductOverflows() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
                new byte[8]);
        assertMessage(p, p + ": tensor w: shape [4294967296, 4294967296] is too large");
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p, p + ": tensor w: unknown dtype 'Q9'");
    }

    @Test
    void missingShape() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p, p + ": tensor w: shape is missing or not an array of integers");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        Path p = rawFile("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", new byte[2]);
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().startsWith(p + ": header: not valid JSON: Duplicate field 'w'"), e.getMessage());
    }

    private Path rawFile(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static void assertMessage(Path p, String expected) {
        JQuantException e = assertThrows(JQuantException.class, () -> SafetensorsFile.open(p));
        assertEquals(expected, e.getMessage());
    }
}
