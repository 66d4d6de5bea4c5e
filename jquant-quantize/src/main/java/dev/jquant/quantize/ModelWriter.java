package dev.jquant.quantize;

import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a GGUF checkpoint's metadata and tensors with some tensors replaced or added, atomically. */
public final class ModelWriter {
    private ModelWriter() {
    }

    /** Returns the bytes written. */
    public static long write(Checkpoint source, Map<String, Tensor> replaced, Path out) {
        if (!source.sourceFormat().equals("gguf")) {
            throw new JQuantException(source.source() + ": writing GGUF from a " + source.sourceFormat()
                    + " checkpoint is not supported yet; convert from a GGUF file");
        }
        if (source.source().toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new JQuantException(out + ": the output would overwrite the input");
        }
        Map<String, Tensor> all = new LinkedHashMap<>(source.tensors());
        all.putAll(replaced);
        try (GgufFile metadata = GgufFile.open(source.source())) {
            GgufWriter writer = new GgufWriter().putAll(metadata);
            writer.putString("general.quantized_by", "jquant");
            all.values().forEach(writer::addTensor);
            writer.write(out);
        }
        try {
            return Files.size(out);
        } catch (IOException e) {
            throw new JQuantException(out + ": cannot read back its size: " + e.getMessage());
        }
    }
}
