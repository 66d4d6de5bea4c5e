package dev.jquant.format;

import dev.jquant.JQuantException;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The registry of storage formats: lookup by GGUF type id or by name. */
public final class Formats {
    private static final List<Format> ALL = List.of(F32.INSTANCE, F16.INSTANCE, BF16.INSTANCE);

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
