package dev.jquant.format;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Known inputs against bytes derived by hand from each format's definition. */
class GenericFormatsGoldenTest {

    private static String hex(Format f, float... x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(f.rowBytes(x.length));
            f.encode(x, 0, x.length, seg, 0);
            return HexFormat.of().formatHex(seg.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void fp8E4M3() {
        FP8 f = FP8.E4M3;
        assertEquals(0x38, f.bits(1.0f));        // exponent 7 = bias, mantissa 0
        assertEquals(0x7e, f.bits(448f));        // S.1111.110, the largest
        assertEquals(0x7e, f.bits(1e9f));        // saturates: no infinity
        assertEquals(0xfe, f.bits(Float.NEGATIVE_INFINITY));
        assertEquals(0x80, f.bits(-0.0f));
        assertEquals(0x7f, f.bits(Float.NaN));
        assertEquals(0x01, f.bits(0x1p-9f));     // smallest subnormal
        assertEquals(0x00, f.bits(0x1p-10f));    // half of it: tie to even
        assertEquals(0x02, f.bits(0x3p-10f));    // 1.5 of it: tie to even
        assertEquals(0x08, f.bits(0x1p-6f));     // smallest normal
        assertEquals(0x66, f.bits(56f));         // 1.75 * 2^5
        assertEquals(0x3c, f.bits(1.5f - 0x1p-5f)); // 1.46875 rounds to 1.5
        assertTrue(Float.isNaN(f.value(0x7f)) && Float.isNaN(f.value(0xff)));
        assertEquals(-448f, f.value(0xfe));
        for (int b = 0; b < 256; b++) {
            if ((b & 0x7f) != 0x7f) {
                assertEquals(b, f.bits(f.value(b)), "code " + b + " round trip");
            }
            if (b > 0 && b < 0x7f) {
                assertTrue(f.value(b) > f.value(b - 1), "codes grow with their bits");
            }
        }
        // a row: F32 scale amax / 448, then the codes of 448, -224 and 56
        assertEquals(hex(ScaleType.F32, 4f / 448) + "7ef666", hex(f, 4f, -2f, 0.5f));
    }

    @Test
    void fp8E5M2IsTheTopByteOfFp16() {
        FP8 f = FP8.E5M2;
        for (int b = 0; b < 256; b++) {
            float half = Float.float16ToFloat((short) (b << 8));
            assertEquals(Float.floatToIntBits(half), Float.floatToIntBits(f.value(b)), "code " + b);
            if (!Float.isNaN(half)) {
                assertEquals(b, f.bits(half), "code " + b + " round trip");
            }
        }
        assertEquals(0x3c, f.bits(1.0f));
        assertEquals(0x7b, f.bits(57344f));
        assertEquals(0x7b, f.bits(1e9f));        // finite values saturate
        assertEquals(0x7c, f.bits(Float.POSITIVE_INFINITY));
        assertEquals(0xfc, f.bits(Float.NEGATIVE_INFINITY));
        assertEquals(0x01, f.bits(0x1p-16f));
    }

    private static String hex(ScaleType t, float v) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(t.bytes());
            t.write(seg, 0, v);
            return HexFormat.of().formatHex(seg.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void nf4() {
        // absmax 1.0 (F32), then codes: 1 -> 15, -1 -> 0, 0.5 -> 12 (0.4407 is nearer than 0.5626), 0 -> 7;
        // element j in the low nibble of byte j, j + 16 in the high one; the 61 padding zeros are code 7
        String codes = "7f707c" + "77".repeat(13) + "77".repeat(16);
        assertEquals("0000803f" + codes, hex(NF4.INSTANCE, 1f, -1f, 0.5f));
        assertEquals(4 + 32, NF4.INSTANCE.rowBytes(3));
        assertEquals(7, NF4.nearest(0.0397f));
        assertEquals(8, NF4.nearest(0.0399f));
    }

    @Test
    void dynamicMapOfDoubleQuantization() {
        float[] v = DynamicMap.VALUES;
        assertEquals(256, v.length);
        assertEquals(0f, v[DynamicMap.ZERO_CODE]);
        assertEquals(1f, v[255]);
        assertEquals(-0.99296875f, v[0]);           // 1e0 * the last midpoint of 64 steps of [0.1, 1]
        assertEquals(0.99296875f, v[254]);
        assertEquals(1e-6f * 0.55f, v[128]);        // 1e-6 * the one midpoint of [0.1, 1]
        for (int i = 1; i < 256; i++) {
            assertTrue(v[i] > v[i - 1]);
        }
        // DQ row of one block: offset = the absmax itself, group scale 0, code of 0
        assertEquals("0000803f" + "00000000" + "7f" + "7f707c" + "77".repeat(29), hex(NF4.DQ, 1f, -1f, 0.5f));
    }

    @Test
    void mxfp4() {
        // amax 1: e = floor(log2 1) - 2 + 127 = 125, d = 2^(125-128) = 1/8; 1 -> 8d (code 6), -0.75 -> -6d (13),
        // 0.3 -> 2d (code 2; 2.4d is nearer 2d than 3d)
        assertEquals("7d" + "060d02" + "00".repeat(13), hex(MXFP4.INSTANCE, 1f, -0.75f, 0.3f));
        assertEquals(127, MXFP4.exponent(4f));
        assertEquals(126, MXFP4.exponent(Math.nextDown(4f)));
        assertEquals(133, MXFP4.exponent(Math.nextDown(256f))); // log2 is 8 - 9e-8, which log2f rounds to 8
        assertEquals(133, MXFP4.exponent(256f));
        assertEquals(0, MXFP4.exponent(0f));
        assertEquals(0x00200000, Float.floatToIntBits(MXFP4.halfScale(0)));
        assertEquals(0x00400000, Float.floatToIntBits(MXFP4.halfScale(1)));
        assertEquals(0x3f000000, Float.floatToIntBits(MXFP4.halfScale(127)));
        // ties go to the first code: 5d is as near 4d as 6d
        assertEquals(4, MXFP4.bestIndex(5f, 1f));
    }

    @Test
    void fp4() {
        // amax 3: s = 0.5 (FP16 0x3800); codes 3 -> 6s (7), -1.5 -> -3s (13), 0.6 -> 1s (2): 1.2s nearer 1s
        assertEquals("0038" + "07" + "0d" + "02" + "00".repeat(13), hex(FP4.G32, 3f, -1.5f, 0.6f));
        assertEquals(2 + 32, FP4.G64.rowBytes(3));
    }

    @Test
    void integers() {
        // INT4 symmetric, group 8: s = 7 / 7 = 1 (FP16 3c00); q = 7, -7, 4 (3.5 ties to even), 1, 0, -1, 2, -3;
        // stored u = q + 8, packed LSB first: 15,1 | 12,9 | 8,7 | 10,5
        assertEquals("003c" + "1f9c785a", hex(new IntFormat(4, 8, true, ScaleType.F16), 7, -7, 3.5f, 1, 0, -1, 2, -3.49f));
        // INT3 with zero point: range [0, 7], s = 1, z = 0; u = 0, 1, 2, 7 at bits 0, 3, 6, 9: 0x0e88
        assertEquals("0000803f" + "00000000" + "880e", hex(new IntFormat(3, 4, false, ScaleType.F32), 0, 1, 2, 7));
        // INT2 with zero point: range [-1, 2], s = 1, z = 1; u = 0, 1, 2, 3 -> 0b11100100
        assertEquals("0000803f" + "0000803f" + "e4", hex(new IntFormat(2, 4, false, ScaleType.F32), -1, 0, 1, 2));
        // partial last group padded with zeros (u = 8 for symmetric INT4): one element 7 -> 15, 8, 8, 8
        assertEquals("003c" + "8f88", hex(new IntFormat(4, 4, true, ScaleType.F16), 7));
        // scales round up to the next value of their type: for 1/127 nearest BF16 is below it
        float s = ScaleType.BF16.roundUp(1f / 127);
        float below = BF16.toFloat((short) (BF16.fromFloat(s) - 1));
        assertTrue(BF16.toFloat(BF16.fromFloat(1f / 127)) < 1f / 127 && s > 1f / 127 && below < 1f / 127);
        assertEquals(65504f, ScaleType.F16.roundUp(1e6f));
    }

    /**
     * What gguf-py's MXFP4 quantizer (numpy, an independent copy of ggml's quantize_row_mxfp4_ref)
     * wrote for 16 pseudo-random blocks spanning 2^-4..2^4 (one with zeros) and a block of ties
     * between codes. Inputs come from an LCG, exact in both languages.
     */
    @Test
    void mxfp4MatchesGgmlsQuantizer() {
        float[] x = new float[17 * 32];
        long r = 12345;
        for (int b = 0; b < 16; b++) {
            for (int j = 0; j < 32; j++) {
                r = (r * 1103515245L + 12345) & 0x7fffffff;
                float v = (float) (r - (1 << 30)) * 0x1p-30f * Math.scalb(1f, b % 9 - 4);
                x[b * 32 + j] = b == 3 && j % 4 == 0 ? 0 : v;
            }
        }
        float[] ties = {8, 5, -5, 0.5f, -0.5f, 2.5f, 3.5f, 7, 10, -10, 1.5f, 0.25f};
        for (int j = 0; j < ties.length; j++) {
            x[16 * 32 + j] = ties[j] / 8;
        }
        String expected =
                "78649d154fe150537cdeac576ffdf466f779537eb2704bffc4f52dc7f76cf5ffe3727a62607cff59fd7cfff7765af2ef" +
                "47ff7c7b003770ef002f76ad00feda6e00c5adce7c6677747952044677fbfcdf4a49ff34377df577576efff6f7e347ff" +
                "9674e7fdf66e7e77e7e96db64ff777fcf66bd6759adff77fb65c7dd52f776714ff660e7ec777e67380cfd74aff5a2f1d" +
                "2fffdf050f7deb76ff78fee6ce73f56d7f27b679667adfc6eff679e3e333f7797edef16dfe65fefc9e626b7a153ff9f7" +
                "15e469dafc51f746ecf7f4f47b76297b6e2e35ad7ffe6ef2e7c951c6b77cf5f66ee72e75fdf667f776747fe6fea47dcf" +
                "06e7eef6be04c7f5363ff7c571ffe07e05c72e7ef7dff077e6a7f2159f6fe0677d06040c0000020305060e0100000000" +
                "00";
        assertEquals(expected, hex(MXFP4.INSTANCE, x));
    }
}
