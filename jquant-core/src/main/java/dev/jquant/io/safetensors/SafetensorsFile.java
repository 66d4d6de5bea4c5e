package dev.jquant.io.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.io.MappedFile;
import dev.jquant.io.SegmentCursor;
import dev.jquant.tensor.Tensor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the data. Every range is checked against
 * the file before any tensor is handed out; tensors are slices of the mapping, never copies.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation refuses larger headers too; a bigger one is corrupt or hostile. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final MappedFile file;
    private final long dataStart;
    private final Map<String, SafetensorsEntry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(MappedFile file, long dataStart, Map<String, SafetensorsEntry> entries,
                            Map<String, String> metadata) {
        this.file = file;
        this.dataStart = dataStart;
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    public static SafetensorsFile open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return parse(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(MappedFile file) {
        String where = file.path().toString();
        SegmentCursor in = new SegmentCursor(file.segment(), where);
        long headerLength = in.i64("header length");
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw in.error("header length", Long.toUnsignedString(headerLength) + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes (corrupt file?)");
        }
        if (headerLength > in.remaining()) {
            throw in.error("header length", headerLength + " runs past the end of the file (" + file.size()
                    + " bytes; truncated?)");
        }
        String json = new String(in.bytes(headerLength, "header"), StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw in.error("header", "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw in.error("header", "is not a JSON object");
        }
        long dataStart = in.position();
        long dataSize = file.size() - dataStart;
        Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                readMetadata(where, field.getValue(), metadata);
            } else {
                entries.put(field.getKey(), entry(where, field.getKey(), field.getValue(), dataSize));
            }
        }
        checkNoOverlap(where, entries.values());
        return new SafetensorsFile(file, dataStart, entries, metadata);
    }

    private static void readMetadata(String where, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new JQuantException(where + ": __metadata__: must be a JSON object of strings");
        }
        for (var e : node.properties()) {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new JQuantException(where + ": __metadata__." + e.getKey() + ": must be a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
    }

    private static SafetensorsEntry entry(String where, String name, JsonNode node, long dataSize) {
        String at = where + ": tensor " + name + ": ";
        if (!node.isObject()) {
            throw new JQuantException(at + "header entry is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new JQuantException(at + "dtype is missing or not a string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.byName(dtypeNode.asText());
        if (dtype == null) {
            throw new JQuantException(at + "unknown dtype '" + dtypeNode.asText() + "'");
        }
        long[] shape = longs(at, node.get("shape"), "shape", -1);
        long[] offsets = longs(at, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new JQuantException(at + "data_offsets [" + begin + ", " + end + "] lie outside the data section of "
                    + dataSize + " bytes (or begin > end)");
        }
        long expected;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            expected = dtype.byteSize(elements);
        } catch (ArithmeticException e) {
            throw new JQuantException(at + "shape " + Arrays.toString(shape) + " is too large");
        }
        if (expected != end - begin) {
            throw new JQuantException(at + "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    /** Non-negative integers; exactly {@code length} of them unless it is negative. */
    private static long[] longs(String at, JsonNode node, String field, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new JQuantException(at + field + " is missing or not an array"
                    + (length >= 0 ? " of " + length + " integers" : " of integers"));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new JQuantException(at + field + " holds " + v + ", not a non-negative 64-bit integer");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    private static void checkNoOverlap(String where, java.util.Collection<SafetensorsEntry> entries) {
        List<SafetensorsEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(SafetensorsEntry::begin).thenComparingLong(SafetensorsEntry::end));
        for (int i = 1; i < sorted.size(); i++) {
            SafetensorsEntry prev = sorted.get(i - 1);
            SafetensorsEntry next = sorted.get(i);
            if (next.begin() < prev.end()) {
                throw new JQuantException(where + ": tensor " + next.name() + ": data_offsets [" + next.begin() + ", "
                        + next.end() + "] overlap those of tensor " + prev.name() + " [" + prev.begin() + ", "
                        + prev.end() + "]");
            }
        }
    }

    public Path path() {
        return file.path();
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Header entries in file order. */
    public Map<String, SafetensorsEntry> entries() {
        return entries;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The tensor as stored, a slice of the mapping; fails clearly for dtypes jquant cannot compute with. */
    public Tensor tensor(String name) {
        SafetensorsEntry e = entries.get(name);
        if (e == null) {
            throw new JQuantException(file.path() + ": tensor " + name + " is not in this file");
        }
        Format format = e.dtype().format().orElseThrow(() -> new JQuantException(file.path()
                + ": unsupported dtype " + e.dtype() + " for tensor " + name + " (jquant reads F32, F16 and BF16)"));
        return new Tensor(name, format, e.shape(), file.segment().asSlice(dataStart + e.begin(), e.byteSize()));
    }

    @Override
    public void close() {
        file.close();
    }
}
