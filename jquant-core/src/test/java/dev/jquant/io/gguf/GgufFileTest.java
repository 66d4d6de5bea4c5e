package dev.jquant.io.gguf;

import dev.jquant.format.F32;
import dev.jquant.format.Q8_0;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GgufFileTest {
    @TempDir
    Path dir;

    @Test
    void everyMetadataTypeRoundTripsIncludingNestedArrays() {
        Path p = dir.resolve("meta.gguf");
        new GgufWriter().alignment(64)
                .put("u8", GgufValueType.UINT8, 200).put("i8", GgufValueType.INT8, -100)
                .put("u16", GgufValueType.UINT16, 60000).put("i16", GgufValueType.INT16, -30000)
                .put("u32", GgufValueType.UINT32, 4_000_000_000L).put("i32", GgufValueType.INT32, -2_000_000_000)
                .put("u64", GgufValueType.UINT64, 1L << 40).put("i64", GgufValueType.INT64, -(1L << 40))
                .put("f32", GgufValueType.FLOAT32, 1.5f).put("f64", GgufValueType.FLOAT64, Math.PI)
                .putBool("yes", true).putString("s", "héllo ▁ 世界")
                .putArray("ints", GgufValueType.INT32, List.of(1, -2, 3))
                .putArray("strings", GgufValueType.STRING, List.of("a", "", "ç"))
                .putArray("nested", GgufValueType.ARRAY, List.of(List.of("x", "y"), List.of("z")))
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(64, f.alignment());
            assertEquals(200, f.getInt("u8"));
            assertEquals(-100, f.getInt("i8"));
            assertEquals(60000, f.getInt("u16"));
            assertEquals(-30000, f.getInt("i16"));
            assertEquals(4_000_000_000L, f.getLong("u32"));
            assertEquals(-2_000_000_000, f.getInt("i32"));
            assertEquals(1L << 40, f.getLong("u64"));
            assertEquals(-(1L << 40), f.getLong("i64"));
            assertEquals(1.5, f.getDouble("f32", 0));
            assertEquals(Math.PI, f.getDouble("f64", 0));
            assertEquals(true, f.getBool("yes", false));
            assertEquals("héllo ▁ 世界", f.getString("s"));
            assertEquals(List.of(1, -2, 3), f.getArray("ints"));
            assertEquals(List.of("a", "", "ç"), f.getArray("strings"));
            assertEquals(List.of(List.of("x", "y"), List.of("z")), f.getArray("nested"));
            assertEquals(GgufValueType.UINT16, f.metadataType("u16"));
        }
    }

    @Test
    void version2FilesReadLikeVersion3() throws IOException {
        Path p = dir.resolve("v2.gguf");
        try (Arena arena = Arena.ofConfined()) {
            float[] values = new float[64];
            for (int i = 0; i < values.length; i++) {
                values[i] = i / 7f;
            }
            new GgufWriter().putString("general.architecture", "llama")
                    .addTensor(dev.jquant.tensor.TensorConverter.convert(Tensor.ofFloats("w", values, arena, 2, 32),
                            Q8_0.INSTANCE, arena))
                    .write(p);
        }
        byte[] bytes = Files.readAllBytes(p);
        bytes[4] = 2; // the version field; v2 and v3 share the layout (v1 had 32-bit counts)
        Files.write(p, bytes);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.version());
            Tensor w = f.tensor(f.tensorInfos().getFirst());
            assertEquals(Q8_0.INSTANCE, w.format());
            assertArrayEquals(new long[] {2, 32}, w.shape());
            assertEquals(63 / 7f, w.toFloats()[63], 0.01);
        }
    }

    /** A tensor that starts beyond 2 GiB (a sparse file, so the test stays cheap). */
    @Test
    void tensorsBeyondTwoGigabytesAreReadWhereTheyLie() throws IOException {
        Path p = dir.resolve("big.gguf");
        long elements = 700_000_000L; // 2.8 GB of F32
        ByteBuffer header = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(GgufFile.MAGIC).putInt(3).putLong(1).putLong(0);
        byte[] name = "big".getBytes(StandardCharsets.UTF_8);
        header.putLong(name.length).put(name).putInt(1).putLong(elements).putInt(F32.INSTANCE.typeId()).putLong(0);
        long dataStart = (header.position() + 31) / 32 * 32;
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(header.array(), 0, header.position());
            raf.setLength(dataStart + 4 * elements);
            raf.seek(dataStart + 4 * (elements - 1));
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(42.5f).array());
        }
        try (GgufFile f = GgufFile.open(p)) {
            MemorySegment data = f.tensor(f.tensorInfos().getFirst()).data();
            assertEquals(4 * elements, data.byteSize());
            ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(42.5f, data.get(le, 4 * (elements - 1)));
            assertEquals(0f, data.get(le, 4L * (Integer.MAX_VALUE / 4 + 10)));
        }
    }
}
