package dev.jquant.tensor;

import dev.jquant.format.Format;
import dev.jquant.format.RowGroups;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named tensor: a shape, a storage {@link Format} and the bytes where they lie (an mmapped file
 * region or off-heap memory). Shapes are row-major, outermost dimension first: a linear layer's
 * weight is {@code [out, in]} and each of its {@code out} rows is stored contiguously.
 *
 * <p>A weight may also carry its rows repacked for the decode kernels ({@link #rowGroups}, null when
 * not): rows are then read from there, and {@link #data} is no longer touched.
 */
public record Tensor(String name, Format format, long[] shape, MemorySegment data, RowGroups rowGroups) {

    public Tensor(String name, Format format, long[] shape, MemorySegment data) {
        this(name, format, shape, data, null);
    }

    public Tensor {
        shape = shape.clone();
        long expected = byteSize(format, shape);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize()
                    + " bytes given, " + format.name() + " " + Arrays.toString(shape) + " needs " + expected);
        }
        if (rowGroups != null && (shape.length != 2 || rowGroups.rows() != shape[0] || rowGroups.cols() != shape[1])) {
            throw new IllegalArgumentException("tensor " + name + " " + Arrays.toString(shape) + ": row groups of "
                    + rowGroups.rows() + " x " + rowGroups.cols());
        }
    }

    /** Bytes that a tensor of this format and shape occupies; the innermost dimension is split into blocks. */
    public static long byteSize(Format format, long[] shape) {
        if (shape.length == 0) {
            return format.rowBytes(1);
        }
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows = Math.multiplyExact(rows, shape[i]);
        }
        return Math.multiplyExact(rows, format.rowBytes(shape[shape.length - 1]));
    }

    /** An F32 tensor holding a copy of {@code values}, allocated in {@code arena}. */
    public static Tensor ofFloats(String name, float[] values, Arena arena, long... shape) {
        MemorySegment seg = arena.allocate(4L * values.length, 64);
        dev.jquant.format.F32.INSTANCE.encode(values, 0, values.length, seg, 0);
        return new Tensor(name, dev.jquant.format.F32.INSTANCE, shape, seg);
    }

    /**
     * Lets the OS drop this tensor's pages from the process's resident memory when the tensor is
     * mapped from a file (they are read back from the file on the next access); does nothing for
     * tensors in ordinary memory. For pipelines that read a large model once, front to back.
     */
    public void evictFromMemory() {
        if (data.isMapped()) {
            data.unload();
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Number of elements in one row (the innermost dimension). */
    public int cols() {
        return shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
    }

    /** Number of rows: the product of all dimensions but the innermost. */
    public int rows() {
        return Math.toIntExact(elementCount() / cols());
    }

    public long rowBytes() {
        return format.rowBytes(cols());
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Decodes row {@code r} into {@code dst[dstOff..dstOff+cols)}. */
    public void decodeRow(int r, float[] dst, int dstOff) {
        if (rowGroups != null) {
            rowGroups.decodeRow(r, dst, dstOff);
        } else {
            format.decode(data, r * rowBytes(), dst, dstOff, cols());
        }
    }

    /** Dot product of row {@code r} with {@code x[xOff..xOff+cols)}, computed on the stored bytes. */
    public float dotRow(int r, float[] x, int xOff) {
        if (rowGroups != null) {
            float[] row = new float[cols()];
            rowGroups.decodeRow(r, row, 0);
            float sum = 0;
            for (int i = 0; i < row.length; i++) {
                sum += row[i] * x[xOff + i];
            }
            return sum;
        }
        return format.dot(data, r * rowBytes(), x, xOff, cols());
    }

    /**
     * This weight with its rows repacked for the decode kernels ({@link RowGroups#pack}) in memory
     * from {@code arena}, its mapped file pages dropped from resident memory; itself when its
     * format or shape has no such layout.
     */
    public Tensor withRowGroups(Arena arena) {
        if (rowGroups != null || rank() != 2) {
            return this;
        }
        RowGroups packed = RowGroups.pack(format, data, rows(), cols(), arena);
        if (packed == null) {
            return this;
        }
        evictFromMemory();
        return new Tensor(name, format, shape, data, packed);
    }

    /** Decodes the whole tensor; for small tensors (norms, biases) and tests, not for weights on the hot path. */
    public float[] toFloats() {
        float[] out = new float[Math.toIntExact(elementCount())];
        int cols = cols();
        for (int r = 0, rows = rows(); r < rows; r++) {
            decodeRow(r, out, r * cols);
        }
        return out;
    }

    @Override
    public String toString() {
        return name + " " + format.name() + " " + Arrays.toString(shape);
    }
}
