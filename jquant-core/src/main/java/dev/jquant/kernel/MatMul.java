package dev.jquant.kernel;

import dev.jquant.format.Q8Activations;
import dev.jquant.format.RowGroups;
import dev.jquant.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products of a stored weight matrix {@code W [rows, cols]} with activations, split over rows on
 * the shared pool. Weights are read where they lie, in their own format.
 *
 * <p>The batched product (prefill) is blocked over rows and tokens: a thread decodes a tile of
 * rows once into F32 scratch sized to stay in L2 (the only float copy of a weight, a few hundred
 * KiB per thread), then walks the tokens four at a time and the tile's rows four at a time, each
 * step a 4 x 4 register-blocked micro-kernel (sixteen vector accumulators, eight loads per sixteen
 * FMAs). A weight byte is read once per batch and every decoded value feeds many FMAs, so the
 * product is compute-bound, not a loop of matrix-vector products.
 */
public final class MatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Sixteen floats: half a 32-row panel (row groups exist only where 512-bit vectors do). */
    private static final VectorSpecies<Float> F16X = FloatVector.SPECIES_512;
    /** Floats of decoded weights per thread: 96 Ki floats = 384 KiB, well inside a 1 MiB L2 beside the activations. */
    private static final int TILE_FLOATS = 96 * 1024;
    /** Rows and tokens of the micro-kernel. */
    private static final int MR = 4;
    private static final int NR = 4;
    /** Per-thread decode scratch (pool threads live as long as the pool; the array only grows). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    /** The calling thread's activations interleaved six tokens at a time (see {@link #interleaveSixes}). */
    private static final ThreadLocal<float[]> SIXES = ThreadLocal.withInitial(() -> new float[0]);

    private MatMul() {
    }

    /**
     * The sum of {@code v}'s lanes in lane order. Unlike {@code reduceLanes(ADD)}, whose order differs
     * between C2's intrinsic (a tree) and the interpreter's and C1's fallback (a loop), this gives the
     * same float in every JIT tier, so a result does not depend on how warm the JVM was.
     */
    public static float sumLanes(FloatVector v, float[] tmp) {
        v.intoArray(tmp, 0);
        float s = 0;
        for (int i = 0; i < S.length(); i++) {
            s += tmp[i];
        }
        return s;
    }

    /**
     * {@code out[r] = W[r] · x} for every row r (decode: one token). A weight with {@link RowGroups}
     * runs on those, against {@code x} quantized to 8 bits per block of 32 as ggml does.
     */
    public static void matvec(Tensor w, float[] x, float[] out) {
        if (Int8MatMul.handles(w.format())) {
            Int8MatMul.matmul(w, x, 1, out, Int8MatMul.DYNAMIC);
            return;
        }
        int cols = w.cols();
        if (x.length < cols || out.length < w.rows()) {
            throw new IllegalArgumentException(w + ": activations " + x.length + " / output " + out.length + " too short");
        }
        RowGroups groups = w.rowGroups();
        if (groups != null) {
            Q8Activations xq = Q8Activations.quantize(x, cols);
            Parallel.get().forRange(groups.groups(), 1, (start, end) -> groups.multiply(xq, out, start, end));
            return;
        }
        Parallel.get().forRange(w.rows(), 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                out[r] = w.dotRow(r, x, 0);
            }
        });
    }

    /** Rows decoded per tile for rows of {@code cols} elements: a multiple of {@link #MR}, 4..64. */
    static int tileRows(int cols) {
        return Math.max(MR, Math.min(64, TILE_FLOATS / Math.max(1, cols)) / MR * MR);
    }

    /**
     * {@code out[t * rows + r] = W[r] · x[t * cols ..]} for {@code tokens} activation vectors laid out
     * one after another (prefill). Blocked over rows and tokens, see the class comment.
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
        if ((long) x.length < (long) tokens * cols || (long) out.length < (long) tokens * rows) {
            throw new IllegalArgumentException(w + ": activations " + x.length + " / output " + out.length
                    + " too short for " + tokens + " tokens");
        }
        RowGroups groups = w.rowGroups();
        if (groups != null) {
            float[] sixes = interleaveSixes(x, tokens, cols);
            Parallel.get().forRange(groups.groups(), 1, (start, end) -> {
                float[] panel = scratch(RowGroups.ROWS * cols);
                for (int g = start; g < end; g++) {
                    groups.decodeColumns(g, panel);
                    multiplyPanel(panel, cols, x, sixes, tokens, out, rows, g * RowGroups.ROWS);
                }
            });
            return;
        }
        if (RowGroups.WIDE_VECTORS && rows >= RowGroups.ROWS) {
            // Whole groups of 32 rows as panels (decoded, then transposed); the last rows, if any, in row tiles.
            float[] sixes = interleaveSixes(x, tokens, cols);
            int panels = rows / RowGroups.ROWS;
            Parallel.get().forRange(panels, 1, (start, end) -> {
                float[] tile = scratch(2 * RowGroups.ROWS * cols);
                for (int p = start; p < end; p++) {
                    int r0 = p * RowGroups.ROWS;
                    for (int i = 0; i < RowGroups.ROWS; i++) {
                        w.decodeRow(r0 + i, tile, RowGroups.ROWS * cols + i * cols);
                    }
                    transposeToPanel(tile, RowGroups.ROWS * cols, cols, tile);
                    multiplyPanel(tile, cols, x, sixes, tokens, out, rows, r0);
                }
            });
            multiplyRows(w, panels * RowGroups.ROWS, rows, x, tokens, out);
        } else {
            multiplyRows(w, 0, rows, x, tokens, out);
        }
    }

    /** Rows {@code [from, to)} of {@code w} against every token, in tiles of rows decoded to F32. */
    private static void multiplyRows(Tensor w, int from, int to, float[] x, int tokens, float[] out) {
        int cols = w.cols();
        int tr = tileRows(cols);
        int tiles = (to - from + tr - 1) / tr;
        Parallel.get().forRange(tiles, 1, (startTile, endTile) -> {
            float[] tile = scratch(tr * cols);
            for (int ti = startTile; ti < endTile; ti++) {
                int r0 = from + ti * tr;
                int nr = Math.min(tr, to - r0);
                for (int i = 0; i < nr; i++) {
                    w.decodeRow(r0 + i, tile, i * cols);
                }
                multiplyTile(tile, nr, cols, x, tokens, out, w.rows(), r0);
            }
        });
    }

    /** 32 rows of {@code cols} at {@code rows[from..]} into {@code panel[c * 32 + i]}, sixteen columns at a time. */
    static void transposeToPanel(float[] rows, int from, int cols, float[] panel) {
        for (int c0 = 0; c0 < cols; c0 += 16) {
            int c1 = Math.min(cols, c0 + 16);
            for (int i = 0; i < RowGroups.ROWS; i++) {
                for (int c = c0; c < c1; c++) {
                    panel[c * RowGroups.ROWS + i] = rows[from + i * cols + c];
                }
            }
        }
    }

    private static float[] scratch(int floats) {
        float[] s = SCRATCH.get();
        if (s.length < floats) {
            s = new float[floats];
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * {@code out[t * outStride + r0 + i] = tile[i] · x[t]} for the {@code nr} decoded rows of
     * {@code tile} and every token: tokens in groups of {@link #NR}, rows in groups of {@link #MR}.
     */
    static void multiplyTile(float[] tile, int nr, int cols, float[] x, int tokens, float[] out, int outStride, int r0) {
        int t = 0;
        for (; t + NR <= tokens; t += NR) {
            int i = 0;
            for (; i + MR <= nr; i += MR) {
                kernel4x4(tile, i * cols, x, t * cols, cols, out, t * outStride + r0 + i, outStride);
            }
            for (; i < nr; i++) {
                for (int k = 0; k < NR; k++) {
                    out[(t + k) * outStride + r0 + i] = dot(tile, i * cols, x, (t + k) * cols, cols);
                }
            }
        }
        for (; t < tokens; t++) {
            int i = 0;
            for (; i + MR <= nr; i += MR) {
                dot4(tile, i * cols, cols, x, t * cols, out, t * outStride + r0 + i);
            }
            for (; i < nr; i++) {
                out[t * outStride + r0 + i] = dot(tile, i * cols, x, t * cols, cols);
            }
        }
    }

    /** Four rows at {@code w} (stride {@code n}) against four tokens at {@code x} (stride {@code n}). */
    private static void kernel4x4(float[] w, int wo, float[] x, int xo, int n, float[] out, int oo, int os) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
        int i = 0;
        int step = S.length();
        for (int upper = S.loopBound(n); i < upper; i += step) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + i);
            FloatVector x1 = FloatVector.fromArray(S, x, xo + n + i);
            FloatVector x2 = FloatVector.fromArray(S, x, xo + 2 * n + i);
            FloatVector x3 = FloatVector.fromArray(S, x, xo + 3 * n + i);
            FloatVector w0 = FloatVector.fromArray(S, w, wo + i);
            c00 = w0.fma(x0, c00);
            c01 = w0.fma(x1, c01);
            c02 = w0.fma(x2, c02);
            c03 = w0.fma(x3, c03);
            FloatVector w1 = FloatVector.fromArray(S, w, wo + n + i);
            c10 = w1.fma(x0, c10);
            c11 = w1.fma(x1, c11);
            c12 = w1.fma(x2, c12);
            c13 = w1.fma(x3, c13);
            FloatVector w2 = FloatVector.fromArray(S, w, wo + 2 * n + i);
            c20 = w2.fma(x0, c20);
            c21 = w2.fma(x1, c21);
            c22 = w2.fma(x2, c22);
            c23 = w2.fma(x3, c23);
            FloatVector w3 = FloatVector.fromArray(S, w, wo + 3 * n + i);
            c30 = w3.fma(x0, c30);
            c31 = w3.fma(x1, c31);
            c32 = w3.fma(x2, c32);
            c33 = w3.fma(x3, c33);
        }
        float[] tmp = new float[S.length()];
        float[] s = {
                sumLanes(c00, tmp), sumLanes(c01, tmp),
                sumLanes(c02, tmp), sumLanes(c03, tmp),
                sumLanes(c10, tmp), sumLanes(c11, tmp),
                sumLanes(c12, tmp), sumLanes(c13, tmp),
                sumLanes(c20, tmp), sumLanes(c21, tmp),
                sumLanes(c22, tmp), sumLanes(c23, tmp),
                sumLanes(c30, tmp), sumLanes(c31, tmp),
                sumLanes(c32, tmp), sumLanes(c33, tmp)};
        for (; i < n; i++) {
            for (int r = 0; r < 4; r++) {
                float wv = w[wo + r * n + i];
                for (int t = 0; t < 4; t++) {
                    s[r * 4 + t] += wv * x[xo + t * n + i];
                }
            }
        }
        for (int r = 0; r < 4; r++) {
            for (int t = 0; t < 4; t++) {
                out[oo + t * os + r] = s[r * 4 + t];
            }
        }
    }

    /**
     * The first {@code tokens / 6 * 6} tokens of {@code x} in blocks of six, each block column by
     * column: block b's column c holds its six tokens' activations at {@code [b * 6 * cols + 6 * c ..]},
     * so that the panel kernel broadcasts them from one base address.
     */
    static float[] interleaveSixes(float[] x, int tokens, int cols) {
        int blocks = tokens / 6;
        float[] sixes = SIXES.get();
        if (sixes.length < blocks * 6 * cols) {
            sixes = new float[blocks * 6 * cols];
            SIXES.set(sixes);
        }
        for (int b = 0; b < blocks; b++) {
            for (int t = 0; t < 6; t++) {
                int from = (6 * b + t) * cols;
                int to = b * 6 * cols + t;
                for (int c = 0; c < cols; c++) {
                    sixes[to + 6 * c] = x[from + c];
                }
            }
        }
        return sixes;
    }

    /**
     * {@code out[t * outStride + r0 + i] = row i · x[t]} for a panel of 32 decoded rows stored column
     * by column ({@code panel[c * 32 + i]}) and every token: tokens six at a time from
     * {@link #interleaveSixes}, each column's 32 weights two vectors that meet six broadcast
     * activations; the last tokens one at a time from {@code x}. Each accumulator holds its outputs'
     * lanes, so no horizontal sums.
     */
    static void multiplyPanel(float[] panel, int cols, float[] x, float[] sixes, int tokens, float[] out, int outStride, int r0) {
        int t = 0;
        for (; t + 6 <= tokens; t += 6) {
            panel6(panel, cols, sixes, t * cols, out, t * outStride + r0, outStride);
        }
        for (; t < tokens; t++) {
            FloatVector a = FloatVector.zero(F16X);
            FloatVector b = FloatVector.zero(F16X);
            for (int c = 0, xo = t * cols; c < cols; c++) {
                FloatVector xv = FloatVector.broadcast(F16X, x[xo + c]);
                a = FloatVector.fromArray(F16X, panel, 32 * c).fma(xv, a);
                b = FloatVector.fromArray(F16X, panel, 32 * c + 16).fma(xv, b);
            }
            a.intoArray(out, t * outStride + r0);
            b.intoArray(out, t * outStride + r0 + 16);
        }
    }

    /** Six interleaved tokens at {@code sixes[so..]} against a 32-row panel, see {@link #multiplyPanel}. */
    private static void panel6(float[] panel, int cols, float[] sixes, int so, float[] out, int oo, int os) {
        FloatVector a0 = FloatVector.zero(F16X), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0;
        for (int c = 0; c < cols; c++) {
            FloatVector w0 = FloatVector.fromArray(F16X, panel, 32 * c);
            FloatVector w1 = FloatVector.fromArray(F16X, panel, 32 * c + 16);
            int xc = so + 6 * c;
            FloatVector x0 = FloatVector.broadcast(F16X, sixes[xc]);
            a0 = w0.fma(x0, a0);
            b0 = w1.fma(x0, b0);
            FloatVector x1 = FloatVector.broadcast(F16X, sixes[xc + 1]);
            a1 = w0.fma(x1, a1);
            b1 = w1.fma(x1, b1);
            FloatVector x2 = FloatVector.broadcast(F16X, sixes[xc + 2]);
            a2 = w0.fma(x2, a2);
            b2 = w1.fma(x2, b2);
            FloatVector x3 = FloatVector.broadcast(F16X, sixes[xc + 3]);
            a3 = w0.fma(x3, a3);
            b3 = w1.fma(x3, b3);
            FloatVector x4 = FloatVector.broadcast(F16X, sixes[xc + 4]);
            a4 = w0.fma(x4, a4);
            b4 = w1.fma(x4, b4);
            FloatVector x5 = FloatVector.broadcast(F16X, sixes[xc + 5]);
            a5 = w0.fma(x5, a5);
            b5 = w1.fma(x5, b5);
        }
        a0.intoArray(out, oo);
        b0.intoArray(out, oo + 16);
        a1.intoArray(out, oo + os);
        b1.intoArray(out, oo + os + 16);
        a2.intoArray(out, oo + 2 * os);
        b2.intoArray(out, oo + 2 * os + 16);
        a3.intoArray(out, oo + 3 * os);
        b3.intoArray(out, oo + 3 * os + 16);
        a4.intoArray(out, oo + 4 * os);
        b4.intoArray(out, oo + 4 * os + 16);
        a5.intoArray(out, oo + 5 * os);
        b5.intoArray(out, oo + 5 * os + 16);
    }

    /** Dot product of two float arrays, vectorised. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = sumLanes(acc, new float[S.length()]);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** Four rows of {@code tile} against one activation vector: each activation load feeds four FMAs. */
    private static void dot4(float[] tile, int to, int cols, float[] x, int xo, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(cols); i < upper; i += S.length()) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            a0 = FloatVector.fromArray(S, tile, to + i).fma(xv, a0);
            a1 = FloatVector.fromArray(S, tile, to + cols + i).fma(xv, a1);
            a2 = FloatVector.fromArray(S, tile, to + 2 * cols + i).fma(xv, a2);
            a3 = FloatVector.fromArray(S, tile, to + 3 * cols + i).fma(xv, a3);
        }
        float[] tmp = new float[S.length()];
        float s0 = sumLanes(a0, tmp);
        float s1 = sumLanes(a1, tmp);
        float s2 = sumLanes(a2, tmp);
        float s3 = sumLanes(a3, tmp);
        for (; i < cols; i++) {
            float xi = x[xo + i];
            s0 += tile[to + i] * xi;
            s1 += tile[to + cols + i] * xi;
            s2 += tile[to + 2 * cols + i] * xi;
            s3 += tile[to + 3 * cols + i] * xi;
        }
        out[outOff] = s0;
        out[outOff + 1] = s1;
        out[outOff + 2] = s2;
        out[outOff + 3] = s3;
    }

    /**
     * The specification of {@link #matmul} (and, with one token, {@link #matvec}): each row decoded by
     * the format's scalar decoder and dotted with each token in double precision. For tests.
     */
    public static void matmulScalar(Tensor w, float[] x, int tokens, float[] out) {
        int rows = w.rows();
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.format().decodeScalar(w.data(), r * w.rowBytes(), row, 0, cols);
            for (int t = 0; t < tokens; t++) {
                double s = 0;
                for (int i = 0; i < cols; i++) {
                    s += (double) row[i] * x[t * cols + i];
                }
                out[t * rows + r] = (float) s;
            }
        }
    }
}
