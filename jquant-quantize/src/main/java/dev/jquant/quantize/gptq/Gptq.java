package dev.jquant.quantize.gptq;

import dev.jquant.JQuantException;
import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.GridEncoder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al., 2022): quantize a weight matrix column by column, each time spreading the
 * rounding error over the columns not yet quantized so that the layer's output on the calibration
 * inputs changes least (second-order, through the inverse Hessian {@code (2XᵀX)⁻¹}). Rows are
 * independent given the Hessian, so tiles of rows run in parallel; columns go block by block of
 * {@link GptqOptions#blockSize()}: within a block each error is spread at once, and the columns after
 * it get the whole block's errors in one matrix product ({@link LazyUpdate}), which is where the
 * time goes. Results do not depend on the number of threads.
 * Rounding goes through a {@link GridEncoder}, so the grid is exactly the target format's.
 */
public final class Gptq {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows per parallel task: a multiple of the lazy update's register tile. */
    private static final int ROW_TILE = 16;

    /** What one matrix's GPTQ run did. {@code loss}: Σ (w-q)²/[H⁻¹]ᵢᵢ / 2 over all rounding steps (GPTQ's own error). */
    public record Result(float[] quantized, double loss, double dampUsed) {
    }

    private Gptq() {
    }

    /**
     * The inverse-Hessian factor of one layer input, prepared once and shared by the layers that
     * read that input (q/k/v, gate/up).
     *
     * @param dead channels that never fired (their weights cannot matter and are zeroed)
     */
    public record Prepared(int cols, int[] perm, float[] u, boolean[] dead, double dampUsed) {
    }

    /**
     * Dampens {@code hessian} ({@code XᵀX / n}, {@code cols x cols}; modified in place, as it can be
     * large), orders it (act-order) and factors its inverse.
     */
    public static Prepared prepare(double[] hessian, int cols, GptqOptions o) {
        if (hessian.length != cols * cols) {
            throw new JQuantException("GPTQ: Hessian of " + hessian.length + " values for " + cols + " columns");
        }
        double[] h = hessian;
        boolean[] dead = new boolean[cols];
        for (int i = 0; i < cols; i++) {
            if (h[i * cols + i] == 0) {
                h[i * cols + i] = 1;
                dead[i] = true;
            }
        }
        int[] perm = o.actOrder() ? order(h, cols) : IntStream.range(0, cols).toArray();
        double[] hp = o.actOrder() ? permute(h, perm, cols) : h;
        double mean = 0;
        for (int i = 0; i < cols; i++) {
            mean += hp[i * cols + i] / cols;
        }
        double damp = o.damp();
        for (int attempt = 0; attempt < 6; attempt++, damp *= 10) {
            for (int i = 0; i < cols; i++) {
                hp[i * cols + i] += damp * mean;
            }
            float[] u = Cholesky.upperOfInverse(hp, cols);
            if (u != null) {
                return new Prepared(cols, perm, u, dead, damp);
            }
            for (int i = 0; i < cols; i++) {
                hp[i * cols + i] -= damp * mean;
            }
        }
        throw new JQuantException("GPTQ: the Hessian stays singular even with dampening " + damp / 10);
    }

    /** {@link #prepare} and {@link #quantize(float[], int, Prepared, GridEncoder, GptqOptions)} in one. */
    public static Result quantize(float[] w, int rows, int cols, double[] hessian, GridEncoder encoder, GptqOptions o) {
        return quantize(w, rows, prepare(hessian.clone(), cols, o), encoder, o);
    }

    /** Quantizes {@code w} ({@code rows x p.cols()}, row-major, not modified); every element ends up rounded in {@code encoder}. */
    public static Result quantize(float[] w, int rows, Prepared p, GridEncoder encoder, GptqOptions o) {
        int cols = p.cols();
        int[] perm = p.perm();
        boolean[] dead = p.dead();
        boolean staticGroups = o.actOrder() || o.staticGroups();
        int group = encoder.group();
        // working rows in processing (act-order) order; dead channels zeroed
        float[][] work = new float[rows][];
        Parallel.get().forRange(rows, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                float[] x = new float[cols];
                for (int i = 0; i < cols; i++) {
                    int c = perm[i];
                    x[i] = dead[c] ? 0 : w[r * cols + c];
                }
                work[r] = x;
                if (staticGroups) {
                    float[] original = new float[cols];
                    for (int i = 0; i < cols; i++) {
                        original[perm[i]] = x[i];
                    }
                    for (int c0 = 0; c0 < cols; c0 += group) {
                        encoder.fit(r, original, c0);
                    }
                }
            }
        });
        // a group fitted during the loop must see every earlier update, so then a lazy block spans whole
        // groups; fitted up front (static groups, or one group per row) any block size will do
        boolean fittedUpFront = staticGroups || group >= cols;
        int block;
        if (fittedUpFront) {
            block = o.blockSize();
        } else if (group >= o.blockSize()) {
            block = group;
        } else {
            block = o.blockSize() / group * group;
        }
        float[] q = new float[rows * cols];
        float[] negErr = new float[rows * block];
        int tiles = Math.ceilDiv(rows, ROW_TILE);
        double[] loss = new double[tiles];
        float[] u = p.u();
        for (int b1 = 0; b1 < cols; b1 += block) {
            int i1 = b1;
            int i2 = Math.min(cols, i1 + block);
            Parallel.get().forRange(tiles, 1, (start, end) -> {
                for (int tile = start; tile < end; tile++) {
                    int r0 = tile * ROW_TILE;
                    int r1 = Math.min(rows, r0 + ROW_TILE);
                    for (int r = r0; r < r1; r++) {
                        loss[tile] += quantizeColumns(work[r], r, q, negErr, r * block - i1, i1, i2, cols, perm, u,
                                encoder, staticGroups);
                    }
                    if (i2 < cols) {
                        LazyUpdate.apply(work, r0, r1, negErr, block, u, cols, i1, i2);
                    }
                }
            });
        }
        double total = 0;
        for (double l : loss) {
            total += l;
        }
        return new Result(q, total, p.dampUsed());
    }

    /**
     * Rounds columns [i1, i2) of one row in processing order, spreading each rounding error over the
     * rest of the block at once and recording it (negated, at {@code negErr[eo + i]}) for the lazy
     * update of the columns after the block; returns the loss of these steps.
     */
    private static double quantizeColumns(float[] x, int r, float[] q, float[] negErr, int eo, int i1, int i2, int cols,
                                          int[] perm, float[] u, GridEncoder enc, boolean staticGroups) {
        double loss = 0;
        for (int i = i1; i < i2; i++) {
            int col = perm[i];
            if (!staticGroups && col % enc.group() == 0) {
                enc.fit(r, x, col); // no act-order: x is in natural column order
            }
            float qi = enc.round(r, col, x[i]);
            q[r * cols + col] = qi;
            float d = u[i * cols + i];
            float e = (x[i] - qi) / d;
            loss += 0.5 * e * e;
            axpy(-e, u, i * cols + i + 1, x, i + 1, i2 - i - 1);
            negErr[eo + i] = -e;
        }
        return loss;
    }

    /** y[yo..yo+n) += a * x[xo..xo+n). */
    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /** Columns by decreasing Hessian diagonal (act-order); ties keep their order. */
    private static int[] order(double[] h, int n) {
        return IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -h[i * n + i]))
                .mapToInt(Integer::intValue).toArray();
    }

    private static double[] permute(double[] h, int[] perm, int n) {
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                out[i * n + j] = h[perm[i] * n + perm[j]];
            }
        }
        return out;
    }
}
