package dev.jquant.quantize;

import dev.jquant.tensor.TensorConverter;

import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.format.Format;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufValueType;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a checkpoint's tensors, each converted as its {@link TensorPlan} says, to a GGUF file
 * that keeps the source's metadata. The file appears only when complete (temporary file + rename).
 */
public final class GgufQuantizer {

    /** Called after each tensor: index (1-based), count, tensor name. */
    @FunctionalInterface
    public interface Listener {
        void converted(int done, int total, String tensor);
    }

    private GgufQuantizer() {
    }

    public static QuantizationSummary quantize(Checkpoint source, List<TensorPlan> plans, Path out, Listener listener) {
        long t0 = System.nanoTime();
        List<QuantizationSummary.TensorResult> results = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> converted = new ArrayList<>();
            int done = 0;
            long params = 0;
            long bytes = 0;
            for (TensorPlan plan : plans) {
                Tensor original = source.tensor(plan.name());
                Tensor c = TensorConverter.convert(original, plan.target(), arena);
                converted.add(c);
                results.add(new QuantizationSummary.TensorResult(plan, original.elementCount(), original.byteSize(),
                        c.byteSize(), WeightError.relativeRms(original, c)));
                params += original.elementCount();
                bytes += c.byteSize();
                if (listener != null) {
                    listener.converted(++done, plans.size(), plan.name());
                }
            }
            write(source, converted, out);
            return new QuantizationSummary(out, size(out), params, bytes, (System.nanoTime() - t0) / 1e9,
                    MemoryStats.peakRssBytes(), results);
        }
    }

    /**
     * Writes {@code tensors} as a GGUF file carrying the source's metadata (plus jquant's
     * quantization keys and llama.cpp's file type of the main format), atomically.
     */
    public static void write(Checkpoint source, List<Tensor> tensors, Path out) {
        if (!source.sourceFormat().equals("gguf")) {
            throw new JQuantException(source.source() + ": writing GGUF from a " + source.sourceFormat()
                    + " checkpoint is not supported yet; convert from a GGUF file");
        }
        try (GgufFile metadataSource = GgufFile.open(source.source())) {
            GgufWriter writer = new GgufWriter().putAll(metadataSource);
            writer.putString("general.quantized_by", "jquant");
            writer.put("general.quantization_version", GgufValueType.UINT32, 2L);
            int fileType = GgufFileTypes.of(mainFormat(tensors));
            if (fileType >= 0) {
                writer.put("general.file_type", GgufValueType.UINT32, (long) fileType);
            }
            tensors.forEach(writer::addTensor);
            writer.write(out);
        }
    }

    /** The format most matrix parameters end up in: what general.file_type names. */
    static Format mainFormat(List<Tensor> tensors) {
        Map<Format, Long> byFormat = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            if (t.rank() >= 2) {
                byFormat.merge(t.format(), t.elementCount(), Long::sum);
            }
        }
        return byFormat.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(dev.jquant.format.F32.INSTANCE);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }
}
