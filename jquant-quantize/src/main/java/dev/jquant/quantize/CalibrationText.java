package dev.jquant.quantize;

import dev.jquant.JQuantException;
import dev.jquant.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Calibration sequences: seeded random windows of a text's tokens, each starting with BOS. */
public final class CalibrationText {
    private CalibrationText() {
    }

    public static List<int[]> windows(Path file, Tokenizer tokenizer, int samples, int length, long seed) {
        if (tokenizer == null) {
            throw new JQuantException("the model has no tokenizer to read calibration text with; give --tokenizer");
        }
        if (file == null) {
            throw new JQuantException("this method needs calibration text: --calib FILE");
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read calibration text: " + e.getMessage());
        }
        int[] tokens = tokenizer.encode(text, true, false);
        if (samples < 1 || length < 2 || tokens.length < length) {
            throw new JQuantException(file + ": " + tokens.length + " tokens cannot give " + samples
                    + " calibration samples of " + length);
        }
        Random rnd = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            int start = rnd.nextInt(tokens.length - length + 1);
            int[] s = Arrays.copyOfRange(tokens, start, start + length);
            if (tokenizer.bos() >= 0) {
                s[0] = tokenizer.bos();
            }
            out.add(s);
        }
        return out;
    }
}
