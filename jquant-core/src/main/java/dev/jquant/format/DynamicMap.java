package dev.jquant.format;

/**
 * bitsandbytes' signed 8-bit dynamic map ({@code create_dynamic_map(signed=True, max_exponent_bits=7,
 * total_bits=8)}), the code book its double quantization stores block absmaxes in: for each decade
 * {@code 10^(i-6)}, i = 0..6, the midpoints of {@code 2^i} equal steps of [0.1, 1], both signs,
 * plus 0 and 1; sorted, 256 values in [-1, 1]. Computed in float as torch does.
 */
final class DynamicMap {
    static final float[] VALUES = build();
    /** Index of 0 in {@link #VALUES}: 127 negative values come before it. */
    static final int ZERO_CODE = 127;

    private DynamicMap() {
    }

    private static float[] build() {
        float[] v = new float[256];
        int k = 0;
        for (int i = 0; i < 7; i++) {
            int steps = (1 << i) + 1;
            float[] bounds = linspace(0.1f, 1f, steps);
            float decade = (float) Math.pow(10, i - 6);
            for (int j = 0; j + 1 < steps; j++) {
                float mean = (bounds[j] + bounds[j + 1]) / 2.0f;
                v[k++] = decade * mean;
                v[k++] = -decade * mean;
            }
        }
        v[k++] = 0;
        v[k] = 1;
        java.util.Arrays.sort(v);
        return v;
    }

    /** torch.linspace in float: from the start for the first half, from the end for the second. */
    private static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }

    /** Index of the value nearest to {@code v} (v in [-1, 1]; ties to the lower). */
    static int nearest(float v) {
        int lo = 0;
        int hi = 255;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (v < VALUES[mid]) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return v - VALUES[lo] <= VALUES[hi] - v ? lo : hi;
    }
}
