package dev.jquant.kernel;

import dev.jquant.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products of a stored weight matrix {@code W [rows, cols]} with activations, split over rows on
 * the shared pool. Weights are read where they lie, in their own format.
 */
public final class MatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows decoded together in the batched product: enough to reuse each activation tile, small enough for L1/L2. */
    private static final int ROW_TILE = 4;

    private MatMul() {
    }

    /** {@code out[r] = W[r] · x} for every row r (decode: one token). */
    public static void matvec(Tensor w, float[] x, float[] out) {
        if (Int8MatMul.handles(w.format())) {
            Int8MatMul.matmul(w, x, 1, out, Int8MatMul.DYNAMIC);
            return;
        }
        int cols = w.cols();
        Parallel.get().forRange(w.rows(), 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                out[r] = w.dotRow(r, x, 0);
            }
        });
        assert x.length >= cols;
    }

    /**
     * {@code out[t * rows + r] = W[r] · x[t * cols ..]} for {@code tokens} activation vectors laid out
     * one after another (prefill). Each thread decodes a tile of rows once into F32 scratch and
     * multiplies it with every token, so a weight is read once per batch, not once per token.
     * {@link Int8MatMul#WEIGHTS} run as W8A8 with activations quantized per token.
     */
    public static void matmul(Tensor w, float[] x, int tokens, float[] out) {
        if (Int8MatMul.handles(w.format())) {
            Int8MatMul.matmul(w, x, tokens, out, Int8MatMul.DYNAMIC);
            return;
        }
        if (tokens == 1) {
            matvec(w, x, out);
            return;
        }
        int rows = w.rows();
        int cols = w.cols();
        Parallel.get().forRange(rows, ROW_TILE * 4, (start, end) -> {
            float[] tile = new float[ROW_TILE * cols];
            for (int r0 = start; r0 < end; r0 += ROW_TILE) {
                int nr = Math.min(ROW_TILE, end - r0);
                for (int i = 0; i < nr; i++) {
                    w.decodeRow(r0 + i, tile, i * cols);
                }
                for (int t = 0; t < tokens; t++) {
                    int xo = t * cols;
                    if (nr == ROW_TILE) {
                        dot4(tile, cols, x, xo, out, t * rows + r0);
                    } else {
                        for (int i = 0; i < nr; i++) {
                            out[t * rows + r0 + i] = dot(tile, i * cols, x, xo, cols);
                        }
                    }
                }
            }
        });
    }

    /** Dot product of two float arrays, vectorised. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** Four rows of {@code tile} against one activation vector: each activation load feeds four FMAs. */
    private static void dot4(float[] tile, int cols, float[] x, int xo, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(cols); i < upper; i += S.length()) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            a0 = FloatVector.fromArray(S, tile, i).fma(xv, a0);
            a1 = FloatVector.fromArray(S, tile, cols + i).fma(xv, a1);
            a2 = FloatVector.fromArray(S, tile, 2 * cols + i).fma(xv, a2);
            a3 = FloatVector.fromArray(S, tile, 3 * cols + i).fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
            float xi = x[xo + i];
            s0 += tile[i] * xi;
            s1 += tile[cols + i] * xi;
            s2 += tile[2 * cols + i] * xi;
            s3 += tile[3 * cols + i] * xi;
        }
        out[outOff] = s0;
        out[outOff + 1] = s1;
        out[outOff + 2] = s2;
        out[outOff + 3] = s3;
    }
}
