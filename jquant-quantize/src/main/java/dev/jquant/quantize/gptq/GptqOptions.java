package dev.jquant.quantize.gptq;

import dev.jquant.JQuantException;

/**
 * GPTQ's knobs, defaults as in the paper's reference code.
 *
 * @param damp         added to the Hessian's diagonal, as a fraction of its mean (0.01)
 * @param blockSize    columns per lazy batch update (128)
 * @param actOrder     process columns by decreasing Hessian diagonal ("desc_act"); implies static groups
 * @param staticGroups fix every group's scales from the original weights before any update
 */
public record GptqOptions(double damp, int blockSize, boolean actOrder, boolean staticGroups) {

    public static final GptqOptions DEFAULTS = new GptqOptions(0.01, 128, false, false);

    public GptqOptions {
        if (!(damp > 0 && damp < 10)) {
            throw new JQuantException("GPTQ dampening must be in (0, 10), got " + damp);
        }
        if (blockSize < 1) {
            throw new JQuantException("GPTQ block size must be positive, got " + blockSize);
        }
    }
}
