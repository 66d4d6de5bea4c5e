package dev.jquant.io.llama2c;

import dev.jquant.JQuantException;
import dev.jquant.format.F32;
import dev.jquant.io.MappedFile;
import dev.jquant.io.SegmentCursor;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.ModelShapes;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;
import dev.jquant.tokenizer.Tokenizers;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.jquant.model.TensorNames.block;

/**
 * Reads the legacy llama2.c checkpoint that run.c maps: seven int32 (dim, hidden_dim, n_layers,
 * n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier is stored
 * separately at the end), then F32 arrays stacked over layers. The weights pair adjacent elements
 * for RoPE, as GGUF "llama" files do. Tensors are slices of the mapping.
 */
public final class Llama2cLoader {
    private static final int HEADER_BYTES = 7 * 4;
    /** The first int32 of llama2.c's newer export versions ("ak42"); run.c does not read those. */
    private static final int EXPORT_MAGIC = 0x616b3432;
    private static final float THETA = 10000f;
    private static final float RMS_EPS = 1e-5f;

    private Llama2cLoader() {
    }

    /** Loads the checkpoint; its tokenizer is tok{vocab}.bin or tokenizer.bin beside it, if either exists. */
    public static Checkpoint load(Path bin) {
        return load(bin, null);
    }

