package dev.jquant.quantize.gptq;

import dev.jquant.kernel.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The dense linear algebra GPTQ needs, on row-major double matrices split over the shared pool. */
final class Cholesky {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    private Cholesky() {
    }

    /**
     * The upper-triangular {@code U} with {@code H⁻¹ = UᵀU} and a positive diagonal (what GPTQ gets
     * from {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}), as floats; null when H is
     * not positive definite. Computed with one factorisation and one triangular inverse: if
     * {@code JHJ = LLᵀ} (J reverses the order), then {@code U = J L⁻¹ J}.
     */
    static float[] upperOfInverse(double[] h, int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        if (!factorInPlace(a, n)) {
            return null;
        }
        double[] xt = invertLowerTransposed(a, n);
        float[] u = new float[n * n];
        Parallel.get().forRange(n, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                for (int c = r; c < n; c++) {
                    u[r * n + c] = (float) xt[(n - 1 - c) * n + (n - 1 - r)];
                }
            }
        });
        return u;
    }

    /** Lower Cholesky factor of the lower triangle of {@code a}, in place; false if not positive definite. */
    static boolean factorInPlace(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            double s = a[j * n + j] - dot(a, j * n, a, j * n, j);
            if (!(s > 0)) {
                return false;
            }
            double d = Math.sqrt(s);
            a[j * n + j] = d;
            int col = j;
            Parallel.get().forRange(n - j - 1, Math.max(1, 4096 / Math.max(1, j)), (start, end) -> {
                for (int i = col + 1 + start; i < col + 1 + end; i++) {
                    a[i * n + col] = (a[i * n + col] - dot(a, i * n, a, col * n, col)) / d;
                }
            });
        }
        return true;
    }

    /** {@code (L⁻¹)ᵀ} for lower-triangular {@code L}: row j holds column j of the inverse (entries j..n-1). */
    static double[] invertLowerTransposed(double[] l, int n) {
        double[] xt = new double[n * n];
        // columns near 0 cost ~n² and near n almost nothing: pair them up so contiguous chunks balance
        Parallel.get().forRange(n, 1, (start, end) -> {
            for (int k = start; k < end; k++) {
                int j = k % 2 == 0 ? k / 2 : n - 1 - k / 2;
                int row = j * n;
                xt[row + j] = 1 / l[j * n + j];
                for (int i = j + 1; i < n; i++) {
                    xt[row + i] = -dot(l, i * n + j, xt, row + j, i - j) / l[i * n + i];
                }
            }
        });
        return xt;
    }

    static double dot(double[] a, int ao, double[] b, int bo, int len) {
        DoubleVector acc = DoubleVector.zero(S);
        int k = 0;
        for (int upper = S.loopBound(len); k < upper; k += S.length()) {
            acc = DoubleVector.fromArray(S, a, ao + k).fma(DoubleVector.fromArray(S, b, bo + k), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < len; k++) {
            s += a[ao + k] * b[bo + k];
        }
        return s;
    }
}
