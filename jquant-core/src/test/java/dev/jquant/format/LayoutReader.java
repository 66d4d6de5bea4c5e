package dev.jquant.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * An independent reading of ggml's block layouts, one element at a time from its index (written from
 * ggml-common.h, not from the decoders), with the decoders' float evaluation order so results
 * compare bit for bit.
 */
final class LayoutReader {
    private static final byte[] IQ4 = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private LayoutReader() {
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    private static float half(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at));
    }

    private static int nibble(MemorySegment s, long qs, int j) {
        int b = u8(s, qs + j % 16);
        return j < 16 ? b & 0xF : b >> 4;
    }

    private static int bit(MemorySegment s, long at, int k) {
        return (u8(s, at + k / 8) >> (k % 8)) & 1;
    }

    /** Element {@code i} of the row stored at {@code row}. */
    static float element(Format f, MemorySegment s, long row, int i) {
        long b = row + (long) (i / f.blockSize()) * f.blockBytes();
        int j = i % f.blockSize();
        return switch (f.name()) {
            case "Q8_0" -> s.get(ValueLayout.JAVA_BYTE, b + 2 + j) * half(s, b);
            case "Q4_0" -> (nibble(s, b + 2, j) - 8) * half(s, b);
            case "Q4_1" -> nibble(s, b + 4, j) * half(s, b) + half(s, b + 2);
            case "Q5_0" -> ((nibble(s, b + 6, j) | bit(s, b + 2, j) << 4) - 16) * half(s, b);
            case "Q5_1" -> (nibble(s, b + 8, j) | bit(s, b + 4, j) << 4) * half(s, b) + half(s, b + 2);
            case "IQ4_NL" -> half(s, b) * IQ4[nibble(s, b + 2, j)];
            case "Q8_K" -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), b)
                    * s.get(ValueLayout.JAVA_BYTE, b + 4 + j);
            case "Q2_K" -> {
                int sc = u8(s, b + j / 16);
                int q = (u8(s, b + 16 + 32 * (j / 128) + j % 32) >> (2 * (j % 128 / 32))) & 3;
                yield half(s, b + 80) * (sc & 0xF) * q - half(s, b + 82) * (sc >> 4);
            }
            case "Q3_K" -> {
                int sub = j / 16;
                int low4 = sub < 8 ? u8(s, b + 96 + sub) & 0xF : u8(s, b + 96 + sub - 8) >> 4;
                int high2 = (u8(s, b + 96 + 8 + sub % 4) >> (2 * (sub / 4))) & 3;
                int q = (u8(s, b + 32 + 32 * (j / 128) + j % 32) >> (2 * (j % 128 / 32))) & 3;
                int h = (u8(s, b + j % 32) >> (j / 32)) & 1;
                yield half(s, b + 108) * ((low4 | high2 << 4) - 32) * (q - (h == 1 ? 0 : 4));
            }
            case "Q4_K", "Q5_K" -> {
                int sub = j / 32;
                int sc = sub < 4 ? u8(s, b + 4 + sub) & 63 : (u8(s, b + 8 + sub) & 0xF) | (u8(s, b + sub) >> 6) << 4;
                int m = sub < 4 ? u8(s, b + 8 + sub) & 63 : (u8(s, b + 8 + sub) >> 4) | (u8(s, b + 4 + sub) >> 6) << 4;
                long qs = f.name().equals("Q4_K") ? b + 16 : b + 48;
                int byteQ = u8(s, qs + 32 * (j / 64) + j % 32);
                int q = sub % 2 == 0 ? byteQ & 0xF : byteQ >> 4;
                if (f.name().equals("Q5_K")) {
                    q += ((u8(s, b + 16 + j % 32) >> sub) & 1) * 16;
                }
                yield half(s, b) * sc * q - half(s, b + 2) * m;
            }
            case "Q6_K" -> {
                int half = j / 128;
                int k = j % 128 / 32;
                int l = j % 32;
                int lowByte = u8(s, b + 64 * half + l + (k % 2) * 32);
                int low = k < 2 ? lowByte & 0xF : lowByte >> 4;
                int high = (u8(s, b + 128 + 32 * half + l) >> (2 * k)) & 3;
                yield half(s, b + 208) * s.get(ValueLayout.JAVA_BYTE, b + 192 + j / 16) * ((low | high << 4) - 32);
            }
            case "IQ4_XS" -> {
                int sub = j / 32;
                int scalesH = s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), b + 2) & 0xffff;
                int ls = ((u8(s, b + 4 + sub / 2) >> (4 * (sub % 2))) & 0xF) | ((scalesH >> (2 * sub)) & 3) << 4;
                yield half(s, b) * (ls - 32) * IQ4[nibble(s, b + 8 + 16 * sub, j % 32)];
            }
            default -> throw new IllegalArgumentException(f.name());
        };
    }
}
