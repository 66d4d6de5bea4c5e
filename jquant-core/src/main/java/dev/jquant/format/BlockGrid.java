package dev.jquant.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * A block format seen as a grid: once a block's scales are chosen, each element can hold only a
 * few values. Error-feedback quantizers (GPTQ) fix the scales of a block, then round its elements
 * one at a time as their values change, and need exactly the grid the stored block will have;
 * this gives them that, with the layout knowledge staying in this package.
 */
public interface BlockGrid {

    Format format();

    /**
     * Chooses the scales of the block at {@code block[at]} from {@code x[off..off+blockSize)}
     * exactly as {@link Format#encode} does (it also writes provisional codes).
     */
    default void fit(float[] x, int off, MemorySegment block, long at) {
        format().encode(x, off, format().blockSize(), block, at);
    }

    /** Stores the code nearest to {@code v} for element {@code i} under the block's fixed scales; returns its value. */
    float round(MemorySegment block, long at, int i, float v);

    /** The grid of {@code format}, when it has one here (the GGUF types with a fixed set of levels per block). */
    static Optional<BlockGrid> of(Format format) {
        return Optional.ofNullable(switch (format) {
            case Q4_0 f -> (BlockGrid) new Q40Grid();
            case Q4_1 f -> new Q41Grid();
            case Q5_0 f -> new Q50Grid();
            case Q5_1 f -> new Q51Grid();
            case Q8_0 f -> new Q80Grid();
            case Q4_K f -> new Q4KGrid();
            case Q6_K f -> new Q6KGrid();
            case Q2_K f -> new Q2KGrid();
            case Q3_K f -> new Q3KGrid();
            case Q5_K f -> new Q5KGrid();
            case IQ4_NL f -> new IQ4NLGrid();
            case IQ4_XS f -> new IQ4XSGrid();
            default -> null;
        });
    }

    /** Nearest level of {@code value = scale * code + offset} with {@code code} in [lo, hi]; a zero scale gives code 0. */
    private static int nearestCode(float v, float scale, float offset, int lo, int hi) {
        if (scale == 0) {
            return Math.max(lo, Math.min(hi, 0));
        }
        return Math.max(lo, Math.min(hi, GgmlMath.nearestInt((v - offset) / scale)));
    }

    /** Writes a 4-bit code into the low or high half of a byte. */
    private static void putNibble(MemorySegment s, long offset, boolean high, int code) {
        int b = GgmlMath.getByte(s, offset);
        GgmlMath.putByte(s, offset, high ? (b & 0x0F) | (code << 4) : (b & 0xF0) | code);
    }

    /** Sets or clears bit {@code bit} of the little-endian 32-bit word at {@code offset}. */
    private static void putBit(MemorySegment s, long offset, int bit, boolean set) {
        int w = s.get(Q5_0.QH, offset);
        s.set(Q5_0.QH, offset, set ? w | (1 << bit) : w & ~(1 << bit));
    }

    /** d * (q - 8), q in 0..15; element i in the low (i < 16) or high nibble of byte i % 16. */
    final class Q40Grid implements BlockGrid {
        public Format format() { return Q4_0.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            float d = GgmlMath.getHalf(s, at);
            int q = nearestCode(v, d, 0, -8, 7);
            putNibble(s, at + 2 + i % 16, i >= 16, q + 8);
            return d * q;
        }
    }

    /** d * q + m, q in 0..15. */
    final class Q41Grid implements BlockGrid {
        public Format format() { return Q4_1.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            float d = GgmlMath.getHalf(s, at);
            float m = GgmlMath.getHalf(s, at + 2);
            int q = nearestCode(v, d, m, 0, 15);
            putNibble(s, at + 4 + i % 16, i >= 16, q);
            return d * q + m;
        }
    }

    /** d * (q - 16), q in 0..31; the fifth bit of element i is bit i of qh. */
    final class Q50Grid implements BlockGrid {
        public Format format() { return Q5_0.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            float d = GgmlMath.getHalf(s, at);
            int q = nearestCode(v, d, 0, -16, 15);
            int u = q + 16;
            putNibble(s, at + 6 + i % 16, i >= 16, u & 0xF);
            putBit(s, at + 2, i, (u & 0x10) != 0);
            return d * q;
        }
    }

    /** d * q + m, q in 0..31; the fifth bit of element i is bit i of qh. */
    final class Q51Grid implements BlockGrid {
        public Format format() { return Q5_1.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            float d = GgmlMath.getHalf(s, at);
            float m = GgmlMath.getHalf(s, at + 2);
            int q = nearestCode(v, d, m, 0, 31);
            putNibble(s, at + 8 + i % 16, i >= 16, q & 0xF);
            putBit(s, at + 4, i, (q & 0x10) != 0);
            return d * q + m;
        }
    }

    /** d * q, q a signed byte. */
    final class Q80Grid implements BlockGrid {
        public Format format() { return Q8_0.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            float d = GgmlMath.getHalf(s, at);
            int q = nearestCode(v, d, 0, -128, 127);
            s.set(ValueLayout.JAVA_BYTE, at + 2 + i, (byte) q);
            return d * q;
        }
    }

    /** d * sc_j * q - dmin * m_j, q in 0..15, sub-blocks j of 32 with their 6-bit scales and mins fixed. */
    final class Q4KGrid implements BlockGrid {
        public Format format() { return Q4_K.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int j = i / 32;
            float dl = GgmlMath.getHalf(s, at) * KQuants.lane(KQuants.scalesK4(s, at + 4), j);
            float dm = GgmlMath.getHalf(s, at + 2) * KQuants.lane(KQuants.minsK4(s, at + 4), j);
            int q = nearestCode(v, dl, -dm, 0, 15);
            putNibble(s, at + Q4_K.QS + 32L * (j / 2) + i % 32, j % 2 == 1, q);
            return dl * q - dm;
        }
    }

