package dev.jquant.eval.compare;

import java.nio.file.Path;

/**
 * The calibration text methods may learn from (GPTQ, AWQ, SmoothQuant): its file and its tokens
 * (with BOS, as the model sees it). Round-to-nearest ignores it.
 */
public record Calibration(Path file, int[] tokens) {
}
