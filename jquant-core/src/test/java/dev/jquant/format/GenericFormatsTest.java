package dev.jquant.format;

import dev.jquant.JQuantException;
import dev.jquant.format.QuantFormatsTest.Dist;
import dev.jquant.io.gguf.GgufFile;
import dev.jquant.io.gguf.GgufWriter;
import dev.jquant.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.jquant.format.QuantFormatsTest.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of jquant's generic formats (integer, NF4, FP4, FP8, MXFP4) on seeded random rows of any length. */
class GenericFormatsTest {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Row lengths that are and are not whole blocks: 172 is stories260K's ffn_down. */
    private static final int[] LENGTHS = {1, 2, 7, 33, 64, 100, 172, 256, 257, 1000};

    static List<Format> formats() {
        List<Format> fs = new ArrayList<>();
        for (String name : List.of("INT2_G64_ASYM_F16", "INT3_G128_ASYM_F16", "INT4_G128_SYM_F16", "INT4_G32_ASYM_BF16",
                "INT5_G100_SYM_F32", "INT6_G64_ASYM_F16", "INT7_G17_SYM_BF16", "INT8_ROW_SYM_F32", "INT8_G128_ASYM_F16",
                "INT4_ROW_ASYM_BF16", "INT3_ROW_SYM_F16", "INT2_G16_SYM_F32")) {
            fs.add(Formats.byName(name));
        }
        fs.addAll(List.of(NF4.INSTANCE, NF4.DQ, FP4.G32, FP4.G64, FP8.E4M3, FP8.E5M2, MXFP4.INSTANCE));
        return fs;
    }

    /** Formats whose scales are FP16: values beyond its range saturate the scale, as in ggml. */
    private static boolean f16Scales(Format f) {
        return f instanceof FP4 || f instanceof IntFormat i && i.scaleType() == ScaleType.F16;
    }

    private static int length(Random rnd) {
        return rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(600) : LENGTHS[rnd.nextInt(LENGTHS.length)];
    }

    static MemorySegment encode(Format f, float[] x, Arena arena) {
        MemorySegment seg = arena.allocate(Math.max(1, f.rowBytes(x.length)));
        f.encode(x, 0, x.length, seg, 0);
        return seg;
    }

    static float[] decode(Format f, MemorySegment seg, int n) {
        float[] y = new float[n];
        f.decode(seg, 0, y, 0, n);
        return y;
    }

    /**
     * The largest error rounding element {@code i} may make, from the parameters stored with it:
     * half the spacing of the grid around x (the grid's own, as decoded), for FP8 half an FP8 ulp.
     */
    static double bound(Format f, MemorySegment seg, int n, int i, float x) {
        double ax = Math.abs(x);
        return switch (f) {
            case IntFormat in -> {
                long group = in.groupSize() == IntFormat.ROW ? 0 : (i / in.groupSize()) * in.rowBytes(in.groupSize());
                yield in.scaleType().read(seg, group) / 2.0;
            }
            case FP4 fp4 -> {
                double s = GgmlMath.getHalf(seg, (long) (i / fp4.blockSize()) * fp4.blockBytes());
                double r = ax / s;
                yield s * (r <= 2 ? 0.25 : r <= 4 ? 0.5 : 1.0);
            }
            case MXFP4 mx -> {
                double d = MXFP4.halfScale(GgmlMath.getByte(seg, (long) (i / 32) * 17));
                double r = ax / d;
                yield r <= 4 ? 0.5 * d : r <= 8 ? d : r <= 12 ? 2 * d : ax - 12 * d;
            }
            case NF4 nf4 -> {
                int b = i / 64;
                double stored = Math.abs(nf4Absmax(nf4, seg, n, b));
                yield maxHalfGap(NF4.LEVELS) * stored; // plus any shortfall of the stored absmax, added by the caller
            }
            case FP8 fp8 -> {
                double s = seg.get(F32_LE, 0);
                int m = fp8 == FP8.E4M3 ? 3 : 2;
                int minExp = fp8 == FP8.E4M3 ? -6 : -14;
                yield Math.max(ax * Math.scalb(1.0, -m - 1), s * Math.scalb(1.0, minExp - m - 1));
            }
            default -> throw new IllegalArgumentException(f.name());
        };
    }

