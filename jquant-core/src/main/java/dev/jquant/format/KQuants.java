package dev.jquant.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * What the k-quants (Q2_K..Q6_K, Q8_K) share: the 256-element super-block, ggml's make_qkx2_quants
 * search for a sub-block's scale and minimum, and the 12-byte packing of eight 6-bit scales and
 * mins that Q4_K and Q5_K use.
 */
final class KQuants {
    /** Elements per super-block (ggml's QK_K). */
    static final int QK_K = 256;
    /** Bytes of the packed 6-bit scales and mins of Q4_K and Q5_K (ggml's K_SCALE_SIZE). */
    static final int SCALE_BYTES = 12;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private KQuants() {
    }

    /**
     * ggml's make_qkx2_quants: levels {@code L[lo..lo+n)} in 0..nmax with {@code x ~ scale * L - min}
     * minimising the weighted error (absolute if {@code useMad}, else squared), searching
     * {@code nstep + 1} candidate scales. Stores {@code min} (non-negative) in {@code mins[mi]}; returns the scale.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo,
                                float[] mins, int mi, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            float xi = x[xo + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; ++i) {
                L[lo + i] = 0;
            }
            mins[mi] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i) {
            int l = GgmlMath.nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1) {
            mins[mi] = -min;
            return scale;
        }
        int[] laux = new int[n];
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; ++i) {
                int l = GgmlMath.nearestInt(iscale * (x[xo + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, L, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[mi] = -min;
        return scale;
    }

    /**
     * ggml's get_scale_min_k4 for all eight sub-blocks at once from the 12 packed bytes at {@code at}:
     * byte j of the result is the 6-bit scale of sub-block j. Bytes 0..3 hold scales 0..3 in their low
     * six bits; scales 4..7 take their low nibble from bytes 8..11 and their top two bits from the
     * spare top bits of bytes 0..3.
     */
    static long scalesK4(MemorySegment s, long at) {
        long lo = s.get(LE_LONG, at);
        long hi = s.get(LE_INT, at + 8) & 0xffffffffL;
        long first = lo & 0x3F3F3F3FL;
        long second = (hi & 0x0F0F0F0FL) | (((lo & 0xC0C0C0C0L) >>> 6) << 4);
        return first | (second << 32);
    }

    /** As {@link #scalesK4} for the mins: bytes 4..7 low six bits, then high nibbles of 8..11 with the top bits of 4..7. */
    static long minsK4(MemorySegment s, long at) {
        long lo = s.get(LE_LONG, at) >>> 32;
        long hi = s.get(LE_INT, at + 8) & 0xffffffffL;
        long first = lo & 0x3F3F3F3FL;
        long second = ((hi >>> 4) & 0x0F0F0F0FL) | (((lo & 0xC0C0C0C0L) >>> 6) << 4);
        return first | (second << 32);
    }

    /** Byte {@code j} of a packed result of {@link #scalesK4} or {@link #minsK4}. */
    static int lane(long packed, int j) {
        return (int) (packed >>> (8 * j)) & 0xff;
    }

    /**
     * The scale-and-min half of ggml's quantize_row_q4_K_ref / q5_K_ref for one super-block at
     * {@code x[xo..xo+256)}: eight 32-element sub-blocks searched with make_qkx2_quants, their scales
     * and mins quantized to 6 bits against the FP16 super-scales {@code d} and {@code dmin}, written at
     * {@code bo} (d), {@code bo+2} (dmin) and {@code bo+4} (12 packed bytes); the final levels
     * (0..nmax) land in {@code L[0..256)}.
     */
    static void quantizeScaleMinBlock(float[] x, int xo, int nmax, float rmin, int nstep, int[] L,
                                      MemorySegment dst, long bo) {
        float[] scales = new float[QK_K / 32];
        float[] mins = new float[QK_K / 32];
        float[] weights = new float[32];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 32; ++j) {
            int sx = xo + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) {
                sumX2 += x[sx + l] * x[sx + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) {
                weights[l] = avX + Math.abs(x[sx + l]);
            }
            scales[j] = makeQkx2Quants(32, nmax, x, sx, weights, L, 32 * j, mins, j, rmin, 0.1f, nstep, false);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int[] packed = new int[SCALE_BYTES];
        for (int j = 0; j < QK_K / 32; ++j) {
            // ggml stores nearest_int into a uint8_t before clamping: keep the wrap-around
            int ls = Math.min(63, GgmlMath.nearestInt(invScale * scales[j]) & 0xff);
            int lm = Math.min(63, GgmlMath.nearestInt(invMin * mins[j]) & 0xff);
            if (j < 4) {
                packed[j] = ls;
                packed[j + 4] = lm;
            } else {
                packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
                packed[j - 4] |= (ls >> 4) << 6;
                packed[j] |= (lm >> 4) << 6;
            }
        }
        float d = GgmlMath.putHalf(dst, bo, maxScale / 63.f);
        float dmin = GgmlMath.putHalf(dst, bo + 2, maxMin / 63.f);
        for (int i = 0; i < SCALE_BYTES; i++) {
            GgmlMath.putByte(dst, bo + 4 + i, packed[i]);
        }
        long sc = scalesK4(dst, bo + 4);
        long mn = minsK4(dst, bo + 4);
        for (int j = 0; j < QK_K / 32; ++j) {
            float dl = d * lane(sc, j);
            if (dl == 0) {
                continue;
            }
            float dm = dmin * lane(mn, j);
            for (int ii = 0; ii < 32; ++ii) {
                int l = GgmlMath.nearestInt((x[xo + 32 * j + ii] + dm) / dl);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }
}
