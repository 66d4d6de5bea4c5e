package dev.jquant.io.safetensors;

import dev.jquant.io.AtomicFile;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one safetensors file. Tensors are streamed row by row from their segments at
 * {@link #write} time, converted to the requested float dtype when it differs from the stored
 * format, so memory stays bounded by a row. The file appears atomically (temporary sibling, then
 * rename); the header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
public final class SafetensorsWriter {
    private static final int HEADER_ALIGNMENT = 8;

    private interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Pending(String name, SafetensorsDtype dtype, long[] shape, long bytes, Body body) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();

    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds the tensor in its own format, which must be F32, F16 or BF16. */
    public SafetensorsWriter add(String name, Tensor tensor) {
        return add(name, tensor, tensor.format());
    }

    /** Adds the tensor converted to {@code as} (F32, F16 or BF16); any readable source format works. */
    public SafetensorsWriter add(String name, Tensor tensor, Format as) {
        return addPermutedRows(name, tensor, as, null);
    }

    /**
     * Adds the tensor converted to {@code as}, its row {@code i} taken from source row {@code rowOrder[i]}
     * ({@code rowOrder == null} keeps the order). A 1-D tensor's rows are its elements.
     */
    public SafetensorsWriter addPermutedRows(String name, Tensor tensor, Format as, int[] rowOrder) {
        SafetensorsDtype dtype = SafetensorsDtype.of(as).orElseThrow(() -> new JQuantException(
                "safetensors: tensor " + name + ": format " + as.name() + " has no safetensors dtype"));
        boolean vector = tensor.rank() <= 1;
        int rows = vector ? 1 : tensor.rows();
        int cols = vector ? Math.toIntExact(tensor.elementCount()) : tensor.cols();
        if (rowOrder != null && rowOrder.length != (vector ? cols : rows)) {
            throw new IllegalArgumentException(name + ": row order has " + rowOrder.length + " entries");
        }
        if (rowOrder == null && as.equals(tensor.format())) {
            return addRaw(name, dtype, tensor.shape(), tensor.data());
        }
        long bytes = Tensor.byteSize(as, tensor.shape());
        tensors.add(new Pending(name, dtype, tensor.shape(), bytes, out -> {
            float[] src = new float[cols];
            float[] dst = vector && rowOrder != null ? new float[cols] : src;
            byte[] buf = new byte[Math.toIntExact(as.rowBytes(cols))];
            MemorySegment bufSeg = MemorySegment.ofArray(buf);
            for (int r = 0; r < rows; r++) {
                int from = vector || rowOrder == null ? r : rowOrder[r];
                tensor.format().decode(tensor.data(), from * tensor.format().rowBytes(cols), src, 0, cols);
                if (vector && rowOrder != null) {
                    for (int i = 0; i < cols; i++) {
                        dst[i] = src[rowOrder[i]];
                    }
                }
                as.encode(dst, 0, cols, bufSeg, 0);
                out.write(buf);
            }
        }));
        return this;
    }

    /** Adds bytes as they are, under any dtype of the specification; their size must match the shape. */
    public SafetensorsWriter addRaw(String name, SafetensorsDtype dtype, long[] shape, MemorySegment bytes) {
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        if (dtype.byteSize(elements) != bytes.byteSize()) {
            throw new IllegalArgumentException(name + ": " + bytes.byteSize() + " bytes for " + dtype + " "
                    + java.util.Arrays.toString(shape));
        }
        tensors.add(new Pending(name, dtype, shape.clone(), bytes.byteSize(), out -> copy(bytes, out)));
        return this;
    }

    /** Bytes of tensor data added so far (the file adds a header). */
    public long dataBytes() {
        return tensors.stream().mapToLong(Pending::bytes).sum();
    }

    private static void copy(MemorySegment src, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, src.byteSize()))];
        for (long pos = 0, n = src.byteSize(); pos < n; pos += buf.length) {
            int len = (int) Math.min(buf.length, n - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, buf, 0, len);
            out.write(buf, 0, len);
        }
    }

    public void write(Path out) {
        AtomicFile.write(out, os -> {
            byte[] header = header();
            os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            os.write(header);
            for (Pending p : tensors) {
                p.body().writeTo(os);
            }
        });
    }

    private byte[] header() throws JsonProcessingException {
        Map<String, Object> root = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            root.put("__metadata__", metadata);
        }
        long offset = 0;
        for (Pending p : tensors) {
            if (root.containsKey(p.name())) {
                throw new JQuantException("safetensors: tensor " + p.name() + " was added twice");
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", p.dtype().name());
            entry.put("shape", p.shape());
            entry.put("data_offsets", List.of(offset, offset + p.bytes()));
            root.put(p.name(), entry);
            offset += p.bytes();
        }
        byte[] json = SafetensorsFile.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = Math.ceilDiv(json.length, HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

}
