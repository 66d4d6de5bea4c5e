package dev.jquant.quantize.gptq;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPTQ's lazy batch update, {@code W[:, i2:] -= E · U[i1:i2, i2:]}: the errors of one block of
 * columns, carried to every later column as one matrix product instead of one row update per
 * column. Registers hold a 4-row x 3-vector tile of W while the block's errors run, so each load
 * of U feeds four rows; columns go in strips whose slice of U stays in L1 across the tile's rows.
 * Every element gets its terms in the same order as a column-at-a-time update would give it.
 */
final class LazyUpdate {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int STRIP = 3 * L;

    private LazyUpdate() {
    }

    /**
     * For rows r in [r0, r1): {@code x_r[j] += Σ_k negErr[r·stride + k] · u[(i1+k)·cols + j]} for
     * j in [i2, cols), k in [0, i2 − i1), k ascending.
     */
    static void apply(float[][] work, int r0, int r1, float[] negErr, int stride, float[] u, int cols, int i1, int i2) {
        int kb = i2 - i1;
        int j = i2;
        for (; j + STRIP <= cols; j += STRIP) {
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                strip4(work[r], work[r + 1], work[r + 2], work[r + 3], negErr, r * stride, stride, u, i1 * cols + j,
                        cols, j, kb);
            }
            for (; r < r1; r++) {
                for (int v = 0; v < STRIP; v += L) {
                    vector1(work[r], negErr, r * stride, u, i1 * cols + j + v, cols, j + v, kb);
                }
            }
        }
        for (; j + L <= cols; j += L) {
            for (int r = r0; r < r1; r++) {
                vector1(work[r], negErr, r * stride, u, i1 * cols + j, cols, j, kb);
            }
        }
        for (; j < cols; j++) {
            for (int r = r0; r < r1; r++) {
                float[] x = work[r];
                float s = x[j];
                int e = r * stride;
                for (int k = 0; k < kb; k++) {
                    s += negErr[e + k] * u[(i1 + k) * cols + j]; // unfused: the same result as one row update per column
                }
                x[j] = s;
            }
        }
    }

    private static void strip4(float[] x0, float[] x1, float[] x2, float[] x3, float[] ne, int e0, int stride,
                               float[] u, int uo, int cols, int j, int kb) {
        FloatVector s00 = FloatVector.fromArray(S, x0, j), s01 = FloatVector.fromArray(S, x0, j + L),
                s02 = FloatVector.fromArray(S, x0, j + 2 * L);
        FloatVector s10 = FloatVector.fromArray(S, x1, j), s11 = FloatVector.fromArray(S, x1, j + L),
                s12 = FloatVector.fromArray(S, x1, j + 2 * L);
        FloatVector s20 = FloatVector.fromArray(S, x2, j), s21 = FloatVector.fromArray(S, x2, j + L),
                s22 = FloatVector.fromArray(S, x2, j + 2 * L);
        FloatVector s30 = FloatVector.fromArray(S, x3, j), s31 = FloatVector.fromArray(S, x3, j + L),
                s32 = FloatVector.fromArray(S, x3, j + 2 * L);
        int e1 = e0 + stride;
        int e2 = e1 + stride;
        int e3 = e2 + stride;
        for (int k = 0; k < kb; k++) {
            int at = uo + k * cols;
            FloatVector u0 = FloatVector.fromArray(S, u, at);
            FloatVector u1 = FloatVector.fromArray(S, u, at + L);
            FloatVector u2 = FloatVector.fromArray(S, u, at + 2 * L);
            FloatVector a = FloatVector.broadcast(S, ne[e0 + k]);
            s00 = u0.fma(a, s00);
            s01 = u1.fma(a, s01);
            s02 = u2.fma(a, s02);
            a = FloatVector.broadcast(S, ne[e1 + k]);
            s10 = u0.fma(a, s10);
            s11 = u1.fma(a, s11);
            s12 = u2.fma(a, s12);
            a = FloatVector.broadcast(S, ne[e2 + k]);
            s20 = u0.fma(a, s20);
            s21 = u1.fma(a, s21);
            s22 = u2.fma(a, s22);
            a = FloatVector.broadcast(S, ne[e3 + k]);
            s30 = u0.fma(a, s30);
            s31 = u1.fma(a, s31);
            s32 = u2.fma(a, s32);
        }
        s00.intoArray(x0, j);
        s01.intoArray(x0, j + L);
        s02.intoArray(x0, j + 2 * L);
        s10.intoArray(x1, j);
        s11.intoArray(x1, j + L);
        s12.intoArray(x1, j + 2 * L);
        s20.intoArray(x2, j);
        s21.intoArray(x2, j + L);
        s22.intoArray(x2, j + 2 * L);
        s30.intoArray(x3, j);
        s31.intoArray(x3, j + L);
        s32.intoArray(x3, j + 2 * L);
    }

    private static void vector1(float[] x, float[] ne, int e, float[] u, int uo, int cols, int j, int kb) {
        FloatVector s = FloatVector.fromArray(S, x, j);
        for (int k = 0; k < kb; k++) {
            s = FloatVector.fromArray(S, u, uo + k * cols).fma(FloatVector.broadcast(S, ne[e + k]), s);
        }
        s.intoArray(x, j);
    }
}
