package dev.jquant.io;

import dev.jquant.JQuantException;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading a user's text file (corpus, calibration text, template) with one-line errors. */
public final class TextFiles {
    private TextFiles() {
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new JQuantException(file + ": no such file");
        } catch (MalformedInputException e) {
            throw new JQuantException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
