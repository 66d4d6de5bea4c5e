package dev.jquant.eval;

import dev.jquant.model.Checkpoint;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Size of a model: bytes on disk, and bits per weight over the matrices (the tensors quantization
 * acts on) and over all tensors.
 */
public record ModelSize(long fileBytes, long matrixParameters, long matrixBytes, long allParameters, long allBytes) {

    public static ModelSize of(Checkpoint c) {
        long mp = 0;
        long mb = 0;
        long ap = 0;
        long ab = 0;
        for (Tensor t : c.tensors().values()) {
            ap += t.elementCount();
            ab += t.byteSize();
            if (t.rank() >= 2) {
                mp += t.elementCount();
                mb += t.byteSize();
            }
        }
        return new ModelSize(fileBytes(c.source()), mp, mb, ap, ab);
    }

    public double matrixBitsPerWeight() {
        return matrixParameters == 0 ? 0 : 8.0 * matrixBytes / matrixParameters;
    }

    public double bitsPerWeight() {
        return allParameters == 0 ? 0 : 8.0 * allBytes / allParameters;
    }

    /** Size of a file, or the sum over a directory's files; 0 for in-memory models. */
    static long fileBytes(Path p) {
        try {
            if (Files.isRegularFile(p)) {
                return Files.size(p);
            }
            if (Files.isDirectory(p)) {
                try (Stream<Path> files = Files.walk(p)) {
                    return files.filter(Files::isRegularFile).mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }).sum();
                }
            }
            return 0;
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }
}
