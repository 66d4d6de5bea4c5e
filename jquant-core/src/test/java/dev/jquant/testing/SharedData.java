package dev.jquant.testing;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/** The real models and corpora in ../shared/data. Missing data fails the test: CI must never skip it. */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String configured = System.getProperty("jquant.shared.data");
        Path root = configured != null ? Path.of(configured) : Path.of("..", "..", "shared", "data");
        if (!Files.isDirectory(root)) {
            fail("shared test data not found at " + root.toAbsolutePath() + " (set -Djquant.shared.data)");
        }
        return root;
    }

    public static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) {
            fail("shared test file missing: " + p.toAbsolutePath());
        }
        return p;
    }

    public static Path stories260k() {
        return file("stories260K/stories260K.gguf");
    }
}