    /** Loads the checkpoint with the llama2.c tokenizer at {@code tokenizerBin} (null: look beside it). */
    public static Checkpoint load(Path bin, Path tokenizerBin) {
        MappedFile file = MappedFile.open(bin);
        try {
            return read(file, tokenizerBin);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private record Header(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocab, boolean sharedClassifier,
                          int seqLen) {
    }

    private static Checkpoint read(MappedFile file, Path tokenizerBin) {
        SegmentCursor in = new SegmentCursor(file.segment(), file.path().toString());
        Header h = header(in);
        int headDim = h.dim() / h.heads();
        ModelConfig config = new ModelConfig("llama", h.dim(), h.hiddenDim(), h.layers(), h.heads(), h.kvHeads(),
                headDim, h.vocab(), h.seqLen(), RMS_EPS, THETA, RopeStyle.ADJACENT_PAIRS, null, false, false,
                h.sharedClassifier());

        long dim = h.dim();
        long kvDim = (long) h.kvHeads() * headDim;
        long hidden = h.hiddenDim();
        long layers = h.layers();
        long freqCis = (long) h.seqLen() * headDim; // real and imaginary halves, seqLen * headDim / 2 each
        long floats = h.vocab() * dim + layers * (2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * hidden * dim)
                + dim + freqCis + (h.sharedClassifier() ? 0 : h.vocab() * dim);
        long expectedBytes = HEADER_BYTES + 4 * floats;
        if (file.size() != expectedBytes) {
            throw in.error("size", "the header (dim " + h.dim() + ", hidden_dim " + h.hiddenDim() + ", n_layers "
                    + h.layers() + ", n_heads " + h.heads() + ", n_kv_heads " + h.kvHeads() + ", vocab_size "
                    + h.vocab() + ", seq_len " + h.seqLen() + ") calls for " + expectedBytes + " bytes but the file has "
                    + file.size() + (file.size() < expectedBytes ? " (truncated?)" : ""));
        }

        Slicer s = new Slicer(file.segment(), HEADER_BYTES);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Tensor embedding = s.next(TensorNames.TOKEN_EMBEDDING, h.vocab(), dim);
        tensors.put(TensorNames.TOKEN_EMBEDDING, embedding);
        s.stacked(tensors, TensorNames.ATTN_NORM, h.layers(), dim);
        s.stacked(tensors, TensorNames.ATTN_Q, h.layers(), dim, dim);
        s.stacked(tensors, TensorNames.ATTN_K, h.layers(), kvDim, dim);
        s.stacked(tensors, TensorNames.ATTN_V, h.layers(), kvDim, dim);
        s.stacked(tensors, TensorNames.ATTN_OUTPUT, h.layers(), dim, dim);
        s.stacked(tensors, TensorNames.FFN_NORM, h.layers(), dim);
        s.stacked(tensors, TensorNames.FFN_GATE, h.layers(), hidden, dim); // w1
        s.stacked(tensors, TensorNames.FFN_DOWN, h.layers(), dim, hidden); // w2
        s.stacked(tensors, TensorNames.FFN_UP, h.layers(), hidden, dim); // w3
        tensors.put(TensorNames.OUTPUT_NORM, s.next(TensorNames.OUTPUT_NORM, dim));
        s.skip(4 * freqCis); // precomputed RoPE tables: recomputed from theta instead
        if (!h.sharedClassifier()) {
            tensors.put(TensorNames.OUTPUT, s.next(TensorNames.OUTPUT, h.vocab(), dim));
        }
        ModelShapes.check(file.path(), config, tensors);

        if (tokenizerBin != null && !Files.isRegularFile(tokenizerBin)) {
            throw new JQuantException(tokenizerBin + ": no such tokenizer file");
        }
        Path tokPath = tokenizerBin != null ? tokenizerBin : findTokenizer(file.path(), h.vocab());
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("llama2c.seq_len", h.seqLen());
        metadata.put("bos_token_id", 1); // fixed by run.c's convention
        metadata.put("eos_token_ids", List.of(2));
        if (tokPath != null) {
            metadata.put("llama2c.tokenizer", tokPath.toString());
        }
        return new Checkpoint(file.path(), "llama2c", config, tensors, tokenizer(tokPath, h.vocab()), null, metadata,
                List.of(file));
    }

    private static Header header(SegmentCursor in) {
        int dim = in.i32("header dim");
        if (dim == EXPORT_MAGIC) {
            throw in.error("header", "this is a llama2.c export version 1+ file (magic 'ak42'); only the legacy"
                    + " format that run.c reads is supported");
        }
        int hidden = in.i32("header hidden_dim");
        int layers = in.i32("header n_layers");
        int heads = in.i32("header n_heads");
        int kvHeads = in.i32("header n_kv_heads");
        int vocab = in.i32("header vocab_size");
        int seqLen = in.i32("header seq_len");
        requireRange(in, "dim", dim, 1 << 16);
        requireRange(in, "hidden_dim", hidden, 1 << 20);
        requireRange(in, "n_layers", layers, 4096);
        requireRange(in, "n_heads", heads, dim);
        requireRange(in, "n_kv_heads", kvHeads, heads);
        requireRange(in, "vocab_size", Math.abs((long) vocab), 1 << 24);
        requireRange(in, "seq_len", seqLen, 1 << 24);
        if (dim % heads != 0 || (dim / heads) % 2 != 0) {
            throw in.error("header n_heads", heads + " does not split dim " + dim + " into heads of even size");
        }
        if (heads % kvHeads != 0) {
            throw in.error("header n_kv_heads", kvHeads + " does not divide n_heads " + heads);
        }
        return new Header(dim, hidden, layers, heads, kvHeads, Math.abs(vocab), vocab > 0, seqLen);
    }

    private static void requireRange(SegmentCursor in, String field, long value, long max) {
        if (value < 1 || value > max) {
            throw in.error("header " + field, value + " is outside 1.." + max + " (not a llama2.c checkpoint?)");
        }
    }

    private static Path findTokenizer(Path bin, int vocab) {
        Path dir = bin.toAbsolutePath().getParent();
        for (String name : List.of("tok" + vocab + ".bin", "tokenizer.bin")) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static Tokenizer tokenizer(Path path, int vocab) {
        if (path == null) {
            return null;
        }
        return Tokenizers.fromLlama2c(path, vocab);
    }

    /** Hands out consecutive F32 slices of the file; sizes were checked against the file length already. */
    private static final class Slicer {
        private final MemorySegment data;
        private long offset;

        Slicer(MemorySegment data, long offset) {
            this.data = data;
            this.offset = offset;
        }

        Tensor next(String name, long... shape) {
            long bytes = Tensor.byteSize(F32.INSTANCE, shape);
            Tensor t = new Tensor(name, F32.INSTANCE, shape, data.asSlice(offset, bytes));
            offset += bytes;
            return t;
        }

        /** One array holding a tensor of {@code shape} per layer, layer after layer. */
        void stacked(Map<String, Tensor> out, String suffix, int layers, long... shape) {
            for (int l = 0; l < layers; l++) {
                String name = block(l, suffix);
                out.put(name, next(name, shape));
            }
        }

        void skip(long bytes) {
            offset += bytes;
        }
    }
}
