package dev.jquant.quantize.rtn;

import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.FormatGrid;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.WeightGrid;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Round to nearest: every group's scales from its own values, every element to its nearest level. */
public final class Rtn {
    private Rtn() {
    }

    /** {@code w} ({@code rows x cols}) rounded onto {@code grid}; a storage format's grid is its own encoder, bit for bit. */
    public static Tensor quantize(String name, float[] w, int rows, int cols, WeightGrid grid, Arena arena) {
        if (grid instanceof FormatGrid(var format)) {
            long rowBytes = format.rowBytes(cols);
            MemorySegment out = arena.allocate(rows * rowBytes, 64);
            Parallel.get().forRange(rows, 8, (start, end) -> {
                for (int r = start; r < end; r++) {
                    format.encode(w, r * cols, cols, out, r * rowBytes);
                }
            });
            return new Tensor(name, format, new long[]{rows, cols}, out);
        }
        GridEncoder enc = grid.encoder(w, rows, cols);
        Parallel.get().forRange(rows, 8, (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                System.arraycopy(w, r * cols, row, 0, cols);
                for (int c0 = 0; c0 < cols; c0 += enc.group()) {
                    enc.fit(r, row, c0);
                    for (int c = c0; c < Math.min(cols, c0 + enc.group()); c++) {
                        enc.round(r, c, row[c]);
                    }
                }
            }
        });
        return enc.finish(name, arena);
    }
}
