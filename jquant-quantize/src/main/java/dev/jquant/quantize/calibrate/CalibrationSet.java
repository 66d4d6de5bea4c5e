package dev.jquant.quantize.calibrate;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Calibration sequences: {@code n} windows of {@code length} tokens drawn (seeded, so runs repeat)
 * from a token stream, each starting with BOS as perplexity chunks do.
 */
public record CalibrationSet(List<int[]> samples, int sequenceLength) {

    public CalibrationSet {
        samples = List.copyOf(samples);
    }

    /** Tokenizes {@code file} (with BOS) and samples from all of it. */
    public static CalibrationSet fromFile(Path file, Tokenizer tokenizer, int n, int length, long seed) {
        if (file == null) {
            throw new JQuantException("this method needs calibration text: --calib FILE");
        }
        String text = TextFiles.read(file);
        if (tokenizer == null) {
            throw new JQuantException("the model has no tokenizer to read calibration text with; give --tokenizer");
        }
        int[] tokens = tokenizer.encode(text, true, false);
        return sample(tokens, 0, tokens.length, n, length, seed, tokenizer.bos(), file.toString());
    }

    /** {@code n} windows from {@code tokens[from..to)}; the first token of each becomes {@code bos} (when ≥ 0). */
    public static CalibrationSet sample(int[] tokens, int from, int to, int n, int length, long seed, int bos,
                                       String source) {
        if (n < 1 || length < 2) {
            throw new JQuantException("calibration needs at least 1 sample of at least 2 tokens, got " + n + " x " + length);
        }
        if (to - from < length) {
            throw new JQuantException(source + ": " + (to - from) + " tokens, fewer than one calibration sample of " + length);
        }
        Random rnd = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int start = from + rnd.nextInt(to - from - length + 1);
            int[] s = java.util.Arrays.copyOfRange(tokens, start, start + length);
            if (bos >= 0) {
                s[0] = bos;
            }
            out.add(s);
        }
        return new CalibrationSet(out, length);
    }

    public int tokenCount() {
        return samples.size() * sequenceLength;
    }
}
