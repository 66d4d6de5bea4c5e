package dev.jquant.quantize.gptq;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dense linear algebra GPTQ needs, on row-major double matrices, in blocked form so that almost
 * all the n³/3 multiply-adds run in a register-tiled kernel ({@link #subtractProduct}) on data that
 * stays in cache, split over the shared pool. Double precision throughout: the dampened Hessians of
 * a few hundred calibration tokens are badly conditioned, and float loses the factorisation.
 * Results do not depend on the number of threads.
 */
final class Cholesky {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Panel width of the blocked factorisation and inverse. */
    static final int NB = 96;

    private Cholesky() {
    }

    /**
     * The upper-triangular {@code U} with {@code H⁻¹ = UᵀU} and a positive diagonal (what GPTQ gets
     * from {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}), as floats; null when H is
     * not positive definite. Computed with one factorisation and one triangular inverse, both in
     * place in {@code h}: if {@code JHJ = LLᵀ} (J reverses the order), then {@code U = J L⁻¹ J}, and
     * JHJ of a row-major matrix is its array reversed. {@code h} (symmetric) is destroyed on success
     * and left as it was when the result is null (the factorisation reads and writes only the lower
     * triangle, so the upper one restores it).
     */
    static float[] upperOfInverse(double[] h, int n) {
        if (h.length != (long) n * n) {
            throw new IllegalArgumentException(h.length + " values for a " + n + "² matrix");
        }
        reverse(h);
        double[] diagonal = new double[n];
        for (int i = 0; i < n; i++) {
            diagonal[i] = h[i * n + i];
        }
        if (!factorInPlace(h, n)) {
            // the strict upper triangle is untouched: mirror it back, then undo the reversal
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < i; j++) {
                    h[i * n + j] = h[j * n + i];
                }
                h[i * n + i] = diagonal[i];
            }
            reverse(h);
            return null;
        }
        invertLowerInPlace(h, n);
        float[] u = new float[n * n];
        long last = (long) n * n - 1;
        Parallel.get().forRange(n, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                for (int c = r; c < n; c++) {
                    u[r * n + c] = (float) h[(int) (last - (r * n + c))];
                }
            }
        });
        return u;
    }

    private static void reverse(double[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * Lower Cholesky factor of the lower triangle of {@code a} (n x n), in place, right-looking by
     * panels of {@link #NB} columns; false if not positive definite. The strict upper triangle is
     * not read or written.
     */
    static boolean factorInPlace(double[] a, int n) {
        double[] panelT = new double[NB * n];
        for (int panel = 0; panel < n; panel += NB) {
            int k0 = panel;
            int k1 = Math.min(n, k0 + NB);
            int nb = k1 - k0;
            if (!factorDiagonalBlock(a, n, k0, k1)) {
                return false;
            }
            // the panel below: each row solves x L11ᵀ = a_row (forward substitution)
            int below = n - k1;
            Parallel.get().forRange(below, 32, (start, end) -> {
                for (int i = k1 + start; i < k1 + end; i++) {
                    int ri = i * n;
                    for (int j = k0; j < k1; j++) {
                        a[ri + j] = (a[ri + j] - dot(a, ri + k0, a, j * n + k0, j - k0)) / a[j * n + j];
                    }
                }
            });
            if (below == 0) {
                break;
            }
            // trailing update A22 -= P Pᵀ (lower triangle), P = panel rows k1..n; Pᵀ copied contiguous
            for (int i = 0; i < below; i++) {
                for (int k = 0; k < nb; k++) {
                    panelT[k * below + i] = a[(k1 + i) * n + k0 + k];
                }
            }
            int tiles = Math.ceilDiv(below, TASK_ROWS);
            Parallel.get().forRange(tiles, 1, (start, end) -> {
                for (int t = start; t < end; t++) {
                    int tile = balanced(t, tiles);
                    int r0 = tile * TASK_ROWS;
                    int r1 = Math.min(below, r0 + TASK_ROWS);
                    // columns left of the tile's diagonal square, then that square's lower triangle: 4-row
                    // strips left of their own 4 x 4 diagonal, and those diagonals element by element
                    subtractProduct(a, (k1 + r0) * n + k0, n, panelT, 0, below, a, (k1 + r0) * n + k1, n,
                            r1 - r0, r0, nb);
                    for (int q0 = r0; q0 < r1; q0 += ROWS) {
                        int q1 = Math.min(r1, q0 + ROWS);
                        subtractProduct(a, (k1 + q0) * n + k0, n, panelT, r0, below, a, (k1 + q0) * n + k1 + r0, n,
                                q1 - q0, q0 - r0, nb);
                    }
                    for (int r = r0; r < r1; r++) {
                        int row = (k1 + r) * n;
                        for (int c = r - r % ROWS; c <= r; c++) {
                            double s = 0;
                            for (int p = 0; p < nb; p++) {
                                s = Math.fma(a[row + k0 + p], panelT[p * below + c], s);
                            }
                            a[row + k1 + c] -= s;
                        }
                    }
                }
            });
        }
        return true;
    }

    /** Unblocked Cholesky of the diagonal block [k0, k1)², whose rows already have the earlier panels subtracted. */
    private static boolean factorDiagonalBlock(double[] a, int n, int k0, int k1) {
        for (int j = k0; j < k1; j++) {
            int rj = j * n;
            double s = a[rj + j] - dot(a, rj + k0, a, rj + k0, j - k0);
            if (!(s > 0)) {
                return false;
            }
            double d = Math.sqrt(s);
            a[rj + j] = d;
            for (int i = j + 1; i < k1; i++) {
                a[i * n + j] = (a[i * n + j] - dot(a, i * n + k0, a, rj + k0, j - k0)) / d;
            }
        }
        return true;
    }

    /**
     * Replaces lower-triangular {@code L} (the lower triangle of {@code a}) by {@code L⁻¹}, by block
     * rows: with the rows above already inverted, block row I of the inverse is
     * {@code L_II⁻¹ ([0 | I] − L_I,<I · X_<I)}, which overwrites only block row I of L.
     */
    static void invertLowerInPlace(double[] a, int n) {
        // the kernel reads whole tiles of the inverse, so what lies above the diagonal must be zero
        Parallel.get().forRange(n, 64, (start, end) -> {
            for (int i = start; i < end; i++) {
                java.util.Arrays.fill(a, i * n + i + 1, (i + 1) * n, 0);
            }
        });
        double[] rowBlock = new double[NB * n];
        for (int panel = 0; panel < n; panel += NB) {
            int k0 = panel;
            int k1 = Math.min(n, k0 + NB);
            int nb = k1 - k0;
            int width = k1; // block row I spans columns 0..k1
            java.util.Arrays.fill(rowBlock, 0, nb * width, 0);
            for (int i = 0; i < nb; i++) {
                rowBlock[i * width + k0 + i] = 1;
            }
            if (k0 > 0) {
                // rowBlock[:, 0..k0) = -L[I, 0..k0) · X[0..k0, 0..k0), X lower: column tile j needs rows k >= j only
                int tiles = Math.ceilDiv(k0, COLS);
                Parallel.get().forRange(tiles, 1, (start, end) -> {
                    for (int t = start; t < end; t++) {
                        int c0 = (tiles - 1 - balanced(t, tiles)) * COLS;
                        int c1 = Math.min(k0, c0 + COLS);
                        subtractProduct(a, k0 * n + c0, n, a, c0 * n + c0, n, rowBlock, c0, width, nb, c1 - c0, k0 - c0);
                    }
                });
            }
            // forward substitution with L_II, row by row (vectorised along the row)
            for (int i = 0; i < nb; i++) {
                int ri = i * width;
                int li = (k0 + i) * n + k0;
                for (int m = 0; m < i; m++) {
                    axpy(-a[li + m], rowBlock, m * width, rowBlock, ri, k0 + m + 1);
                }
                double inv = 1 / a[li + i];
                for (int c = 0; c < k0 + i + 1; c++) {
                    rowBlock[ri + c] *= inv;
                }
            }
            for (int i = 0; i < nb; i++) {
                System.arraycopy(rowBlock, i * width, a, (k0 + i) * n, k0 + i + 1);
            }
        }
    }

    /** Rows of one register tile of {@link #subtractProduct}. */
    private static final int ROWS = 4;
    /** Columns of one register tile: three vectors. */
    private static final int COLS = 3 * L;
    /** Depth of the chunks of the inner dimension that {@link #subtractProduct} keeps in L1. */
    private static final int KC = 128;
    /** Rows of the trailing matrix per parallel task of the factorisation. */
    private static final int TASK_ROWS = 32;

    /**
     * {@code C[m x w] -= A[m x k] · B[k x w]}, all row-major with the given offsets and leading
     * dimensions. Registers hold a 4 x 3-vector tile of C while k runs: per k, three loads of B and
     * four broadcasts of A feed twelve fused multiply-adds.
     */
    static void subtractProduct(double[] A, int ao, int lda, double[] B, int bo, int ldb, double[] C, int co, int ldc,
                                int m, int w, int k) {
        // strips of columns, then chunks of k, then rows: the B chunk (KC x COLS) stays in L1 across the rows
        for (int c = 0; c < w; c += COLS) {
            int width = Math.min(COLS, w - c);
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                int b = bo + p0 * ldb + c;
                for (int r0 = 0; r0 < m; r0 += ROWS) {
                    int rows = Math.min(ROWS, m - r0);
                    int a = ao + r0 * lda + p0;
                    if (rows == ROWS && width == COLS) {
                        tile4x3(A, a, lda, B, b, ldb, C, co + r0 * ldc + c, ldc, kc);
                        continue;
                    }
                    for (int r = 0; r < rows; r++) {
                        for (int v = 0; v < width; v += L) {
                            subtractRow(A, a + r * lda, B, b + v, ldb, C, co + (r0 + r) * ldc + c + v,
                                    Math.min(L, width - v), kc);
                        }
                    }
                }
            }
        }
    }

    private static void tile4x3(double[] A, int ao, int lda, double[] B, int bo, int ldb, double[] C, int co, int ldc,
                                int k) {
        int c1 = co + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        DoubleVector s00 = DoubleVector.zero(S), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00;
        DoubleVector s20 = s00, s21 = s00, s22 = s00, s30 = s00, s31 = s00, s32 = s00;
        for (int p = 0; p < k; p++) {
            int b = bo + p * ldb;
            DoubleVector b0 = DoubleVector.fromArray(S, B, b);
            DoubleVector b1 = DoubleVector.fromArray(S, B, b + L);
            DoubleVector b2 = DoubleVector.fromArray(S, B, b + 2 * L);
            DoubleVector a0 = DoubleVector.broadcast(S, A[ao + p]);
            s00 = b0.fma(a0, s00);
            s01 = b1.fma(a0, s01);
            s02 = b2.fma(a0, s02);
            DoubleVector a1 = DoubleVector.broadcast(S, A[ao + lda + p]);
            s10 = b0.fma(a1, s10);
            s11 = b1.fma(a1, s11);
            s12 = b2.fma(a1, s12);
            DoubleVector a2 = DoubleVector.broadcast(S, A[ao + 2 * lda + p]);
            s20 = b0.fma(a2, s20);
            s21 = b1.fma(a2, s21);
            s22 = b2.fma(a2, s22);
            DoubleVector a3 = DoubleVector.broadcast(S, A[ao + 3 * lda + p]);
            s30 = b0.fma(a3, s30);
            s31 = b1.fma(a3, s31);
            s32 = b2.fma(a3, s32);
        }
        subtract(C, co, s00, s01, s02);
        subtract(C, c1, s10, s11, s12);
        subtract(C, c2, s20, s21, s22);
        subtract(C, c3, s30, s31, s32);
    }

    private static void subtract(double[] C, int at, DoubleVector s0, DoubleVector s1, DoubleVector s2) {
        DoubleVector.fromArray(S, C, at).sub(s0).intoArray(C, at);
        DoubleVector.fromArray(S, C, at + L).sub(s1).intoArray(C, at + L);
        DoubleVector.fromArray(S, C, at + 2 * L).sub(s2).intoArray(C, at + 2 * L);
    }

    /** One row and up to one vector of columns of {@link #subtractProduct}. */
    private static void subtractRow(double[] A, int ao, double[] B, int bo, int ldb, double[] C, int co, int len, int k) {
        if (len == L) {
            DoubleVector s = DoubleVector.zero(S);
            for (int p = 0; p < k; p++) {
                s = DoubleVector.fromArray(S, B, bo + p * ldb).fma(DoubleVector.broadcast(S, A[ao + p]), s);
            }
            DoubleVector.fromArray(S, C, co).sub(s).intoArray(C, co);
            return;
        }
        for (int c = 0; c < len; c++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                s = Math.fma(A[ao + p], B[bo + p * ldb + c], s);
            }
            C[co + c] -= s;
        }
    }

    /**
     * Chunk t of {@code tiles} when later tiles cost more (a triangle): pairs the first with the
     * last so that contiguous chunks of the pool get about equal work.
     */
    private static int balanced(int t, int tiles) {
        return t % 2 == 0 ? t / 2 : tiles - 1 - t / 2;
    }

    /** y[yo..yo+n) += a * x[xo..xo+n). */
    private static void axpy(double a, double[] x, int xo, double[] y, int yo, int n) {
        DoubleVector av = DoubleVector.broadcast(S, a);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            DoubleVector.fromArray(S, x, xo + i).fma(av, DoubleVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = Math.fma(a, x[xo + i], y[yo + i]);
        }
    }

    static double dot(double[] a, int ao, double[] b, int bo, int len) {
        DoubleVector acc = DoubleVector.zero(S);
        int k = 0;
        for (int upper = S.loopBound(len); k < upper; k += L) {
            acc = DoubleVector.fromArray(S, a, ao + k).fma(DoubleVector.fromArray(S, b, bo + k), acc);
        }
        // lanes summed in a fixed order: reduceLanes(ADD) leaves the order open, and compiled and
        // interpreted code then round differently, so the same input could give different factors
        double s = 0;
        for (int l = 0; l < L; l++) {
            s += acc.lane(l);
        }
        for (; k < len; k++) {
            s += a[ao + k] * b[bo + k];
        }
        return s;
    }
}
