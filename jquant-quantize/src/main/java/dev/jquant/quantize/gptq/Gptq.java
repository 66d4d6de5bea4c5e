package dev.jquant.quantize.gptq;

import dev.jquant.JQuantException;
import dev.jquant.kernel.Parallel;
import dev.jquant.quantize.GridEncoder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al., 2022): quantize a weight matrix column by column, each time spreading the
 * rounding error over the columns not yet quantized so that the layer's output on the calibration
 * inputs changes least (second-order, through the inverse Hessian {@code (2XᵀX)⁻¹}). Rows are
 * independent given the Hessian, so tiles of rows run in parallel; within a row, updates to columns
 * beyond the current block of {@link GptqOptions#blockSize()} are batched (lazy batch updates).
 * Rounding goes through a {@link GridEncoder}, so the grid is exactly the target format's.
 */
public final class Gptq {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ROW_TILE = 8;

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
        float[] weights = w.clone();
        for (int i = 0; i < cols; i++) {
            if (p.dead()[i]) {
                for (int r = 0; r < rows; r++) {
                    weights[r * cols + i] = 0;
                }
            }
        }
        int[] perm = p.perm();
        boolean staticGroups = o.actOrder() || o.staticGroups();
        int group = encoder.group();
        if (staticGroups) {
            Parallel.get().forRange(rows, 1, (start, end) -> {
                for (int r = start; r < end; r++) {
                    float[] original = Arrays.copyOfRange(weights, r * cols, (r + 1) * cols);
                    for (int c0 = 0; c0 < cols; c0 += group) {
                        encoder.fit(r, original, c0);
                    }
                }
            });
        }
        // a lazy block spans whole groups, so a group is fitted only after every earlier update reached it
        int block = group >= o.blockSize() ? group : o.blockSize() / group * group;
        float[] q = new float[rows * cols];
        double[] loss = new double[Math.ceilDiv(rows, ROW_TILE)];
        Parallel.get().forRange(Math.ceilDiv(rows, ROW_TILE), 1, (start, end) -> {
            for (int tile = start; tile < end; tile++) {
                loss[tile] = quantizeRows(weights, q, tile * ROW_TILE, Math.min(rows, (tile + 1) * ROW_TILE), cols,
                        perm, p.u(), encoder, block, staticGroups);
            }
        });
        return new Result(q, Arrays.stream(loss).sum(), p.dampUsed());
    }

    private static double quantizeRows(float[] w, float[] q, int r0, int r1, int cols, int[] perm, float[] u,
                                       GridEncoder enc, int block, boolean staticGroups) {
        int nr = r1 - r0;
        float[][] row = new float[nr][];
        for (int k = 0; k < nr; k++) {
            row[k] = new float[cols];
            for (int i = 0; i < cols; i++) {
                row[k][i] = w[(r0 + k) * cols + perm[i]];
            }
        }
        float[][] err = new float[nr][block];
        double loss = 0;
        for (int i1 = 0; i1 < cols; i1 += block) {
            int i2 = Math.min(cols, i1 + block);
            for (int k = 0; k < nr; k++) {
                float[] x = row[k];
                int r = r0 + k;
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
                    err[k][i - i1] = e;
                }
            }
            if (i2 < cols) {
                for (int i = i1; i < i2; i++) {
                    for (int k = 0; k < nr; k++) {
                        axpy(-err[k][i - i1], u, i * cols + i2, row[k], i2, cols - i2);
                    }
                }
            }
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
