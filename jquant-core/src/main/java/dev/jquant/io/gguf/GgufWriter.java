package dev.jquant.io.gguf;

import dev.jquant.io.AtomicFile;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes a GGUF v3 file. Metadata is added with its GGUF type; tensors are streamed from their
 * segments. The file is written to a temporary sibling and renamed, so a failure never leaves a
 * half-written model behind.
 */
public final class GgufWriter {
    private record Entry(GgufValueType type, GgufValueType elementType, Object value) {
    }

    /**
     * A tensor to write: its header, and how to produce its data when the writer gets to it. Data
     * made in the given arena is released right after it is written, so a model larger than memory
     * can be streamed tensor by tensor.
     */
    private record PendingTensor(String name, Format format, long[] shape, Function<Arena, Tensor> data) {
        long byteSize() {
            return Tensor.byteSize(format, shape);
        }
    }

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        this.alignment = alignment;
        put("general.alignment", GgufValueType.UINT32, (long) alignment);
        return this;
    }

    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("use putArray for arrays");
        }
        metadata.put(key, new Entry(type, null, value));
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putU32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    /** An array of scalars or strings; nested arrays are lists of lists with {@code elementType} ARRAY. */
    public GgufWriter putArray(String key, GgufValueType elementType, List<?> values) {
        metadata.put(key, new Entry(GgufValueType.ARRAY, elementType, values));
        return this;
    }

    /** Copies every metadata entry of {@code source} (types preserved), except general.alignment. */
    public GgufWriter putAll(GgufFile source) {
        for (var e : source.metadata().entrySet()) {
            if (e.getKey().equals("general.alignment")) {
                continue;
            }
            GgufValueType type = source.metadataType(e.getKey());
            if (type == GgufValueType.ARRAY) {
                List<?> list = (List<?>) e.getValue();
                metadata.put(e.getKey(), new Entry(type, elementTypeOf(list), list));
            } else {
                metadata.put(e.getKey(), new Entry(type, null, e.getValue()));
            }
        }
        return this;
    }

    private static GgufValueType elementTypeOf(List<?> list) {
        if (list.isEmpty() || list.getFirst() instanceof String) {
            return GgufValueType.STRING;
        }
        Object first = list.getFirst();
        return switch (first) {
            case Float f -> GgufValueType.FLOAT32;
            case Double d -> GgufValueType.FLOAT64;
            case Boolean b -> GgufValueType.BOOL;
            case Long l -> GgufValueType.INT64;
            case Integer i -> GgufValueType.INT32;
            case List<?> l -> GgufValueType.ARRAY;
            default -> throw new IllegalArgumentException("unsupported array element " + first.getClass());
        };
    }

    public GgufWriter addTensor(Tensor tensor) {
        tensors.add(new PendingTensor(tensor.name(), tensor.format(), tensor.shape(), arena -> tensor));
        return this;
    }

    /** A tensor produced only when its data is written; {@code data} must return this name, format and shape. */
    public GgufWriter addTensor(String name, Format format, long[] shape, Function<Arena, Tensor> data) {
        tensors.add(new PendingTensor(name, format, shape.clone(), data));
        return this;
    }

    public void write(Path out) {
        AtomicFile.write(out, this::writeTo);
    }

    /**
     * The metadata to write: what was put, with the format names of jquant's own tensor types
     * ({@link Formats#TENSOR_FORMAT_KEY}) recomputed from the tensors, so names copied from a source
     * file never go stale.
     */
    private Map<String, Entry> finalMetadata() {
        Map<String, Entry> out = new LinkedHashMap<>(metadata);
        out.keySet().removeIf(k -> k.startsWith(Formats.TENSOR_FORMAT_KEY));
        for (PendingTensor t : tensors) {
            if (Formats.isJQuantType(t.format())) {
                out.put(Formats.TENSOR_FORMAT_KEY + t.name(), new Entry(GgufValueType.STRING, null, t.format().name()));
            }
        }
        return out;
    }

    private void writeTo(OutputStream os) throws IOException {
        Map<String, Entry> metadata = finalMetadata();
        Out o = new Out(os);
        o.i32(GgufFile.MAGIC);
        o.i32(3);
        o.i64(tensors.size());
        o.i64(metadata.size());
        for (var e : metadata.entrySet()) {
            o.string(e.getKey());
            Entry entry = e.getValue();
            o.i32(entry.type().id());
            o.value(entry.type(), entry.elementType(), entry.value());
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            o.string(t.name());
            long[] shape = t.shape();
            o.i32(shape.length);
            for (int d = shape.length - 1; d >= 0; d--) {
                o.i64(shape[d]);
            }
            o.i32(t.format().typeId());
            o.i64(offset);
            offset = GgufFile.alignUp(offset + t.byteSize(), alignment);
        }
        o.pad(alignment);
        byte[] buf = new byte[1 << 20];
        for (PendingTensor pending : tensors) {
            try (Arena arena = Arena.ofShared()) {
                Tensor t = pending.data().apply(arena);
                if (t.format() != pending.format() || !java.util.Arrays.equals(t.shape(), pending.shape())) {
                    throw new IllegalStateException("tensor " + pending.name() + " changed between header and data");
                }
                long n = t.byteSize();
                for (long pos = 0; pos < n; pos += buf.length) {
                    int len = (int) Math.min(buf.length, n - pos);
                    MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, pos, buf, 0, len);
                    o.bytes(buf, len);
                }
            }
            o.pad(alignment);
        }
    }

    private static final class Out {
        private final OutputStream os;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long written;

        Out(OutputStream os) {
            this.os = os;
        }

        void i8(int v) throws IOException {
            os.write(v);
            written++;
        }

        void i16(int v) throws IOException {
            scratch.clear();
            scratch.putShort((short) v);
            bytes(scratch.array(), 2);
        }

        void i32(int v) throws IOException {
            scratch.clear();
            scratch.putInt(v);
            bytes(scratch.array(), 4);
        }

        void i64(long v) throws IOException {
            scratch.clear();
            scratch.putLong(v);
            bytes(scratch.array(), 8);
        }

        void bytes(byte[] b, int len) throws IOException {
            os.write(b, 0, len);
            written += len;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b, b.length);
        }

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) {
                i8(0);
            }
        }

        void value(GgufValueType type, GgufValueType elementType, Object v) throws IOException {
            switch (type) {
                case UINT8, INT8 -> i8(((Number) v).intValue());
                case UINT16, INT16 -> i16(((Number) v).intValue());
                case UINT32, INT32 -> i32(((Number) v).intValue());
                case UINT64, INT64 -> i64(((Number) v).longValue());
                case FLOAT32 -> i32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> i8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    List<?> list = (List<?>) v;
                    i32(elementType.id());
                    i64(list.size());
                    for (Object item : list) {
                        GgufValueType nested = item instanceof List<?> l ? elementTypeOf(l) : null;
                        value(elementType, nested, item);
                    }
                }
            }
        }
    }
}
