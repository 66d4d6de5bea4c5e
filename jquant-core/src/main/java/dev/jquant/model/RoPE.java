package dev.jquant.model;

/** Rotary position embedding: the per-pair frequencies and the rotation in either pairing. */
final class RoPE {
    private RoPE() {
    }

    /**
     * {@code theta^(-2i/headDim)} for each rotary pair i, computed in float as llama2.c and ggml do,
     * then Llama 3 scaling (config) or per-pair divisors ({@code rope_freqs.weight}) when present.
     */
    static float[] inverseFrequencies(ModelConfig config, float[] freqFactors) {
        int half = config.headDim() / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            double f = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
            if (config.ropeScaling() != null) {
                f = config.ropeScaling().scale(f);
            }
            if (freqFactors != null) {
                f /= freqFactors[i];
            }
            inv[i] = (float) f;
        }
        return inv;
    }

    /** Fills cos/sin for one position. */
    static void angles(float[] invFreq, int position, float[] cos, float[] sin) {
        for (int i = 0; i < invFreq.length; i++) {
            float angle = position * invFreq[i];
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /** Rotates every head of {@code v[off .. off + heads*headDim)} in place. */
    static void rotate(float[] v, int off, int heads, int headDim, RopeStyle style, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = style == RopeStyle.ADJACENT_PAIRS ? base + 2 * i : base + i;
                int b = style == RopeStyle.ADJACENT_PAIRS ? a + 1 : a + half;
                float x0 = v[a];
                float x1 = v[b];
                v[a] = x0 * cos[i] - x1 * sin[i];
                v[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
