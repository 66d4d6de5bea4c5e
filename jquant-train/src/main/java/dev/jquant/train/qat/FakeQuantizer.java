package dev.jquant.train.qat;

import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.kernel.Parallel;
import dev.jquant.train.Parameters;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Fake quantization for quantization-aware training: each planned matrix is encoded in its target
 * format and decoded back, row by row, so the forward pass sees exactly the weights the quantized
 * file will hold. Used as the trainer's forward transform, its gradient is passed straight through
 * to the full-precision weights (the straight-through estimator).
 */
public final class FakeQuantizer implements UnaryOperator<Parameters> {
    private final Map<String, Format> formats;

    /** @param formats target format per parameter name; parameters not named (or F32) pass unchanged */
    public FakeQuantizer(Map<String, Format> formats) {
        this.formats = Map.copyOf(formats);
    }

    @Override
    public Parameters apply(Parameters p) {
        return p.map((name, values) -> {
            Format f = formats.get(name);
            long[] shape = p.shape(name);
            return f == null || f == F32.INSTANCE || shape.length != 2 ? values : roundTrip(values, (int) shape[1], f);
        });
    }

    /** The values as {@code format} stores them: every row of {@code cols} encoded, then decoded. */
    public static float[] roundTrip(float[] values, int cols, Format format) {
        int rows = values.length / cols;
        float[] out = new float[values.length];
        long rowBytes = format.rowBytes(cols);
        Parallel.get().forRange(rows, 8, (start, end) -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment row = arena.allocate(rowBytes, 64);
                for (int r = start; r < end; r++) {
                    format.encode(values, r * cols, cols, row, 0);
                    format.decode(row, 0, out, r * cols, cols);
                }
            }
        });
        return out;
    }
}
