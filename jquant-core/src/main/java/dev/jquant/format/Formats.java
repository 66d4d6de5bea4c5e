package dev.jquant.format;

import dev.jquant.JQuantException;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The registry of storage formats: lookup by GGUF type id or by name. */
public final class Formats {
    private static final List<Format> ALL = List.of(F32.INSTANCE, F16.INSTANCE, BF16.INSTANCE,
            Q8_0.INSTANCE, Q4_0.INSTANCE, Q4_1.INSTANCE, Q5_0.INSTANCE, Q5_1.INSTANCE,
            Q2_K.INSTANCE, Q3_K.INSTANCE, Q4_K.INSTANCE, Q5_K.INSTANCE, Q6_K.INSTANCE, Q8_K.INSTANCE,
            IQ4_NL.INSTANCE, IQ4_XS.INSTANCE);

    private Formats() {
    }

    public static List<Format> all() {
        return ALL;
    }

    public static Optional<Format> byTypeId(int typeId) {
        return ALL.stream().filter(f -> f.typeId() == typeId).findFirst();
    }

    public static Format byName(String name) {
        String wanted = name.toUpperCase(Locale.ROOT);
        return ALL.stream().filter(f -> f.name().equals(wanted)).findFirst()
                .orElseThrow(() -> new JQuantException("unknown format '" + name + "'; known: "
                        + String.join(", ", ALL.stream().map(Format::name).toList())));
    }
}
