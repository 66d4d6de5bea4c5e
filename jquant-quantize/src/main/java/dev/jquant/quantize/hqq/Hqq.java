package dev.jquant.quantize.hqq;

import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.TensorNames;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HQQ, Half-Quadratic Quantization (Badri &amp; Shaji, mobiusml/hqq 2023): calibration-free. For each
 * group the scale comes from the min-max range and the zero point is optimised to minimise the
 * sparsity-promoting {@code ||W - dequant(quant(W))||_p^p} (p = 0.7, robust to outliers) by
 * half-quadratic splitting: alternate a generalized soft-threshold of the error (the proximal step
 * of the l_p term) and the closed-form zero point, with a growing penalty β. As in hqq's
 * {@code optimize_weights_proximal_legacy}; unlike it, the best zero point seen is kept. The
 * zero point is fractional, stored in the asymmetric {@link IntFormat}'s scale type.
 *
 * @param lpNorm p of the error norm
 * @param beta   initial half-quadratic penalty
 * @param kappa  its growth per iteration
 */
public record Hqq(double lpNorm, double beta, double kappa, int iterations) {

    public static final Hqq DEFAULT = new Hqq(0.7, 10, 1.01, 20);

    public Hqq {
        if (!(lpNorm > 0 && lpNorm <= 1) || !(beta > 0) || !(kappa >= 1) || iterations < 1) {
            throw new JQuantException("HQQ needs 0 < p <= 1, beta > 0, kappa >= 1 and at least one iteration");
        }
    }

    /** Every linear weight of the decoder blocks in {@code format}; embeddings, output and norms stay. */
    public Map<String, Tensor> quantize(Checkpoint model, IntFormat format, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String suffix : W8A8.LINEARS) {
                Tensor w = model.tensor(TensorNames.block(l, suffix));
                out.put(w.name(), quantize(w, format, arena));
            }
        }
        return out;
    }

    public Tensor quantize(Tensor w, IntFormat format, Arena arena) {
        if (format.symmetric()) {
            throw new JQuantException("HQQ optimises zero points: give an asymmetric format, not " + format.name());
        }
        int cols = w.cols();
        long rowBytes = format.rowBytes(cols);
        MemorySegment seg = arena.allocate(rowBytes * w.rows(), 64);
        Parallel.get().forRange(w.rows(), 4, (start, end) -> {
            float[] row = new float[cols];
            int groups = format.groups(cols);
            int g = format.groupSize() == IntFormat.ROW ? cols : format.groupSize();
            float[] scales = new float[groups];
            float[] zeros = new float[groups];
            for (int r = start; r < end; r++) {
                w.decodeRow(r, row, 0);
                for (int k = 0; k < groups; k++) {
                    int from = k * g;
                    float[] sz = group(row, from, Math.min(g, cols - from), format.bits());
                    scales[k] = sz[0];
                    zeros[k] = sz[1];
                }
                format.encode(row, 0, cols, scales, zeros, seg, r * rowBytes);
            }
        });
        return new Tensor(w.name(), format, w.shape(), seg);
    }

    /** Step {@code s} and zero {@code z} of one group, {@code w ≈ s * (q - z)}, q in [0, 2^bits). */
    float[] group(float[] w, int from, int len, int bits) {
        float maxCode = (1 << bits) - 1;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < from + len; i++) {
            min = Math.min(min, w[i]);
            max = Math.max(max, w[i]);
        }
        if (!(max > min)) {
            return new float[] {Math.abs(min) > 0 ? Math.abs(min) : 1, min > 0 ? -1 : (min < 0 ? 1 : 0)};
        }
        double scale = maxCode / (max - min); // hqq's scale: codes per unit
        double zero = -min * scale;
        double b = beta;
        double bestZero = zero;
        double bestError = Double.POSITIVE_INFINITY;
        for (int it = 0; it < iterations; it++) {
            double error = 0;
            double zeroSum = 0;
            for (int i = from; i < from + len; i++) {
                double q = Math.clamp(Math.rint(w[i] * scale + zero), 0, maxCode);
                double residual = w[i] - (q - zero) / scale;
                error += Math.abs(residual);
                zeroSum += q - (w[i] - shrink(residual, b)) * scale;
            }
            error /= len;
            if (error < bestError) {
                bestError = error;
                bestZero = zero;
            } else {
                break;
            }
            zero = zeroSum / len;
            b *= kappa;
        }
        return new float[] {(float) (1 / scale), (float) bestZero};
    }

    /** The generalized soft-threshold: the proximal operator of {@code |x|^p / β}. */
    private double shrink(double x, double b) {
        double ax = Math.abs(x);
        if (ax == 0) {
            return 0;
        }
        double t = lpNorm == 1 ? 1 / b : Math.pow(ax, lpNorm - 1) / b;
        return Math.signum(x) * Math.max(0, ax - t);
    }
}
