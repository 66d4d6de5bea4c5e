package dev.jquant.model;

/**
 * Llama 3.1-style RoPE frequency scaling ("rope_type": "llama3"): long wavelengths are divided by
 * {@code factor}, short ones kept, and the band between is interpolated smoothly.
 */
public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {

    /** The scaled inverse frequency for one rotary pair, as Meta's reference code computes it. */
    public double scale(double invFreq) {
        double wavelen = 2 * Math.PI / invFreq;
        double lowFreqWavelen = originalContextLength / lowFreqFactor;
        double highFreqWavelen = originalContextLength / highFreqFactor;
        if (wavelen < highFreqWavelen) {
            return invFreq;
        }
        if (wavelen > lowFreqWavelen) {
            return invFreq / factor;
        }
        double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * invFreq / factor + smooth * invFreq;
    }
}
