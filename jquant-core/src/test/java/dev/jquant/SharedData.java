package dev.jquant;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/** The shared test data directory (system property jquant.shared.data, else ../shared/data); tests fail without it. */
public final class SharedData {
    private SharedData() {
    }

    public static Path path(String relative) {
        String prop = System.getProperty("jquant.shared.data");
        Path root = prop != null ? Path.of(prop) : Path.of("..", "shared", "data");
        Path p = root.resolve(relative);
        if (!Files.exists(p)) {
            fail("shared test data missing: " + p.toAbsolutePath() + " (set -Djquant.shared.data)");
        }
        return p;
    }
}
