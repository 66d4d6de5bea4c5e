package dev.jquant.io.gguf;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;
import dev.jquant.io.MappedFile;
import dev.jquant.io.SegmentCursor;
import dev.jquant.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v2/v3 file, memory-mapped. Metadata values keep their exact value: UINT8, INT8, UINT16,
 * INT16 and INT32 as {@link Integer}, UINT32, UINT64 and INT64 as {@link Long}, FLOAT32 as
 * {@link Float}, FLOAT64 as {@link Double}, BOOL as {@link Boolean}, STRING as {@link String},
 * ARRAY as an unmodifiable {@link List} (possibly nested). Tensors are slices of the mapping:
 * nothing is copied.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    private final MappedFile file;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> metadataTypes;
    private final List<GgufTensorInfo> tensorInfos;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(MappedFile file, int version, Map<String, Object> metadata, Map<String, GgufValueType> types,
                     List<GgufTensorInfo> tensorInfos, long dataOffset, int alignment) {
        this.file = file;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.metadataTypes = Collections.unmodifiableMap(types);
        this.tensorInfos = List.copyOf(tensorInfos);
        this.dataOffset = dataOffset;
        this.alignment = alignment;
    }

    public static GgufFile open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return parse(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static GgufFile parse(MappedFile file) {
        SegmentCursor in = new SegmentCursor(file.segment(), file.path().toString());
        if (file.size() < 4 || in.i32("magic") != MAGIC) {
            throw in.error("magic", "not a GGUF file (expected the bytes 'GGUF' at offset 0)");
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            throw in.error("version", "GGUF version " + version + " is not supported (only 2 and 3)");
        }
        // a tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes
        long tensorCount = in.count("tensor_count", 24);
        long kvCount = in.count("metadata_kv_count", 12);

        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string(in, "metadata key #" + i);
            int typeId = in.i32("type of " + key);
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw in.error(key, "unknown metadata value type " + typeId);
            }
            metadata.put(key, value(in, type, key, 0));
            types.put(key, type);
        }

        int alignment = DEFAULT_ALIGNMENT;
        Object a = metadata.get("general.alignment");
        if (a != null) {
            long al = a instanceof Number n ? n.longValue() : -1;
            if (al <= 0 || al > (1 << 20) || Long.bitCount(al) != 1) {
                throw in.error("general.alignment", "must be a power of two, got " + a);
            }
            alignment = (int) al;
        }

        List<GgufTensorInfo> infos = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string(in, "tensor #" + i + " name");
            int nDims = in.i32("tensor " + name + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw in.error("tensor " + name, "n_dims " + nDims + " outside 1.." + MAX_DIMS);
            }
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = in.i64("tensor " + name + " dim " + d);
                if (ne[d] <= 0 || ne[d] > (1L << 40)) {
                    throw in.error("tensor " + name, "dimension " + d + " = " + Long.toUnsignedString(ne[d]) + " is impossible");
                }
            }
            int type = in.i32("tensor " + name + " type");
            long offset = in.i64("tensor " + name + " offset");
            infos.add(new GgufTensorInfo(name, ne, type, offset));
        }
        long dataOffset = alignUp(in.position(), alignment);
        if (dataOffset > file.size()) {
            if (!infos.isEmpty()) {
                throw in.error("tensor data", "data section would start at " + dataOffset + " beyond the end of the file ("
                        + file.size() + " bytes)");
            }
            dataOffset = file.size(); // a tensor-less file (llama.cpp's vocab-only GGUFs) may end without padding
        }
        GgufFile gguf = new GgufFile(file, version, metadata, types, infos, dataOffset, alignment);
        for (GgufTensorInfo info : infos) {
            gguf.checkExtent(info);
        }
        return gguf;
    }

    private void checkExtent(GgufTensorInfo info) {
        String where = file.path() + ": tensor " + info.name();
        if (info.offset() < 0 || info.offset() % alignment != 0) {
            throw new JQuantException(where + ": offset " + Long.toUnsignedString(info.offset())
                    + " is not a multiple of the alignment " + alignment);
        }
        Format format;
        try {
            format = Formats.resolve(info.typeId(), metadata, info.name()).orElse(null);
        } catch (JQuantException e) {
            throw new JQuantException(file.path() + ": " + e.getMessage(), e);
        }
        if (format == null) {
            return; // reported when the tensor is used: inspect can still list it
        }
        long bytes;
        try {
            bytes = Tensor.byteSize(format, info.shape());
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new JQuantException(where + ": shape " + java.util.Arrays.toString(info.shape()) + " is invalid for "
                    + format.name() + ": " + e.getMessage());
        }
        long end = dataOffset + info.offset() + bytes;
        if (end < 0 || end > file.size()) {
            throw new JQuantException(where + ": data [" + (dataOffset + info.offset()) + ", " + end
                    + ") extends beyond the end of the file (" + file.size() + " bytes; truncated?)");
        }
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static String string(SegmentCursor in, String field) {
        long len = in.count(field + " length", 1);
        return in.utf8(len, field);
    }

    private static Object value(SegmentCursor in, GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> in.i8(key) & 0xff;
            case INT8 -> (int) in.i8(key);
            case UINT16 -> in.i16(key) & 0xffff;
            case INT16 -> (int) in.i16(key);
            case UINT32 -> in.i32(key) & 0xffffffffL;
            case INT32 -> in.i32(key);
            case FLOAT32 -> in.f32(key);
            case BOOL -> {
                byte b = in.i8(key);
                if (b != 0 && b != 1) {
                    throw in.error(key, "bool value " + b + " is neither 0 nor 1");
                }
                yield b == 1;
            }
            case STRING -> string(in, key);
            case UINT64, INT64 -> in.i64(key);
            case FLOAT64 -> in.f64(key);
            case ARRAY -> {
                if (depth > 8) {
                    throw in.error(key, "arrays nested deeper than 8 levels");
                }
                int elemId = in.i32(key + " element type");
                GgufValueType elem = GgufValueType.byId(elemId);
                if (elem == null) {
                    throw in.error(key, "unknown array element type " + elemId);
                }
                long n = in.count(key + " array length", elem.minBytes);
                List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 20));
                for (long i = 0; i < n; i++) {
                    list.add(value(in, elem, key, depth + 1));
                }
                yield Collections.unmodifiableList(list);
            }
        };
    }

    public Path path() {
        return file.path();
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.size();
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public GgufValueType metadataType(String key) {
        return metadataTypes.get(key);
    }

    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String getString(String key) {
        return get(key, String.class);
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        return get(key, Number.class).longValue();
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new JQuantException(file.path() + ": metadata " + key + " = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    public double getDouble(String key, double fallback) {
        return has(key) ? get(key, Number.class).doubleValue() : fallback;
    }

    public boolean getBool(String key, boolean fallback) {
        return has(key) ? get(key, Boolean.class) : fallback;
    }

    public List<?> getArray(String key) {
        return get(key, List.class);
    }

    private <T> T get(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new JQuantException(file.path() + ": metadata key " + key + " is missing");
        }
        if (!type.isInstance(v)) {
            throw new JQuantException(file.path() + ": metadata " + key + " is a " + metadataTypes.get(key)
                    + ", expected " + type.getSimpleName());
        }
        return type.cast(v);
    }

    /** The tensor with this name, a slice of the mapping; a clear error if its type is unknown. */
    public Tensor tensor(GgufTensorInfo info) {
        Format format = Formats.resolve(info.typeId(), metadata, info.name()).orElseThrow(() -> new JQuantException(
                file.path() + ": tensor " + info.name() + " has ggml type " + info.typeId() + ", which jquant cannot read"
                + (info.typeId() >= Formats.FIRST_JQUANT_TYPE_ID ? " without metadata " + Formats.TENSOR_FORMAT_KEY
                + info.name() + " naming its format" : "")));
        long bytes = Tensor.byteSize(format, info.shape());
        return new Tensor(info.name(), format, info.shape(), file.segment().asSlice(dataOffset + info.offset(), bytes));
    }

    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (GgufTensorInfo info : tensorInfos) {
            out.put(info.name(), tensor(info));
        }
        return out;
    }

    @Override
    public void close() {
        file.close();
    }
}
