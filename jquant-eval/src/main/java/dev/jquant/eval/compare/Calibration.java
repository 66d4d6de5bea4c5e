package dev.jquant.eval.compare;

import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.calibrate.CalibrationSet;

import java.nio.file.Path;

/**
 * The calibration text methods may learn from (GPTQ, AWQ, SmoothQuant): its file and its tokens
 * (with BOS, as the model sees it). Round-to-nearest ignores it.
 */
public record Calibration(Path file, int[] tokens) {

    /** {@code samples} windows of up to {@code length} tokens (capped at the model's context), seed 1. */
    public CalibrationSet windows(Checkpoint model, int samples, int length) {
        int bos = model.tokenizer() != null ? model.tokenizer().bos() : -1;
        return CalibrationSet.sample(tokens, 0, tokens.length, samples, Math.min(length, model.config().contextLength()),
                1, bos, file.toString());
    }
}
