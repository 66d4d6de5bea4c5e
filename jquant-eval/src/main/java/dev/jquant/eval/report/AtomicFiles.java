package dev.jquant.eval.report;

import dev.jquant.JQuantException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Text files written to a temporary sibling and renamed, so readers never see half a file. */
final class AtomicFiles {
    private AtomicFiles() {
    }

    static void write(Path target, String content) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new JQuantException(target + ": cannot write: " + e.getMessage(), e);
        }
    }
}
