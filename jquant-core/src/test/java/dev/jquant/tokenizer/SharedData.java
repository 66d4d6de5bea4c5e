package dev.jquant.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/** Locates /work/shared/data; tests that need it fail (never skip) when it is missing. */
final class SharedData {
    private SharedData() {
    }

    static Path path(String relative) {
        String configured = System.getProperty("jquant.shared.data");
        Path root = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath().getParent().resolve("../shared/data");
        Path p = root.resolve(relative).normalize();
        if (!Files.exists(p)) {
            fail("shared test data missing: " + p + " (set -Djquant.shared.data)");
        }
        return p;
    }
}
