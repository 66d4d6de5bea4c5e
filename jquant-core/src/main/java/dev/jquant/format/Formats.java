package dev.jquant.format;

import dev.jquant.JQuantException;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of storage formats: lookup by GGUF type id, by name, or for a tensor of a GGUF file.
 *
 * <h2>jquant's own tensor types</h2>
 * Formats that ggml lacks get type ids from 1024 up, far above ggml's, and never reused:
 * <table>
 *   <caption>jquant tensor type ids</caption>
 *   <tr><th>id</th><th>format</th><th>parameters</th></tr>
 *   <tr><td>1024</td><td>{@link IntFormat} INT{bits}_{G{size}|ROW}_{SYM|ASYM}_{F16|BF16|F32}</td>
 *       <td>the canonical name, in metadata {@value #TENSOR_FORMAT_KEY}{@code <tensor name>}</td></tr>
 *   <tr><td>1025</td><td>{@link NF4} NF4</td><td>none</td></tr>
 *   <tr><td>1026</td><td>{@link NF4} NF4_DQ</td><td>none</td></tr>
 *   <tr><td>1027</td><td>{@link FP4} FP4_G32</td><td>none</td></tr>
 *   <tr><td>1028</td><td>{@link FP4} FP4_G64</td><td>none</td></tr>
 *   <tr><td>1029</td><td>{@link FP8} FP8_E4M3</td><td>none</td></tr>
 *   <tr><td>1030</td><td>{@link FP8} FP8_E5M2</td><td>none</td></tr>
 * </table>
 * MXFP4 is ggml's own type 39. {@code GgufWriter} records the canonical name of every tensor in a
 * jquant type under {@value #TENSOR_FORMAT_KEY}{@code <tensor name>}; readers need it for id 1024
 * and check it against the id for the others. llama.cpp cannot load files with these types.
 */
public final class Formats {
    /** Metadata key prefix naming the format of a tensor in one of jquant's own types. */
    public static final String TENSOR_FORMAT_KEY = "jquant.tensor_format.";
    /** The first type id of jquant's own types; ggml's are all below it. */
    public static final int FIRST_JQUANT_TYPE_ID = 1024;

    private static final List<Format> ALL = List.of(F32.INSTANCE, F16.INSTANCE, BF16.INSTANCE,
            Q8_0.INSTANCE, Q4_0.INSTANCE, Q4_1.INSTANCE, Q5_0.INSTANCE, Q5_1.INSTANCE,
            Q2_K.INSTANCE, Q3_K.INSTANCE, Q4_K.INSTANCE, Q5_K.INSTANCE, Q6_K.INSTANCE, Q8_K.INSTANCE,
            IQ4_NL.INSTANCE, IQ4_XS.INSTANCE, MXFP4.INSTANCE,
            NF4.INSTANCE, NF4.DQ, FP4.G32, FP4.G64, FP8.E4M3, FP8.E5M2,
            // the integer formats are a family of any parameters (IntFormat.parse); these are the common ones
            new IntFormat(8, IntFormat.ROW, true, ScaleType.F32),
            new IntFormat(8, 128, true, ScaleType.F16),
            new IntFormat(4, 128, true, ScaleType.F16),
            new IntFormat(4, 128, false, ScaleType.F16),
            new IntFormat(4, 64, false, ScaleType.F16),
            new IntFormat(3, 128, false, ScaleType.F16),
            new IntFormat(2, 64, false, ScaleType.F16));

    private Formats() {
    }

    public static List<Format> all() {
        return ALL;
    }

    /** The format a type id alone identifies: every type but the integer family, which needs its name. */
    public static Optional<Format> byTypeId(int typeId) {
        return ALL.stream().filter(f -> f.typeId() == typeId && !(f instanceof IntFormat)).findFirst();
    }

    public static Format byName(String name) {
        String wanted = name.toUpperCase(Locale.ROOT);
        return ALL.stream().filter(f -> f.name().equals(wanted)).findFirst()
                .or(() -> IntFormat.parse(wanted))
                .orElseThrow(() -> new JQuantException("unknown format '" + name + "'; known: "
                        + String.join(", ", ALL.stream().map(Format::name).toList())
                        + ", and any INT{2..8}_{G<size>|ROW}_{SYM|ASYM}_{F16|BF16|F32}"));
    }

    /** Whether files must name this format in metadata ({@link #TENSOR_FORMAT_KEY}): jquant's own types. */
    public static boolean isJQuantType(Format format) {
        return format.typeId() >= FIRST_JQUANT_TYPE_ID;
    }

    /**
     * The format of a GGUF tensor from its type id and the file's metadata; empty when jquant cannot
     * tell (an unknown id, or the integer family without its name). A name that contradicts the id
     * is an error.
     */
    public static Optional<Format> resolve(int typeId, Map<String, Object> metadata, String tensorName) {
        Object named = metadata.get(TENSOR_FORMAT_KEY + tensorName);
        if (named == null) {
            return byTypeId(typeId);
        }
        if (!(named instanceof String name)) {
            throw new JQuantException("tensor " + tensorName + ": metadata " + TENSOR_FORMAT_KEY + tensorName
                    + " is not a string");
        }
        Format format = byName(name);
        if (format.typeId() != typeId) {
            throw new JQuantException("tensor " + tensorName + ": metadata names format " + name + " (type "
                    + format.typeId() + ") but the tensor has type " + typeId);
        }
        return Optional.of(format);
    }
}
