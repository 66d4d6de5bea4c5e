package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The keys and values of every layer and position of a {@link Session}. Each position of a layer is
 * one row of {@code kvDim} elements (all KV heads side by side), stored as {@link KvCacheType} says.
 */
sealed interface KvCache permits KvCache.Floats, KvCache.Encoded {

    static KvCache create(KvCacheType type, ModelConfig cfg, int maxContext) {
        if ((long) maxContext * cfg.kvDim() > Integer.MAX_VALUE - 16) {
            throw new JQuantException("context " + maxContext + " is too long for one KV cache array");
        }
        if (type == KvCacheType.F32) {
            long bytes = 2L * cfg.layers() * maxContext * type.rowBytes(cfg.kvDim());
            long free = Runtime.getRuntime().maxMemory()
                    - (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
            if (bytes > free) {
                throw new JQuantException("a KV cache for " + maxContext + " positions needs " + (bytes >> 20)
                        + " MiB but only " + (free >> 20) + " MiB of heap are free; use a shorter context or --kv-cache q8_0");
            }
            return new Floats(cfg.kvDim(), new float[cfg.layers()][maxContext * cfg.kvDim()],
                    new float[cfg.layers()][maxContext * cfg.kvDim()]);
        }
        Format f = type.format();
        if (cfg.kvDim() % f.blockSize() != 0) {
            throw new JQuantException("--kv-cache " + type.name().toLowerCase(java.util.Locale.ROOT) + ": the model's "
                    + cfg.kvDim() + " key/value elements per position are not a multiple of " + f.name()
                    + "'s block of " + f.blockSize() + "; use f16");
        }
        return new Encoded(f, cfg.kvDim(), f.rowBytes(cfg.kvDim()), maxContext, cfg.layers());
    }

    /** Stores {@code count} positions' keys and values starting at {@code position}. */
    void store(int layer, int position, int count, float[] k, float[] v);

    /** Bytes the cache occupies. */
    long bytes();

    /** Plain floats: the exact default, read by the attention loop directly. */
    record Floats(int kvDim, float[][] keys, float[][] values) implements KvCache {
        @Override
        public void store(int layer, int position, int count, float[] k, float[] v) {
            System.arraycopy(k, 0, keys[layer], position * kvDim, count * kvDim);
            System.arraycopy(v, 0, values[layer], position * kvDim, count * kvDim);
        }

        @Override
        public long bytes() {
            return 2L * Float.BYTES * keys.length * keys[0].length;
        }
    }

    /**
     * Rows encoded in a block format. With head dimensions that are a multiple of the block (64, 128:
     * every real model) each block lies within one head, so keys are multiplied where they lie by the
     * format's own dot product and values are decoded a head at a time; smaller heads share blocks,
     * and F16 has none, so there a layer's rows are decoded once per forward pass instead.
     */
    final class Encoded implements KvCache {
        private final Format format;
        private final int kvDim;
        private final long rowBytes;
        private final MemorySegment[] keys;
        private final MemorySegment[] values;

        Encoded(Format format, int kvDim, long rowBytes, int maxContext, int layers) {
            this.format = format;
            this.kvDim = kvDim;
            this.rowBytes = rowBytes;
            this.keys = new MemorySegment[layers];
            this.values = new MemorySegment[layers];
            Arena arena = Arena.ofAuto();
            for (int l = 0; l < layers; l++) {
                keys[l] = arena.allocate(rowBytes * maxContext, 64);
                values[l] = arena.allocate(rowBytes * maxContext, 64);
            }
        }

        @Override
        public void store(int layer, int position, int count, float[] k, float[] v) {
            for (int t = 0; t < count; t++) {
                long off = (position + t) * rowBytes;
                format.encode(k, t * kvDim, kvDim, keys[layer], off);
                format.encode(v, t * kvDim, kvDim, values[layer], off);
            }
        }

        @Override
        public long bytes() {
            return 2L * keys.length * keys[0].byteSize();
        }

        /**
         * Whether heads of {@code headDim} elements are multiplied where they lie: block formats whose
         * blocks fall inside heads. F16 (no blocks) and heads sharing blocks are decoded a layer at a time.
         */
        boolean dotsInPlace(int headDim) {
            return format.blockSize() > 1 && headDim % format.blockSize() == 0;
        }

        /** q · key of one head at one position, on the stored bytes ({@link #dotsInPlace}). */
        float keyDot(int layer, int position, int kvOff, float[] q, int qOff, int headDim) {
            return format.dot(keys[layer], position * rowBytes + format.rowBytes(kvOff), q, qOff, headDim);
        }

        /** Decodes one head's value ({@link #dotsInPlace} layouts) into {@code dst[0..headDim)}. */
        void decodeValue(int layer, int position, int kvOff, int headDim, float[] dst) {
            format.decode(values[layer], position * rowBytes + format.rowBytes(kvOff), dst, 0, headDim);
        }

        /** The keys ({@code value == false}) or values of positions {@code 0..count-1} of a layer, decoded. */
        float[] decodeRows(boolean value, int layer, int count) {
            float[] out = new float[count * kvDim];
            MemorySegment seg = value ? values[layer] : keys[layer];
            for (int p = 0; p < count; p++) {
                format.decode(seg, p * rowBytes, out, p * kvDim, kvDim);
            }
            return out;
        }
    }
}
