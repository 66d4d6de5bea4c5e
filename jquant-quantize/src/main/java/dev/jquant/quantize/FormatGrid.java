package dev.jquant.quantize;

import dev.jquant.format.BlockGrid;
import dev.jquant.format.Format;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A storage format's own grid: the scales of each block are chosen by the format's encoder (bit
 * for bit what llama.cpp would choose for those values) and elements are rounded onto exactly
 * that block's levels, so GPTQ-corrected weights land in standard blocks (every GGUF type jquant
 * writes from Q2_K to Q8_0, IQ4_NL and IQ4_XS). Formats without a {@link BlockGrid} (NF4, FP4, ...)
 * keep the values their encoder gave the block when it was fitted: error feedback then works block
 * by block instead of column by column.
 */
public record FormatGrid(Format format) implements WeightGrid {

    @Override
    public GridEncoder encoder(float[] weights, int rows, int cols) {
        Optional<BlockGrid> grid = BlockGrid.of(format);
        return new Encoder(format, grid.orElse(null), rows, cols);
    }

    @Override
    public String describe() {
        return format.name();
    }

    @Override
    public double bitsPerWeight(int cols) {
        return 8.0 * format.rowBytes(cols) / cols;
    }

    private static final class Encoder implements GridEncoder {
        private final Format format;
        private final BlockGrid grid;
        private final int cols;
        private final long rowBytes;
        private final MemorySegment data;
        /** Decoded block values, for formats without a grid (null otherwise). */
        private final float[] fitted;

        Encoder(Format format, BlockGrid grid, int rows, int cols) {
            this.format = format;
            this.grid = grid;
            this.cols = cols;
            this.rowBytes = format.rowBytes(cols);
            this.data = Arena.ofAuto().allocate(rows * rowBytes, 64);
            this.fitted = grid == null ? new float[rows * cols] : null;
        }

        @Override
        public int group() {
            return format.blockSize();
        }

        private long blockAt(int row, int col) {
            return row * rowBytes + (long) (col / format.blockSize()) * format.blockBytes();
        }

        @Override
        public void fit(int row, float[] values, int col0) {
            long at = blockAt(row, col0);
            if (grid != null) {
                grid.fit(values, col0, data, at);
            } else {
                format.encode(values, col0, format.blockSize(), data, at);
                format.decode(data, at, fitted, row * cols + col0, format.blockSize());
            }
        }

        @Override
        public float round(int row, int col, float v) {
            if (grid == null) {
                return fitted[row * cols + col];
            }
            return grid.round(data, blockAt(row, col), col % format.blockSize(), v);
        }

        @Override
        public Tensor finish(String name, Arena arena) {
            MemorySegment out = arena.allocate(data.byteSize(), 64);
            out.copyFrom(data);
            return new Tensor(name, format, new long[]{data.byteSize() / rowBytes, cols}, out);
        }
    }
}
