package dev.jquant.eval.compare;

import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;

import java.nio.file.Path;

/**
 * One configuration {@code jquant compare} measures: a quantization method at one setting. New
 * methods plug in by implementing this and registering in {@link CandidateCatalog}.
 */
public interface Candidate {
    /** Unique, file-name safe label, e.g. {@code rtn-q4_k}. */
    String name();

    /** The method's name as {@code --methods} spells it, e.g. {@code rtn}. */
    String method();

    /** The setting in words, e.g. {@code Q4_K} or {@code 4-bit g128}. */
    String setting();

    /** Writes the quantized model to {@code out} (atomically) and says what it did per tensor. */
    QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path out, GgufQuantizer.Listener listener);
}