    /** A block's absmax read from the layout: F32 for NF4; for NF4_DQ the offset, the group scale and the code. */
    static float nf4Absmax(NF4 f, MemorySegment seg, int n, int b) {
        if (f == NF4.INSTANCE) {
            return seg.get(F32_LE, 36L * b);
        }
        int blocks = (n + 63) / 64;
        long header = 4 + 4L * ((blocks + 255) / 256);
        float offset = seg.get(F32_LE, 0);
        float scale = seg.get(F32_LE, 4 + 4L * (b / 256));
        return DynamicMap.VALUES[GgmlMath.getByte(seg, header + 33L * b)] * scale + offset;
    }

    static double maxHalfGap(float[] sorted) {
        double g = 0;
        for (int i = 0; i + 1 < sorted.length; i++) {
            g = Math.max(g, (sorted[i + 1] - sorted[i]) / 2.0);
        }
        return g;
    }

    @ParameterizedTest
    @MethodSource("formats")
    void roundTripErrorIsWithinHalfAStep(Format f) {
        Random rnd = new Random(42 + f.name().hashCode());
        List<Dist> dists = List.of(Dist.GAUSSIAN, Dist.HEAVY_TAILS, Dist.SPARSE, Dist.CONSTANT, Dist.ZEROS, Dist.TINY);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 60; trial++) {
                Dist dist = dists.get(trial % dists.size());
                float[] x = row(rnd, dist, length(rnd));
                int n = x.length;
                MemorySegment seg = encode(f, x, arena);
                float[] y = decode(f, seg, n);
                for (int i = 0; i < n; i++) {
                    double allowed = bound(f, seg, n, i, x[i]);
                    if (f instanceof NF4 nf4) {
                        int b = i / 64;
                        float amax = 0;
                        for (int j = b * 64; j < Math.min(n, b * 64 + 64); j++) {
                            amax = Math.max(amax, Math.abs(x[j]));
                        }
                        allowed += Math.max(0, amax - Math.abs(nf4Absmax(nf4, seg, n, b)));
                    }
                    allowed = allowed * (1 + 1e-6) + 1e-6 * Math.abs(x[i]) + Float.MIN_VALUE;
                    double err = Math.abs((double) y[i] - x[i]);
                    int at = i;
                    double limit = allowed;
                    assertTrue(err <= limit, () -> f.name() + " " + dist + " n=" + n + " element " + at + ": " + x[at]
                            + " decoded " + y[at] + ", error " + err + " > " + limit);
                }
            }
        }
    }

    @Test
    void doubleQuantizedAbsmaxIsWithinHalfAStepOfTheDynamicMap() {
        Random rnd = new Random(3);
        double halfGap = maxHalfGap(DynamicMap.VALUES);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {64 * 300 + 5, 172, 4096}) {
                float[] x = row(rnd, Dist.HEAVY_TAILS, n);
                MemorySegment seg = encode(NF4.DQ, x, arena);
                int blocks = (n + 63) / 64;
                for (int b = 0; b < blocks; b++) {
                    float amax = 0;
                    for (int j = b * 64; j < Math.min(n, b * 64 + 64); j++) {
                        amax = Math.max(amax, Math.abs(x[j]));
                    }
                    float scale = seg.get(F32_LE, 4 + 4L * (b / 256));
                    double err = Math.abs(amax - nf4Absmax(NF4.DQ, seg, n, b));
                    assertTrue(err <= halfGap * scale * (1 + 1e-5) + 1e-6 * amax, "block " + b + " of " + n + ": " + err);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void propertiesHoldOverRandomLengthsAndDistributions(Format f) {
        Random rnd = new Random(1234 + f.name().hashCode());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                Dist dist = Dist.values()[rnd.nextInt(Dist.values().length)];
                int n = length(rnd);
                float[] x = row(rnd, dist, n);
                MemorySegment seg = encode(f, x, arena);
                assertEquals(f.rowBytes(n), seg.byteSize());
                // deterministic, and writes exactly its row and nothing around it
                MemorySegment padded = arena.allocate(seg.byteSize() + 16).fill((byte) 0x5a);
                f.encode(x, 0, n, padded, 8);
                assertEquals(-1, seg.mismatch(padded.asSlice(8, seg.byteSize())), f.name() + " " + dist + " n=" + n);
                assertEquals(0x5a, padded.get(ValueLayout.JAVA_BYTE, 7));
                assertEquals(0x5a, padded.get(ValueLayout.JAVA_BYTE, 8 + seg.byteSize()));
                float[] shifted = new float[n + 5];
                System.arraycopy(x, 0, shifted, 5, n);
                MemorySegment other = arena.allocate(seg.byteSize());
                f.encode(shifted, 5, n, other, 0);
                assertEquals(-1, seg.mismatch(other), f.name() + " with a source offset");
                // decodes exactly n values where asked
                float[] y = new float[n + 4];
                Arrays.fill(y, 7f);
                f.decode(padded, 8, y, 3, n);
                assertEquals(7f, y[2]);
                assertEquals(7f, y[3 + n]);
                for (int i = 0; i < n; i++) {
                    float v = y[3 + i];
                    switch (dist) {
                        case ZEROS -> assertEquals(0f, v, 0f, f.name() + " zero row decodes to zeros");
                        case TINY -> assertTrue(Math.abs(v) <= 1e-6f, f.name() + " tiny value decoded to " + v);
                        case HUGE -> assertTrue(f16Scales(f) || Float.isFinite(v), f.name() + " huge decoded " + v);
                        default -> assertTrue(Float.isFinite(v), f.name() + " " + dist + " decoded " + v);
                    }
                }
                if (dist == Dist.CONSTANT || dist == Dist.GAUSSIAN || dist == Dist.SPARSE) {
                    float amax = 0;
                    for (float v : x) {
                        amax = Math.max(amax, Math.abs(v));
                    }
                    for (int i = 0; i < n; i++) {
                        if (Math.abs(x[i]) > 0.5 * amax) {
                            assertEquals(Math.signum(x[i]), Math.signum(y[3 + i]), f.name() + " flipped the sign of " + x[i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void vectorDotAgreesWithTheScalarReference(Format f) {
        Random rnd = new Random(5 + f.name().hashCode());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                Dist dist = List.of(Dist.GAUSSIAN, Dist.HEAVY_TAILS, Dist.SPARSE, Dist.CONSTANT).get(trial % 4);
                int n = trial < LENGTHS.length ? LENGTHS[trial] : length(rnd);
                float[] w = row(rnd, dist, n);
                MemorySegment seg = encode(f, w, arena);
                int xOff = rnd.nextInt(4);
                float[] x = new float[n + xOff]; // exactly n elements after xOff: a kernel reading past them fails
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] wq = decode(f, seg, n);
                double magnitude = 0;
                for (int i = 0; i < n; i++) {
                    magnitude += Math.abs((double) wq[i] * x[xOff + i]);
                }
                float ref = f.dotScalar(seg, 0, x, xOff, n);
                float vec = f.dot(seg, 0, x, xOff, n);
                assertEquals(ref, vec, 2e-5 * magnitude + 1e-30, f.name() + " " + dist + " n=" + n);
            }
        }
    }

    /**
     * The integer kernels unpack whole steps of codes by vector and a group's ragged end by masked
     * loads: every width, symmetric or not, with groups that are and are not whole steps, and rows
     * over odd column counts, the last row ending the segment (a load past the row would fail).
     */
    @Test
    void integerVectorKernelsAgreeWithTheScalarOnesAtEveryWidthAndGroupSize() {
        Random rnd = new Random(77);
        int[] groups = {64, 128, 96, 40, 32, 8, 17, IntFormat.ROW};
        ScaleType[] types = ScaleType.values();
        try (Arena arena = Arena.ofConfined()) {
            for (int bits = 2; bits <= 8; bits++) {
                for (boolean symmetric : new boolean[] {true, false}) {
                    for (int group : groups) {
                        IntFormat f = new IntFormat(bits, group, symmetric, types[rnd.nextInt(types.length)]);
                        for (int cols : new int[] {group == IntFormat.ROW ? 64 : 3 * group, 1 + rnd.nextInt(700), 31, 33}) {
                            int rows = 3;
                            long rb = f.rowBytes(cols);
                            MemorySegment seg = arena.allocate(rb * rows);
                            for (int r = 0; r < rows; r++) {
                                f.encode(row(rnd, Dist.GAUSSIAN, cols), 0, cols, seg, r * rb);
                            }
                            for (int r = 0; r < rows; r++) {
                                String what = f.name() + " cols=" + cols + " row " + r;
                                float[] vec = new float[cols + 6];
                                float[] ref = new float[cols + 6];
                                Arrays.fill(vec, 7f);
                                Arrays.fill(ref, 7f);
                                f.decode(seg, r * rb, vec, 3, cols);
                                f.decodeScalar(seg, r * rb, ref, 3, cols);
                                for (int i = 0; i < vec.length; i++) {
                                    assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(vec[i]),
                                            what + " element " + i);
                                }
                                int xOff = rnd.nextInt(3);
                                float[] x = new float[xOff + cols]; // nothing after the row: a kernel reading past it fails
                                double magnitude = 0;
                                for (int i = 0; i < cols; i++) {
                                    x[xOff + i] = (float) rnd.nextGaussian();
                                    magnitude += Math.abs((double) ref[3 + i] * x[xOff + i]);
                                }
                                assertEquals(f.dotScalar(seg, r * rb, x, xOff, cols), f.dot(seg, r * rb, x, xOff, cols),
                                        1e-6 * magnitude + 1e-30, what);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void nonFiniteAndExtremeInputsDoNotBreakTheRow(Format f) {
        Random rnd = new Random(99);
        try (Arena arena = Arena.ofConfined()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
                    -Float.MAX_VALUE, Float.MIN_VALUE}) {
                int n = 172;
                float[] x = row(rnd, Dist.GAUSSIAN, n);
                int p = rnd.nextInt(n);
                x[p] = bad;
                MemorySegment seg = encode(f, x, arena);
                float[] y = decode(f, seg, n);
                f.dot(seg, 0, x, 0, n);
                boolean extreme = Math.abs(bad) == Float.MAX_VALUE;
                for (int i = 0; i < n; i++) {
                    boolean sameBlock = i / f.blockSize() == p / f.blockSize();
                    // a huge element takes its block's scale with it in FP16 (saturated) and NF4_DQ (shared offset)
                    if (i != p && !(extreme && (f16Scales(f) || f == NF4.DQ) && sameBlock)) {
                        assertTrue(Float.isFinite(y[i]), f.name() + " with " + bad + ": element " + i + " decoded " + y[i]);
                    }
                }
                if (Float.isInfinite(bad) && !(f instanceof MXFP4)) {
                    // infinities take the extreme code of their sign (E5M2 keeps them infinite)
                    assertEquals(Math.signum(bad), Math.signum(y[p]), f.name() + " " + bad + " decoded " + y[p]);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void anEmptyRowTakesNoBytes(Format f) {
        assertEquals(0, f.rowBytes(0));
        f.encode(new float[0], 0, 0, MemorySegment.NULL, 0);
        f.decode(MemorySegment.NULL, 0, new float[0], 0, 0);
        assertEquals(0f, f.dot(MemorySegment.NULL, 0, new float[0], 0, 0));
    }

    @Test
    void nf4HasLowerErrorThanInt4AbsmaxAtTheSameBlockSizeOnGaussianWeights() {
        Random rnd = new Random(11);
        float[] x = row(rnd, Dist.GAUSSIAN, 64 * 4096);
        IntFormat int4 = new IntFormat(4, 64, true, ScaleType.F32);
        try (Arena arena = Arena.ofConfined()) {
            double nf4 = mse(x, decode(NF4.INSTANCE, encode(NF4.INSTANCE, x, arena), x.length));
            double int4Mse = mse(x, decode(int4, encode(int4, x, arena), x.length));
            assertTrue(nf4 < int4Mse, "NF4 mse " + nf4 + " vs INT4 " + int4Mse);
            // and double quantization costs little: under 1% more error for ~0.4 fewer bits per weight
            double dq = mse(x, decode(NF4.DQ, encode(NF4.DQ, x, arena), x.length));
            assertTrue(dq < nf4 * 1.01, "NF4_DQ mse " + dq + " vs NF4 " + nf4);
            assertTrue(NF4.DQ.rowBytes(4096) * 8.0 / 4096 < NF4.INSTANCE.bitsPerWeight() - 0.35);
        }
    }

    private static double mse(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
        }
        return s / x.length;
    }

    @Test
    void integerFormatNamesParseBackAndBadOnesAreNamed() {
        for (Format f : formats()) {
            assertEquals(f, Formats.byName(f.name().toLowerCase(java.util.Locale.ROOT)));
        }
        IntFormat f = (IntFormat) Formats.byName("INT4_G64_ASYM_F16");
        assertEquals(new IntFormat(4, 64, false, ScaleType.F16), f);
        assertEquals(IntFormat.TYPE_ID, f.typeId());
        assertEquals(2 + 2 + 32, f.blockBytes());
        assertEquals(3 * 36, f.rowBytes(172));
        assertEquals(4 + 172, Formats.byName("INT8_ROW_SYM_F32").rowBytes(172));
        assertEquals(2 + 65, Formats.byName("INT3_ROW_SYM_F16").rowBytes(172)); // 516 bits
        for (String bad : List.of("INT9_G128_SYM_F16", "INT1_G8_SYM_F16", "INT4_G0_SYM_F16", "INT4_G128_SYM_F8")) {
            JQuantException e = assertThrows(JQuantException.class, () -> Formats.byName(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void callerChosenScalesGiveAPerTensorScaleAndClamp() {
        IntFormat f = new IntFormat(4, 4, true, ScaleType.F32);
        float[] x = {0.5f, -0.25f, 100f, -100f, 0.1f, 0.2f};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(f.rowBytes(x.length));
            f.encode(x, 0, x.length, new float[] {0.125f, 0.125f}, null, seg, 0);
            float[] y = decode(f, seg, x.length);
            assertEquals(List.of(0.5f, -0.25f, 0.875f, -1f, 0.125f, 0.25f), toList(y));
            assertThrows(JQuantException.class, () -> f.encode(x, 0, x.length, new float[] {1f}, null, seg, 0));

            MemorySegment fp8 = arena.allocate(FP8.E4M3.rowBytes(3));
            FP8.E4M3.encode(new float[] {1f, -2f, 1000f}, 0, 3, 0.5f, fp8, 0);
            assertEquals(List.of(1f, -2f, 224f), toList(decode(FP8.E4M3, fp8, 3))); // 1000 saturates at 448 * 0.5
        }
    }

    private static List<Float> toList(float[] y) {
        List<Float> out = new ArrayList<>();
        for (float v : y) {
            out.add(v);
        }
        return out;
    }

    @Test
    void everyFormatSurvivesAGgufWriteAndRead(@TempDir Path dir) {
        Random rnd = new Random(8);
        Path file = dir.resolve("generic.gguf");
        List<Tensor> written = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            GgufWriter writer = new GgufWriter();
            // a stale name copied from elsewhere must not survive
            writer.putString(Formats.TENSOR_FORMAT_KEY + "t0", "NF4");
            int k = 0;
            for (Format f : formats()) {
                int rows = 3;
                int cols = k % 2 == 0 ? 172 : 33;
                float[] v = row(rnd, Dist.GAUSSIAN, rows * cols);
                MemorySegment seg = arena.allocate(rows * f.rowBytes(cols));
                for (int r = 0; r < rows; r++) {
                    f.encode(v, r * cols, cols, seg, r * f.rowBytes(cols));
                }
                Tensor t = new Tensor("t" + k++, f, new long[] {rows, cols}, seg);
                written.add(t);
                writer.addTensor(t);
            }
            writer.write(file);
            try (GgufFile gguf = GgufFile.open(file)) {
                for (Tensor t : written) {
                    Tensor back = gguf.tensors().get(t.name());
                    assertEquals(t.format(), back.format(), t.name());
                    assertEquals(-1, t.data().mismatch(back.data()), t.name());
                    assertEquals(Formats.isJQuantType(t.format()),
                            gguf.has(Formats.TENSOR_FORMAT_KEY + t.name()), t.name());
                    assertTrue(Arrays.equals(t.toFloats(), back.toFloats()));
                }
                assertEquals(39, gguf.tensorInfos().stream().filter(i -> i.name().equals("t" + (written.size() - 1)))
                        .findFirst().orElseThrow().typeId(), "MXFP4 is written as ggml's type 39");
            }
        }
    }

    @Test
    void resolvingATensorsFormatNeedsTheNameOnlyForTheIntegerFamily() {
        assertEquals(NF4.DQ, Formats.resolve(1026, Map.of(), "w").orElseThrow());
        assertEquals(MXFP4.INSTANCE, Formats.resolve(39, Map.of(), "w").orElseThrow());
        assertFalse(Formats.resolve(IntFormat.TYPE_ID, Map.of(), "w").isPresent());
        assertEquals(new IntFormat(3, 128, false, ScaleType.BF16), Formats.resolve(IntFormat.TYPE_ID,
                Map.of(Formats.TENSOR_FORMAT_KEY + "w", "INT3_G128_ASYM_BF16"), "w").orElseThrow());
        JQuantException e = assertThrows(JQuantException.class,
                () -> Formats.resolve(1025, Map.of(Formats.TENSOR_FORMAT_KEY + "w", "NF4_DQ"), "w"));
        assertTrue(e.getMessage().contains("NF4_DQ") && e.getMessage().contains("1025"), e.getMessage());
        // every registered format is found again from its id (and, for the integer family, its name)
        for (Format f : Formats.all()) {
            assertEquals(f, Formats.resolve(f.typeId(), Map.of(Formats.TENSOR_FORMAT_KEY + "w", f.name()), "w").orElseThrow());
        }
    }
}
