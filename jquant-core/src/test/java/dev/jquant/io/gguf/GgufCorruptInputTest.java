package dev.jquant.io.gguf;

import dev.jquant.JQuantException;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** GGUF files that lie: every one must fail with one line naming the file and the field, and touch no memory. */
class GgufCorruptInputTest {
    @TempDir
    Path dir;

    @Test
    void truncatedInTheHeader() throws IOException {
        byte[] all = Files.readAllBytes(SharedData.stories260k());
        Path p = dir.resolve("head.gguf");
        Files.write(p, Arrays.copyOf(all, 100));
        JQuantException e = assertThrows(JQuantException.class, () -> GgufFile.open(p));
        // 48 tensor infos need at least 24 bytes each: the counts alone show the file is cut
        assertEquals(p + ": tensor_count: count 48 is impossible: only 84 bytes remain in the file", e.getMessage());

        Files.write(p, Arrays.copyOf(all, 5000)); // inside the 512 vocabulary strings
        e = assertThrows(JQuantException.class, () -> GgufFile.open(p));
        assertEquals(p + ": tokenizer.ggml.tokens length: needs 8 bytes at offset 4996 but the file has 4 left (truncated or corrupt)",
                e.getMessage());
    }

    @Test
    void truncatedInTheTensorData() throws IOException {
        byte[] all = Files.readAllBytes(SharedData.stories260k());
        Path p = dir.resolve("data.gguf");
        Files.write(p, Arrays.copyOf(all, all.length - 1000));
        JQuantException e = assertThrows(JQuantException.class, () -> GgufFile.open(p));
        // the cut takes the last tensor (blk.4.ffn_norm, 256 bytes) and the end of blk.4.ffn_up, which comes first:
        // data section at 14176, ffn_up at offset 1126912, 64 * 172 floats
        assertEquals(p + ": tensor blk.4.ffn_up.weight: data [1141088, 1185120) extends beyond the end of the file"
                + " (1184376 bytes; truncated?)", e.getMessage());
    }

    @Test
    void hugeTensorCount() throws IOException {
        Path p = write(new Raw().header(1L << 40, 0));
        assertMessage(p, p + ": tensor_count: count 1099511627776 is impossible: only 8 bytes remain in the file");
    }

    @Test
    void hugeKvCount() throws IOException {
        Path p = write(new Raw().header(0, -1));
        assertMessage(p, p + ": metadata_kv_count: count 18446744073709551615 is impossible: only 0 bytes remain in the file");
    }

    @Test
    void hugeStringLength() throws IOException {
        Path p = write(new Raw().header(0, 1).i64(1L << 62).bytes("general.name"));
        assertMessage(p, p + ": metadata key #0 length: count 4611686018427387904 is impossible: only 12 bytes remain"
                + " in the file");
    }

    @Test
    void hugeStringValueLength() throws IOException {
        Path p = write(new Raw().header(0, 1).str("general.name").i32(GgufValueType.STRING.id()).i64(999_999));
        assertMessage(p, p + ": general.name length: count 999999 is impossible: only 0 bytes remain in the file");
    }

    @Test
    void hugeArrayLength() throws IOException {
        Path p = write(new Raw().header(0, 1).str("tokenizer.ggml.scores").i32(GgufValueType.ARRAY.id())
                .i32(GgufValueType.FLOAT32.id()).i64(1L << 50).i32(0));
        assertMessage(p, p + ": tokenizer.ggml.scores array length: count 1125899906842624 is impossible: only 4 bytes"
                + " remain in the file");
    }

    @Test
    void nDimsOutOfRange() throws IOException {
        Path p = write(new Raw().header(1, 0).str("w").i32(5).zeros(64));
        assertMessage(p, p + ": tensor w: n_dims 5 outside 1..4");
        Path q = write(new Raw().header(1, 0).str("w").i32(0).zeros(64));
        assertMessage(q, q + ": tensor w: n_dims 0 outside 1..4");
    }

    @Test
    void negativeDimension() throws IOException {
        Path p = write(new Raw().header(1, 0).str("w").i32(2).i64(4).i64(-4).i32(0).i64(0).zeros(64));
        assertMessage(p, p + ": tensor w: dimension 1 = 18446744073709551612 is impossible");
    }

    @Test
    void tensorExtentBeyondTheEnd() throws IOException {
        // an F32 [16] tensor (64 bytes) at data offset 64: the file holds only 64 bytes of data
        Path p = write(new Raw().header(1, 0).str("w").i32(1).i64(16).i32(0).i64(64).pad(32).zeros(64));
        assertMessage(p, p + ": tensor w: data [128, 192) extends beyond the end of the file (128 bytes; truncated?)");
    }

    @Test
    void tensorWhoseSizeOverflows() throws IOException {
        Path p = write(new Raw().header(1, 0).str("w").i32(4).i64(1L << 40).i64(1L << 40).i64(1L << 40).i64(1)
                .i32(0).i64(0).pad(32).zeros(32));
        JQuantException e = assertThrows(JQuantException.class, () -> GgufFile.open(p));
        assertEquals(p + ": tensor w: shape [1, 1099511627776, 1099511627776, 1099511627776] is invalid for F32: "
                + "long overflow", e.getMessage());
    }

    @Test
    void unknownTensorTypeFailsAtUse() throws IOException {
        Path p = write(new Raw().header(1, 0).str("w").i32(1).i64(32).i32(99).i64(0).pad(32).zeros(64));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(99, f.tensorInfos().getFirst().typeId());
            JQuantException e = assertThrows(JQuantException.class, () -> f.tensor(f.tensorInfos().getFirst()));
            assertEquals(p + ": tensor w has ggml type 99, which jquant cannot read", e.getMessage());
        }
    }

    @Test
    void alignmentThatIsNotAPowerOfTwo() throws IOException {
        Path p = write(new Raw().header(0, 1).str("general.alignment").i32(GgufValueType.UINT32.id()).i32(48));
        assertMessage(p, p + ": general.alignment: must be a power of two, got 48");
    }

    @Test
    void tensorOffsetOffTheAlignment() throws IOException {
        Path p = write(new Raw().header(1, 0).str("w").i32(1).i64(4).i32(0).i64(4).pad(32).zeros(64));
        assertMessage(p, p + ": tensor w: offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void notAGgufFile() throws IOException {
        Path p = dir.resolve("x.gguf");
        Files.writeString(p, "PK\u0003\u0004 a zip file");
        assertMessage(p, p + ": magic: not a GGUF file (expected the bytes 'GGUF' at offset 0)");
    }

    private static void assertMessage(Path p, String expected) {
        JQuantException e = assertThrows(JQuantException.class, () -> GgufFile.open(p));
        assertEquals(expected, e.getMessage());
    }

    private Path write(Raw raw) throws IOException {
        Path p = Files.createTempFile(dir, "c", ".gguf");
        Files.write(p, raw.out.toByteArray());
        return p;
    }

    /** Little-endian GGUF bytes written field by field, lies included. */
    private static final class Raw {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw header(long tensors, long kvs) {
            return i32(GgufFile.MAGIC).i32(3).i64(tensors).i64(kvs);
        }

        Raw i32(int v) {
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
            return this;
        }

        Raw i64(long v) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Raw bytes(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Raw str(String s) {
            return i64(s.getBytes(StandardCharsets.UTF_8).length).bytes(s);
        }

        Raw zeros(int n) {
            out.writeBytes(new byte[n]);
            return this;
        }

        Raw pad(int alignment) {
            return zeros((alignment - out.size() % alignment) % alignment);
        }
    }
}
