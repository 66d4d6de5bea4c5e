package dev.jquant.tensor;

import dev.jquant.format.Format;
import dev.jquant.kernel.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Re-encodes a tensor row by row in another format (round to nearest), rows split over the shared pool. */
public final class TensorConverter {
    private TensorConverter() {
    }

    public static Tensor convert(Tensor source, Format target, Arena arena) {
        if (source.format() == target) {
            return source;
        }
        long[] shape = source.shape();
        MemorySegment out = arena.allocate(Tensor.byteSize(target, shape), 64);
        int cols = source.cols();
        long rowBytes = target.rowBytes(cols);
        Parallel.get().forRange(source.rows(), 8, (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                source.decodeRow(r, row, 0);
                target.encode(row, 0, cols, out, r * rowBytes);
            }
        });
        return new Tensor(source.name(), target, shape, out);
    }
}