    /** d * sc_j * (q - 32), q in 0..63, sub-blocks j of 16 with their signed 8-bit scales fixed. */
    final class Q6KGrid implements BlockGrid {
        public Format format() { return Q6_K.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int half = i / 128;
            int quarter = i % 128 / 32;
            int l = i % 32;
            float dl = GgmlMath.getHalf(s, at + Q6_K.D) * s.get(ValueLayout.JAVA_BYTE, at + Q6_K.SCALES + i / 16);
            int q = nearestCode(v, dl, 0, -32, 31);
            int u = q + 32;
            putNibble(s, at + 64L * half + l + (quarter % 2) * 32, quarter >= 2, u & 0xF);
            long qh = at + Q6_K.QH + 32L * half + l;
            int shift = 2 * quarter;
            GgmlMath.putByte(s, qh, (GgmlMath.getByte(s, qh) & ~(3 << shift)) | ((u >> 4) << shift));
            return dl * q;
        }
    }

    /** d * sc_j * q - dmin * m_j, q in 0..3, sub-blocks j of 16 with their 4-bit scale and min in byte j. */
    final class Q2KGrid implements BlockGrid {
        public Format format() { return Q2_K.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int sc = GgmlMath.getByte(s, at + i / 16);
            float dl = GgmlMath.getHalf(s, at + Q2_K.D) * (sc & 0xF);
            float ml = GgmlMath.getHalf(s, at + Q2_K.D + 2) * (sc >> 4);
            int q = nearestCode(v, dl, -ml, 0, 3);
            long qs = at + Q2_K.QS + 32L * (i / 128) + i % 32;
            int shift = 2 * (i % 128 / 32);
            GgmlMath.putByte(s, qs, (GgmlMath.getByte(s, qs) & ~(3 << shift)) | (q << shift));
            return dl * q - ml;
        }
    }

    /**
     * d * (sc_j - 32) * q, q in -4..3, sub-blocks j of 16: the low two bits of q + 4 packed as in
     * Q2_K, its third bit (set: no -4) in bit 4 * half + quarter of hmask byte i % 32.
     */
    final class Q3KGrid implements BlockGrid {
        public Format format() { return Q3_K.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int half = i / 128;
            int quarter = i % 128 / 32;
            float dl = GgmlMath.getHalf(s, at + Q3_K.D) * (KQuants.lane(Q3_K.scales(s, at + Q3_K.SCALES, half), i % 128 / 16) - 32);
            int q = nearestCode(v, dl, 0, -4, 3);
            int u = q + 4;
            long qs = at + Q3_K.QS + 32L * half + i % 32;
            int shift = 2 * quarter;
            GgmlMath.putByte(s, qs, (GgmlMath.getByte(s, qs) & ~(3 << shift)) | ((u & 3) << shift));
            long hm = at + i % 32;
            int bit = 1 << (4 * half + quarter);
            GgmlMath.putByte(s, hm, u > 3 ? GgmlMath.getByte(s, hm) | bit : GgmlMath.getByte(s, hm) & ~bit);
            return dl * (q);
        }
    }

    /** d * sc_j * q - dmin * m_j, q in 0..31: the low nibble as in Q4_K, the fifth bit in bit j of qh byte i % 32. */
    final class Q5KGrid implements BlockGrid {
        public Format format() { return Q5_K.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int j = i / 32;
            float dl = GgmlMath.getHalf(s, at) * KQuants.lane(KQuants.scalesK4(s, at + 4), j);
            float dm = GgmlMath.getHalf(s, at + 2) * KQuants.lane(KQuants.minsK4(s, at + 4), j);
            int q = nearestCode(v, dl, -dm, 0, 31);
            putNibble(s, at + Q5_K.QS + 32L * (j / 2) + i % 32, j % 2 == 1, q & 0xF);
            long qh = at + Q5_K.QH + i % 32;
            GgmlMath.putByte(s, qh, q > 15 ? GgmlMath.getByte(s, qh) | (1 << j) : GgmlMath.getByte(s, qh) & ~(1 << j));
            return dl * q - dm;
        }
    }

    /** d * KVALUES[q]: the non-linear level nearest to v / d, as the encoder picks it. */
    final class IQ4NLGrid implements BlockGrid {
        public Format format() { return IQ4_NL.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            return roundNonLinear(s, at + 2, i, GgmlMath.getHalf(s, at), v);
        }
    }

    /** d * (ls_j - 32) * KVALUES[q], sub-blocks j of 32 with their 6-bit scales fixed; nibbles as in IQ4_NL. */
    final class IQ4XSGrid implements BlockGrid {
        public Format format() { return IQ4_XS.INSTANCE; }

        public float round(MemorySegment s, long at, int i, float v) {
            int j = i / 32;
            float dl = GgmlMath.getHalf(s, at) * (IQ4_XS.subScale(s, at, j) - 32);
            return roundNonLinear(s, at + IQ4_XS.QS + 16L * j, i % 32, dl, v);
        }
    }

    /** Element i of a 32-element IQ4_NL-style nibble group at {@code qs} with scale {@code d}. */
    private static float roundNonLinear(MemorySegment s, long qs, int i, float d, float v) {
        float id = d != 0 ? 1 / d : 0;
        int q = IQ4_NL.bestIndex(id * v);
        putNibble(s, qs + i % 16, i >= 16, q);
        return d * IQ4_NL.KVALUES[q];
    }
}
