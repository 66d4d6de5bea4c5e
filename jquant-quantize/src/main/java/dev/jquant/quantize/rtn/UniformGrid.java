package dev.jquant.quantize.rtn;

import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.WeightGrid;
import dev.jquant.quantize.calibrate.Range;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Integer codes of {@code bits} bits with one scale (and, asymmetric, one zero point) per group:
 * {@code w = s * (u - z)}. Symmetric: absmax, {@code s = amax / (2^(bits-1) - 1)}, fixed
 * {@code z = 2^(bits-1)}; asymmetric: min-max over the range widened to include 0,
 * {@code s = (max - min) / (2^bits - 1)}, {@code z = round(-min / s)} (the conventions of jquant's
 * INTn formats). Groups: {@code group > 0} columns, {@link #PER_CHANNEL} (a row), or
 * {@link #PER_TENSOR} (the whole matrix). The {@code observer} picks each group's range (min-max,
 * or a clipped one: percentile, MSE, entropy).
 *
 * <p>Stored in jquant's {@link IntFormat} with F16 scales (rounded up, as that format's own encoder
 * does) and the grid's exact codes.
 */
public record UniformGrid(int bits, int group, boolean symmetric, RangeObserver observer) implements WeightGrid {
    public static final int PER_CHANNEL = 0;
    public static final int PER_TENSOR = -1;

    public UniformGrid {
        if (bits < 2 || bits > 8) {
            throw new JQuantException("--bits must be in 2..8, got " + bits);
        }
        if (group < PER_TENSOR) {
            throw new JQuantException("--group must be positive, 0 (per channel) or -1 (per tensor), got " + group);
        }
    }

    @Override
    public String describe() {
        String g = group == PER_CHANNEL ? "per-channel" : group == PER_TENSOR ? "per-tensor" : "g" + group;
        return "int" + bits + " " + g + " " + (symmetric ? "sym" : "asym");
    }

    @Override
    public double bitsPerWeight(int cols) {
        return 8.0 * storage().rowBytes(cols) / cols;
    }

    /** The storage format: one group per row for per-channel and per-tensor grids. */
    public IntFormat storage() {
        return new IntFormat(bits, group > 0 ? group : IntFormat.ROW, symmetric, ScaleType.F16);
    }

    @Override
    public GridEncoder encoder(float[] weights, int rows, int cols) {
        return new Encoder(weights, rows, cols);
    }

    /** Scale and zero point of one group. */
    record Params(float scale, float zero) {
    }

    Params params(Range r) {
        int maxq = (1 << bits) - 1;
        if (symmetric) {
            float s = ScaleType.F16.roundUp(r.absMax() / ((1 << (bits - 1)) - 1));
            return new Params(s, 1 << (bits - 1));
        }
        float lo = Math.min(r.lo(), 0);
        float hi = Math.max(r.hi(), 0);
        float s = ScaleType.F16.roundUp((hi - lo) / maxq);
        return new Params(s, s == 0 ? 0 : (float) Math.clamp(Math.rint(-lo / s), 0, maxq));
    }

    float quantize(Params p, float v) {
        if (p.scale == 0) {
            return 0;
        }
        int maxq = (1 << bits) - 1;
        float u = (float) Math.clamp(Math.rint((double) v / p.scale + p.zero), 0, maxq);
        return p.scale * (u - p.zero);
    }

    private final class Encoder implements GridEncoder {
        private final int cols;
        private final int groupLength;
        private final Params[] params;
        private final float[] values;

        Encoder(float[] weights, int rows, int cols) {
            this.cols = cols;
            this.groupLength = group > 0 ? group : cols;
            this.params = new Params[rows * Math.ceilDiv(cols, groupLength)];
            this.values = new float[rows * cols];
            if (group == PER_TENSOR) {
                java.util.Arrays.fill(params, params(observer.range(weights, 0, rows * cols, 1 << bits)));
            }
        }

        @Override
        public int group() {
            return groupLength;
        }

        @Override
        public void fit(int row, float[] v, int col0) {
            if (group == PER_TENSOR) {
                return;
            }
            int len = Math.min(groupLength, cols - col0);
            params[index(row, col0)] = params(observer.range(v, col0, len, 1 << bits));
        }

        private int index(int row, int col) {
            return row * Math.ceilDiv(cols, groupLength) + col / groupLength;
        }

        @Override
        public float round(int row, int col, float v) {
            float q = quantize(params[index(row, col)], v);
            values[row * cols + col] = q;
            return q;
        }

        @Override
        public Tensor finish(String name, Arena arena) {
            IntFormat f = storage();
            int rows = values.length / cols;
            int groups = Math.ceilDiv(cols, groupLength);
            long rowBytes = f.rowBytes(cols);
            MemorySegment out = arena.allocate(rows * rowBytes, 64);
            float[] scales = new float[groups];
            float[] zeros = new float[groups];
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < groups; g++) {
                    Params p = params[r * groups + g];
                    scales[g] = p.scale;
                    zeros[g] = p.zero;
                }
                f.encode(values, r * cols, cols, scales, symmetric ? null : zeros, out, r * rowBytes);
            }
            return new Tensor(name, f, new long[]{rows, cols}, out);
        }
    }
}
