package dev.jquant.io.safetensors;

import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.format.Format;

import java.util.Optional;

/**
 * The dtypes the safetensors specification names, with their width in bits. Only the float types
 * jquant computes with map to a {@link Format}; the others can be listed and validated, not used.
 */
public enum SafetensorsDtype {
    BOOL(8), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8), F4(4), F6_E2M3(6), F6_E3M2(6),
    I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), F64(64), I64(64), U64(64), C64(64);

    private final int bits;

    SafetensorsDtype(int bits) {
        this.bits = bits;
    }

    /** Null when {@code name} is not a dtype of the specification. */
    public static SafetensorsDtype byName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The dtype that stores a format's numbers as they are, if safetensors has one. */
    public static Optional<SafetensorsDtype> of(Format format) {
        return switch (format) {
            case F32 f -> Optional.of(F32);
            case F16 f -> Optional.of(F16);
            case BF16 f -> Optional.of(BF16);
            default -> Optional.empty();
        };
    }

    /** Bytes that {@code elements} values occupy (sub-byte types are packed). */
    public long byteSize(long elements) {
        return Math.ceilDiv(Math.multiplyExact(elements, bits), 8);
    }

    public Optional<Format> format() {
        return switch (this) {
            case F32 -> Optional.of(dev.jquant.format.F32.INSTANCE);
            case F16 -> Optional.of(dev.jquant.format.F16.INSTANCE);
            case BF16 -> Optional.of(dev.jquant.format.BF16.INSTANCE);
            default -> Optional.empty();
        };
    }
}
