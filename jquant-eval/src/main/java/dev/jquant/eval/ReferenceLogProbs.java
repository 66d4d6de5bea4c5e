package dev.jquant.eval;

import dev.jquant.JQuantException;
import dev.jquant.io.MappedFile;
import dev.jquant.io.SegmentCursor;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference model's next-token log-probabilities at every scored position, saved once so that
 * many quantized variants can be compared without re-running the reference (llama.cpp's
 * --kl-divergence-base does the same). Each row is stored as 16-bit codes between its min and max,
 * which keeps KL divergence accurate to about 1e-5.
 *
 * <p>Layout (little-endian): magic "JQLOGP01", int32 ctx, int32 chunks, int32 vocab, int32 scored per
 * chunk, then per chunk: int32[ctx] tokens, and per scored position float min, float step, uint16[vocab].
 */
public final class ReferenceLogProbs implements AutoCloseable {
    private static final byte[] MAGIC = "JQLOGP01".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    private final int ctx;
    private final int chunks;
    private final int vocab;
    private final int scoredPerChunk;
    private final long headerBytes;

    private ReferenceLogProbs(MappedFile file, int ctx, int chunks, int vocab, int scoredPerChunk, long headerBytes) {
        this.file = file;
        this.ctx = ctx;
        this.chunks = chunks;
        this.vocab = vocab;
        this.scoredPerChunk = scoredPerChunk;
        this.headerBytes = headerBytes;
    }

    public int ctx() {
        return ctx;
    }

    public int chunks() {
        return chunks;
    }

    public int vocab() {
        return vocab;
    }

    private long rowBytes() {
        return 8 + 2L * vocab;
    }

    private long chunkBytes() {
        return 4L * ctx + scoredPerChunk * rowBytes();
    }

    public int[] tokens(int chunk) {
        long off = headerBytes + chunk * chunkBytes();
        return file.segment().asSlice(off, 4L * ctx).toArray(I32);
    }

    /** Log-probabilities of scored position {@code index} (0-based within the chunk's scored half). */
    public double[] logProbs(int chunk, int index) {
        long off = headerBytes + chunk * chunkBytes() + 4L * ctx + index * rowBytes();
        MemorySegment seg = file.segment();
        float min = seg.get(F32, off);
        float step = seg.get(F32, off + 4);
        double[] out = new double[vocab];
        for (int i = 0; i < vocab; i++) {
            out[i] = min + step * (seg.get(U16, off + 8 + 2L * i) & 0xffff);
        }
        return out;
    }

    public static ReferenceLogProbs open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            SegmentCursor in = new SegmentCursor(file.segment(), path.toString());
            byte[] magic = in.bytes(MAGIC.length, "magic");
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw in.error("magic", "not a jquant reference log-probability file");
            }
            int ctx = in.i32("ctx");
            int chunks = in.i32("chunks");
            int vocab = in.i32("vocab");
            int scored = in.i32("scored positions per chunk");
            if (ctx < 4 || chunks < 1 || vocab < 2 || scored != ctx - 1 - ctx / 2) {
                throw in.error("header", "impossible values ctx " + ctx + ", chunks " + chunks + ", vocab " + vocab
                        + ", scored " + scored);
            }
            ReferenceLogProbs r = new ReferenceLogProbs(file, ctx, chunks, vocab, scored, in.position());
            long expected = in.position() + chunks * r.chunkBytes();
            if (expected != file.size()) {
                throw in.error("size", "file has " + file.size() + " bytes, the header implies " + expected);
            }
            return r;
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Streams reference log-probabilities to a file; {@link #commit} renames it into place. */
    public static final class Writer implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final DataOutputStream out;
        private final List<double[]> pending = new ArrayList<>();
        private final int vocab;
        private int[] chunkTokens;

        public Writer(Path target, int ctx, int chunks, int vocab) {
            this.target = target;
            this.tmp = target.resolveSibling(target.getFileName() + ".tmp");
            this.vocab = vocab;
            try {
                OutputStream os = Files.newOutputStream(tmp);
                out = new DataOutputStream(new BufferedOutputStream(os, 1 << 20));
                out.write(MAGIC);
                writeInt(ctx);
                writeInt(chunks);
                writeInt(vocab);
                writeInt(ctx - 1 - ctx / 2);
            } catch (IOException e) {
                throw new JQuantException(target + ": cannot write: " + e.getMessage(), e);
            }
        }

        public void beginChunk(int[] tokens) {
            flushChunk();
            chunkTokens = tokens.clone();
        }

        public void add(double[] logProbs) {
            pending.add(logProbs);
        }

        private void flushChunk() {
            if (chunkTokens == null) {
                return;
            }
            try {
                for (int t : chunkTokens) {
                    writeInt(t);
                }
                for (double[] row : pending) {
                    double min = Double.POSITIVE_INFINITY;
                    double max = Double.NEGATIVE_INFINITY;
                    for (double v : row) {
                        min = Math.max(Math.min(min, v), -1e4);
                        max = Math.max(max, v);
                    }
                    float step = (float) Math.max((max - min) / 65535, 1e-12);
                    writeInt(Float.floatToRawIntBits((float) min));
                    writeInt(Float.floatToRawIntBits(step));
                    for (int i = 0; i < vocab; i++) {
                        long code = Math.round((Math.max(row[i], min) - (float) min) / step);
                        int c = (int) Math.max(0, Math.min(65535, code));
                        out.write(c & 0xff);
                        out.write(c >>> 8);
                    }
                }
            } catch (IOException e) {
                throw new JQuantException(target + ": cannot write: " + e.getMessage(), e);
            }
            pending.clear();
            chunkTokens = null;
        }

        private void writeInt(int v) throws IOException {
            out.write(v & 0xff);
            out.write((v >>> 8) & 0xff);
            out.write((v >>> 16) & 0xff);
            out.write(v >>> 24);
        }

        public void commit() {
            flushChunk();
            try {
                out.close();
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new JQuantException(target + ": cannot write: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing useful to report after the main failure
            }
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
