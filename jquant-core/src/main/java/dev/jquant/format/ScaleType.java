package dev.jquant.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The number type a group's scale (and zero point) is stored in, little-endian. */
public enum ScaleType {
    F16(2), BF16(2), F32(4);

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final short F16_MAX_BITS = 0x7bff;
    private static final short BF16_MAX_BITS = 0x7f7f;

    private final int bytes;

    ScaleType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public float read(MemorySegment s, long at) {
        return switch (this) {
            case F16 -> Float.float16ToFloat(s.get(SHORT_LE, at));
            case BF16 -> bf16(s.get(SHORT_LE, at));
            case F32 -> s.get(F32_LE, at);
        };
    }

    /** Stores {@code v} rounded to nearest and returns the value stored. */
    public float write(MemorySegment s, long at, float v) {
        switch (this) {
            case F16 -> s.set(SHORT_LE, at, GgmlMath.toHalf(v));
            case BF16 -> s.set(SHORT_LE, at, toBf16(v));
            case F32 -> s.set(F32_LE, at, v);
        }
        return read(s, at);
    }

    /**
     * The smallest value of this type that is at least {@code v} (for {@code v >= 0}), saturating
     * at the largest finite value: a scale rounded up keeps every element of its group inside the
     * code range, so rounding to the nearest code errs by at most half the stored scale.
     */
    public float roundUp(float v) {
        if (!(v > 0)) {
            return 0;
        }
        return switch (this) {
            case F32 -> v;
            case F16 -> {
                short h = Float.floatToFloat16(Math.min(v, 65504f));
                if (Float.float16ToFloat(h) < v && h != F16_MAX_BITS) {
                    h++;
                }
                yield Float.float16ToFloat(h);
            }
            case BF16 -> {
                short b = toBf16(Math.min(v, bf16(BF16_MAX_BITS)));
                if (bf16(b) < v && b != BF16_MAX_BITS) {
                    b++;
                }
                yield bf16(b);
            }
        };
    }

    // the constants F16 and BF16 shadow the format classes of the same names
    private static float bf16(short bits) {
        return dev.jquant.format.BF16.toFloat(bits);
    }

    private static short toBf16(float v) {
        return dev.jquant.format.BF16.fromFloat(v);
    }
}
