package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a {@link Session} stores keys and values: F32 (exact, the default), or F16, Q8_0, Q4_0 in the
 * formats' own block layouts (llama.cpp's {@code --cache-type-k/-v}), to fit longer contexts.
 */
public enum KvCacheType {
    F32(null), F16(dev.jquant.format.F16.INSTANCE), Q8_0(dev.jquant.format.Q8_0.INSTANCE),
    Q4_0(dev.jquant.format.Q4_0.INSTANCE);

    private final Format format;

    KvCacheType(Format format) {
        this.format = format;
    }

    /** The storage format of a quantized cache; null for F32, which keeps plain float arrays. */
    Format format() {
        return format;
    }

    /** Bytes one position of one layer takes for keys or values of {@code kvDim} elements. */
    public long rowBytes(int kvDim) {
        return format == null ? 4L * kvDim : format.rowBytes(kvDim);
    }

    /** Parses a {@code --kv-cache} value: f32, f16, q8_0 or q4_0, in any case. */
    public static KvCacheType parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new JQuantException("unknown KV cache type '" + name + "'; known: "
                    + String.join(", ", Arrays.stream(values()).map(t -> t.name().toLowerCase(Locale.ROOT)).toList()));
        }
    }
}
