package dev.jquant.quantize;

import dev.jquant.format.Format;

import java.util.Map;

/**
 * llama.cpp's {@code general.file_type} (enum llama_ftype) for a model whose matrices are mostly in
 * one format; llama-quantize writes the "_M" mix id when given a bare k-quant type.
 */
final class GgufFileTypes {
    private static final Map<String, Integer> FILE_TYPE = Map.ofEntries(
            Map.entry("F32", 0), Map.entry("F16", 1), Map.entry("Q4_0", 2), Map.entry("Q4_1", 3),
            Map.entry("Q8_0", 7), Map.entry("Q5_0", 8), Map.entry("Q5_1", 9), Map.entry("Q2_K", 10),
            Map.entry("Q3_K", 12), Map.entry("Q4_K", 15), Map.entry("Q5_K", 17), Map.entry("Q6_K", 18),
            Map.entry("IQ4_NL", 25), Map.entry("IQ4_XS", 30), Map.entry("BF16", 32));

    private GgufFileTypes() {
    }

    /** The file type id, or -1 when llama.cpp has none for this format. */
    static int of(Format mainFormat) {
        return FILE_TYPE.getOrDefault(mainFormat.name(), -1);
    }
}
