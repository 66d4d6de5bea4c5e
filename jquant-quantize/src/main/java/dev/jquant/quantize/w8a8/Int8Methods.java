package dev.jquant.quantize.w8a8;

import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.outlier.OutlierSplit;
import dev.jquant.quantize.smoothquant.SmoothQuant;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The calibrated int8 methods behind {@code jquant quantize --method w8a8|smoothquant|int8-outlier}:
 * calibrate activation ranges on text, rewrite the model's tensors, write a GGUF (jquant types:
 * llama.cpp cannot load it) that every jquant command runs with integer W8A8 kernels.
 */
public final class Int8Methods {
    public static final List<String> NAMES = List.of("w8a8", "smoothquant", "int8-outlier");

    /**
     * @param alpha            SmoothQuant migration strength
     * @param outlierThreshold int8-outlier: calibration |x| above which an input column stays 16-bit
     */
    public record Options(String method, ActivationMode mode, double alpha, float outlierThreshold,
                          Path calibrationText, int samples, int sequenceLength, long seed) {
    }

    private Int8Methods() {
    }

    /** Quantizes {@code source} as {@code options} say and writes it to {@code out} atomically; returns the bytes written. */
    public static long run(Checkpoint source, Options options, Path out) {
        if (!source.sourceFormat().equals("gguf")) {
            throw new JQuantException(source.source() + ": --method " + options.method() + " writes GGUF from GGUF input only");
        }
        List<int[]> calibration = calibration(source.tokenizer(), options);
        ActivationRanges ranges = ActivationRanges.collect(new Transformer(source), calibration);
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> replaced = switch (options.method().toLowerCase(Locale.ROOT)) {
                case "w8a8" -> W8A8.quantize(source, ranges, options.mode(), arena);
                case "smoothquant" -> new SmoothQuant(options.alpha(), options.mode()).quantize(source, ranges, arena);
                case "int8-outlier" -> new OutlierSplit(options.outlierThreshold()).quantize(source, ranges, arena);
                default -> throw new JQuantException("unknown int8 method '" + options.method() + "'");
            };
            write(source, replaced, out);
        }
        try {
            return Files.size(out);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The source's metadata and tensors, each replaced where {@code replaced} has one, plus the new companions. */
    static void write(Checkpoint source, Map<String, Tensor> replaced, Path out) {
        Map<String, Tensor> all = new LinkedHashMap<>(source.tensors());
        all.putAll(replaced);
        try (GgufFile metadata = GgufFile.open(source.source())) {
            GgufWriter writer = new GgufWriter().putAll(metadata);
            writer.putString("general.quantized_by", "jquant");
            all.values().forEach(writer::addTensor);
            writer.write(out);
        }
    }

    /** Seeded windows of {@code sequenceLength} tokens from the calibration text, each starting with BOS. */
    static List<int[]> calibration(Tokenizer tokenizer, Options o) {
        if (tokenizer == null) {
            throw new JQuantException("the model has no tokenizer to read calibration text with; give --tokenizer");
        }
        if (o.calibrationText() == null) {
            throw new JQuantException("--method " + o.method() + " needs calibration text: --calib FILE");
        }
        String text;
        try {
            text = Files.readString(o.calibrationText());
        } catch (IOException e) {
            throw new JQuantException(o.calibrationText() + ": cannot read calibration text: " + e.getMessage());
        }
        int[] tokens = tokenizer.encode(text, true, false);
        if (tokens.length < o.sequenceLength() || o.samples() < 1 || o.sequenceLength() < 2) {
            throw new JQuantException(o.calibrationText() + ": " + tokens.length + " tokens cannot give " + o.samples()
                    + " calibration samples of " + o.sequenceLength());
        }
        Random rnd = new Random(o.seed());
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < o.samples(); i++) {
            int start = rnd.nextInt(tokens.length - o.sequenceLength() + 1);
            int[] s = java.util.Arrays.copyOfRange(tokens, start, start + o.sequenceLength());
            if (tokenizer.bos() >= 0) {
                s[0] = tokenizer.bos();
            }
            out.add(s);
        }
        return out;
    }
}
