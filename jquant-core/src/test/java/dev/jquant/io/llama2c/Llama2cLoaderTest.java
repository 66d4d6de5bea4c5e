package dev.jquant.io.llama2c;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.tensor.Tensor;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Llama2cLoaderTest {
    @TempDir
    Path dir;

    private static Path bin() {
        return SharedData.file("stories260K/stories260K.bin");
    }

    @Test
    void readsTheStories260kHeader() {
        try (Checkpoint c = Llama2cLoader.load(bin())) {
            ModelConfig cfg = c.config();
            assertEquals("llama2c", c.sourceFormat());
            assertEquals(new ModelConfig("llama", 64, 172, 5, 8, 4, 8, 512, 512, 1e-5f, 10000f,
                    RopeStyle.ADJACENT_PAIRS, null, false, false, true), cfg);
            assertFalse(c.tensors().containsKey(TensorNames.OUTPUT), "shared classifier: no output.weight");
            assertEquals(5 * 9 + 2, c.tensors().size());
            assertEquals(SharedData.file("stories260K/tok512.bin").toAbsolutePath().toString(),
                    c.metadata().get("llama2c.tokenizer"));
            assertEquals(1, c.metadata().get("bos_token_id"));
        }
    }

    @Test
    void explicitTokenizerMustExist() {
        Path missing = dir.resolve("tokenizer.bin");
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(bin(), missing));
        assertEquals(missing + ": no such tokenizer file", e.getMessage());
    }

    /**
     * Both files hold the same trained weights, and llama.cpp's converter kept llama2.c's q/k row
     * order: the GGUF's ADJACENT_PAIRS rope is llama2.c's rope, so no permutation separates them.
     */
    @Test
    void tensorsEqualThoseOfTheGguf() {
        try (Checkpoint bin = Llama2cLoader.load(bin()); Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            for (var e : bin.tensors().entrySet()) {
                Tensor g = gguf.tensor(e.getKey());
                assertArrayEquals(g.shape(), e.getValue().shape(), e.getKey());
                assertArrayEquals(g.toFloats(), e.getValue().toFloats(), e.getKey());
            }
            // the GGUF stores the shared classifier again as output.weight
            assertArrayEquals(gguf.tensor(TensorNames.OUTPUT).toFloats(),
                    bin.tensor(TensorNames.TOKEN_EMBEDDING).toFloats());
        }
    }

    @Test
    void logitsEqualThoseOfTheGguf() {
        int[] prompt = {1, 403, 407, 261, 378};
        try (Checkpoint bin = JQuant.load(bin()); Checkpoint gguf = JQuant.load(SharedData.stories260k())) {
            float[][] a = new Transformer(bin).newSession(16).prefill(prompt);
            float[][] b = new Transformer(gguf).newSession(16).prefill(prompt);
            for (int t = 0; t < prompt.length; t++) {
                for (int v = 0; v < a[t].length; v++) {
                    assertEquals(b[t][v], a[t][v], 1e-5, "position " + t + " token " + v);
                }
            }
            assertEquals(17.023514, a[0][403], 2e-5);
        }
    }

    @Test
    void separateClassifierBecomesOutputWeight() throws IOException {
        // dim 4, hidden 2, 1 layer, 2 heads, 1 kv head, vocab -3 (separate classifier), seq_len 2
        int[] header = {4, 2, 1, 2, 1, -3, 2};
        int floats = 3 * 4 + 4 + 16 + 8 + 8 + 16 + 4 + 8 + 8 + 8 + 4 + 2 * 2 + 3 * 4;
        Path p = write(header, floats);
        try (Checkpoint c = Llama2cLoader.load(p)) {
            assertFalse(c.config().tiedOutput());
            Tensor out = c.tensor(TensorNames.OUTPUT);
            assertArrayEquals(new long[]{3, 4}, out.shape());
            float[] expected = new float[12];
            for (int i = 0; i < 12; i++) {
                expected[i] = floats - 12 + i; // write() fills float k with the value k
            }
            assertArrayEquals(expected, out.toFloats());
            assertArrayEquals(new float[]{12, 13, 14, 15}, c.tensor(TensorNames.block(0, TensorNames.ATTN_NORM)).toFloats());
            assertEquals(null, c.tokenizer());
        }
    }

    // ---- corrupt input ----

    @Test
    void truncatedFile() throws IOException {
        byte[] all = Files.readAllBytes(bin());
        Path p = dir.resolve("cut.bin");
        Files.write(p, Arrays.copyOf(all, all.length - 100));
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(p));
        assertEquals(p + ": size: the header (dim 64, hidden_dim 172, n_layers 5, n_heads 8, n_kv_heads 4,"
                + " vocab_size 512, seq_len 512) calls for 1056540 bytes but the file has 1056440 (truncated?)",
                e.getMessage());
    }

    @Test
    void truncatedHeader() throws IOException {
        Path p = dir.resolve("tiny.bin");
        Files.write(p, new byte[10]);
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(p));
        assertEquals(p + ": header n_layers: needs 4 bytes at offset 8 but the file has 2 left (truncated or corrupt)",
                e.getMessage());
    }

    @Test
    void absurdDimensions() throws IOException {
        Path p = write(new int[]{1 << 30, 172, 5, 8, 4, 512, 512}, 0);
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(p));
        assertEquals(p + ": header dim: 1073741824 is outside 1..65536 (not a llama2.c checkpoint?)", e.getMessage());

        Path q = write(new int[]{64, 172, 5, 8, 3, 512, 512}, 0);
        e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(q));
        assertEquals(q + ": header n_kv_heads: 3 does not divide n_heads 8", e.getMessage());

        Path r = write(new int[]{64, 172, -5, 8, 4, 512, 512}, 0);
        e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(r));
        assertEquals(r + ": header n_layers: -5 is outside 1..4096 (not a llama2.c checkpoint?)", e.getMessage());
    }

    @Test
    void largeButPlausibleDimensionsFailOnSizeNotMemory() throws IOException {
        Path p = write(new int[]{8192, 28672, 80, 64, 8, -128256, 8192}, 16);
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(p));
        // 4 * (vocab*dim*2 + layers*(2*dim + 2*dim*dim + 2*kvDim*dim + 3*hidden*dim) + dim + seqLen*headDim) + 28
        assertEquals(p + ": size: the header (dim 8192, hidden_dim 28672, n_layers 80, n_heads 64, n_kv_heads 8,"
                + " vocab_size 128256, seq_len 8192) calls for 282219020316 bytes but the file has 92 (truncated?)",
                e.getMessage());
    }

    @Test
    void newerExportVersionsAreRecognised() throws IOException {
        Path p = write(new int[]{0x616b3432, 1, 0, 0, 0, 0, 0}, 0);
        JQuantException e = assertThrows(JQuantException.class, () -> Llama2cLoader.load(p));
        assertEquals(p + ": header: this is a llama2.c export version 1+ file (magic 'ak42'); only the legacy format"
                + " that run.c reads is supported", e.getMessage());
    }

    /** A header followed by {@code floats} F32 values 0, 1, 2, ... */
    private Path write(int[] header, int floats) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * (header.length + floats)).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : header) {
            b.putInt(h);
        }
        for (int i = 0; i < floats; i++) {
            b.putFloat(i);
        }
        Path p = Files.createTempFile(dir, "m", ".bin");
        Files.write(p, b.array());
        return p;
    }
}
