package dev.jquant.format;

import dev.jquant.JQuantException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties every GGUF block format must have, on seeded random rows. */
class QuantFormatsTest {

    /** A format, its nominal bits per weight, and the largest error allowed, in units of its step (see below). */
    record Case(Format format, int bits, double maxSteps) {
        @Override
        public String toString() {
            return format.name();
        }
    }

    /**
     * The step of a b-bit format over a block whose largest magnitude is amax is amax / 2^(b-1): the
     * spacing of a symmetric grid of 2^b levels covering [-amax, amax]. Plain rounding errs by half a
     * step; the bounds add what each format's scheme costs beyond that: the clamped top level of the
     * symmetric _0 types (one step), the 4- and 6-bit quantized sub-block scales and mins of the
     * k-quants, the uneven IQ4 grid (its widest gap is 24 of 127).
     */
    static List<Case> cases() {
        return List.of(
                new Case(Q8_0.INSTANCE, 8, 0.6),
                new Case(Q4_0.INSTANCE, 4, 1.05),
                new Case(Q4_1.INSTANCE, 4, 0.6),
                new Case(Q5_0.INSTANCE, 5, 1.05),
                new Case(Q5_1.INSTANCE, 5, 0.6),
                new Case(Q2_K.INSTANCE, 2, 1.5),
                new Case(Q3_K.INSTANCE, 3, 1.0),
                new Case(Q4_K.INSTANCE, 4, 1.0),
                new Case(Q5_K.INSTANCE, 5, 1.0),
                new Case(Q6_K.INSTANCE, 6, 0.75),
                new Case(Q8_K.INSTANCE, 8, 0.55),
                new Case(IQ4_NL.INSTANCE, 4, 1.0),
                new Case(IQ4_XS.INSTANCE, 4, 1.0));
    }

    static Stream<Format> formats() {
        return cases().stream().map(Case::format);
    }

    enum Dist { GAUSSIAN, HEAVY_TAILS, SPARSE, CONSTANT, ZEROS, TINY, HUGE }

    static float[] row(Random rnd, Dist dist, int n) {
        float[] x = new float[n];
        // 1..1000 keeps every FP16 scale of every format normal: below, scales lose precision
        // (subnormal FP16) exactly as they do in ggml, which TINY exercises separately
        float scale = (float) Math.pow(10, rnd.nextDouble(0, 3));
        float c = (float) rnd.nextGaussian() * scale;
        for (int i = 0; i < n; i++) {
            x[i] = switch (dist) {
                case GAUSSIAN -> (float) rnd.nextGaussian() * scale;
                // Student t with 3 degrees of freedom: rare values tens of sigmas out
                case HEAVY_TAILS -> (float) (rnd.nextGaussian() / Math.sqrt((sq(rnd.nextGaussian())
                        + sq(rnd.nextGaussian()) + sq(rnd.nextGaussian())) / 3)) * scale;
                case SPARSE -> rnd.nextInt(4) == 0 ? (float) rnd.nextDouble(-1, 1) * scale : 0f;
                case CONSTANT -> c;
                case ZEROS -> 0f;
                case TINY -> (float) rnd.nextGaussian() * 1e-20f;
                case HUGE -> (float) rnd.nextGaussian() * 1e20f;
            };
        }
        return x;
    }

    private static double sq(double v) {
        return v * v;
    }

    static MemorySegment encode(Format f, float[] x, Arena arena) {
        MemorySegment seg = arena.allocate(f.rowBytes(x.length));
        f.encode(x, 0, x.length, seg, 0);
        return seg;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void roundTripErrorIsWithinTheStepBound(Case c) {
        Format f = c.format();
        Random rnd = new Random(42 + f.typeId());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 60; trial++) {
                Dist dist = List.of(Dist.GAUSSIAN, Dist.HEAVY_TAILS, Dist.SPARSE, Dist.CONSTANT).get(trial % 4);
                float[] x = row(rnd, dist, f.blockSize() * (1 + rnd.nextInt(8)));
                float[] y = new float[x.length];
                f.decode(encode(f, x, arena), 0, y, 0, x.length);
                for (int b = 0; b < x.length; b += f.blockSize()) {
                    float amax = 0;
                    for (int i = b; i < b + f.blockSize(); i++) {
                        amax = Math.max(amax, Math.abs(x[i]));
                    }
                    double step = amax / Math.pow(2, c.bits() - 1);
                    for (int i = b; i < b + f.blockSize(); i++) {
                        double err = Math.abs((double) y[i] - x[i]);
                        assertTrue(err <= c.maxSteps() * step, () -> f.name() + " " + dist + ": error " + err
                                + " exceeds " + c.maxSteps() + " steps of " + step);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void decodeMatchesAnElementwiseReadingOfTheLayout(Format f) {
        Random rnd = new Random(7 + f.typeId());
        try (Arena arena = Arena.ofConfined()) {
            for (Dist dist : Dist.values()) {
                float[] x = row(rnd, dist, f.blockSize() * (1 + rnd.nextInt(6)));
                MemorySegment seg = encode(f, x, arena);
                float[] y = new float[x.length];
                f.decode(seg, 0, y, 0, x.length);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToIntBits(LayoutReader.element(f, seg, 0, i)), Float.floatToIntBits(y[i]),
                            f.name() + " " + dist + " element " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void propertiesHoldOverRandomLengthsAndDistributions(Format f) {
        Random rnd = new Random(1234 + f.typeId());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                Dist dist = Dist.values()[rnd.nextInt(Dist.values().length)];
                int n = f.blockSize() * (1 + rnd.nextInt(12));
                float[] x = row(rnd, dist, n);
                MemorySegment seg = encode(f, x, arena);
                // deterministic, and writes exactly its row and nothing around it
                MemorySegment padded = arena.allocate(seg.byteSize() + 16).fill((byte) 0x5a);
                f.encode(x, 0, n, padded, 8);
                assertEquals(-1, seg.mismatch(padded.asSlice(8, seg.byteSize())), f.name() + " " + dist);
                assertEquals(0x5a, padded.get(ValueLayout.JAVA_BYTE, 7));
                assertEquals(0x5a, padded.get(ValueLayout.JAVA_BYTE, 8 + seg.byteSize()));
                // a source offset and a destination offset give the same bytes
                float[] shifted = new float[n + 5];
                System.arraycopy(x, 0, shifted, 5, n);
                MemorySegment other = arena.allocate(seg.byteSize());
                f.encode(shifted, 5, n, other, 0);
                assertEquals(-1, seg.mismatch(other), f.name() + " " + dist + " with a source offset");

                float[] y = new float[n + 3];
                f.decode(seg, 0, y, 3, n);
                for (int i = 0; i < n; i++) {
                    float v = y[3 + i];
                    switch (dist) {
                        case ZEROS -> assertEquals(0f, v, 0f, f.name() + " zero row decodes to zeros");
                        case TINY -> assertTrue(Math.abs(v) <= 1e-6f, f.name() + " tiny value decoded to " + v);
                        case HUGE -> { } // scales overflow FP16 exactly as they do in ggml
                        default -> assertTrue(Float.isFinite(v), f.name() + " " + dist + " decoded " + v);
                    }
                }
                if (dist == Dist.CONSTANT || dist == Dist.GAUSSIAN || dist == Dist.SPARSE) {
                    // sign is kept: no value decodes to the opposite sign of a value well above the step
                    for (int i = 0; i < n; i++) {
                        if (Math.abs(x[i]) > 0.5 * absMax(x)) {
                            assertTrue(Math.signum(y[3 + i]) == Math.signum(x[i]), f.name() + " flipped the sign of " + x[i]);
                        }
                    }
                }
            }
        }
    }

    private static float absMax(float[] x) {
        float m = 0;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @ParameterizedTest
    @MethodSource("formats")
    void nonFiniteAndExtremeInputsDoNotBreakTheEncoder(Format f) {
        Random rnd = new Random(99);
        try (Arena arena = Arena.ofConfined()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
                    -Float.MAX_VALUE, Float.MIN_VALUE}) {
                int n = f.blockSize();
                float[] x = row(rnd, Dist.GAUSSIAN, 2 * n);
                x[n + rnd.nextInt(n)] = bad;
                MemorySegment seg = encode(f, x, arena);
                f.decode(seg, 0, new float[2 * n], 0, 2 * n);
                f.dot(seg, 0, x, 0, 2 * n);
                // the block without the bad value is quantized as if it were alone
                MemorySegment first = encode(f, Arrays.copyOf(x, n), arena);
                assertEquals(-1, first.mismatch(seg.asSlice(0, f.blockBytes())), f.name() + " with " + bad);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void vectorDotAgreesWithTheScalarReference(Format f) {
        Random rnd = new Random(5 + f.typeId());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 30; trial++) {
                Dist dist = List.of(Dist.GAUSSIAN, Dist.HEAVY_TAILS, Dist.SPARSE, Dist.CONSTANT).get(trial % 4);
                int n = f.blockSize() * (1 + rnd.nextInt(16));
                float[] w = row(rnd, dist, n);
                MemorySegment seg = encode(f, w, arena);
                int xOff = rnd.nextInt(4);
                float[] x = new float[n + xOff];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] wq = new float[n];
                f.decode(seg, 0, wq, 0, n);
                double magnitude = 0;
                for (int i = 0; i < n; i++) {
                    magnitude += Math.abs((double) wq[i] * x[xOff + i]);
                }
                float ref = f.dotScalar(seg, 0, x, xOff, n);
                float vec = f.dot(seg, 0, x, xOff, n);
                assertEquals(ref, vec, 1e-5 * magnitude + 1e-30, f.name() + " " + dist + " n=" + n);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void quantizedActivationDotMatchesTheProductOfTheDecodedValues(Format f) {
        Format act = f.activationFormat();
        Random rnd = new Random(77 + f.typeId());
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 20; trial++) {
                Dist dist = List.of(Dist.GAUSSIAN, Dist.HEAVY_TAILS, Dist.SPARSE, Dist.CONSTANT).get(trial % 4);
                int n = KQuants.QK_K * (1 + rnd.nextInt(6));
                MemorySegment w = encode(f, row(rnd, dist, n), arena);
                float[] x = row(rnd, Dist.GAUSSIAN, n);
                MemorySegment xq = encode(act, x, arena);
                float[] wd = new float[n];
                float[] xd = new float[n];
                f.decode(w, 0, wd, 0, n);
                act.decode(xq, 0, xd, 0, n);
                double exact = 0;
                double magnitude = 0;
                double floatMagnitude = 0;
                for (int i = 0; i < n; i++) {
                    exact += (double) wd[i] * xd[i];
                    magnitude += Math.abs((double) wd[i] * xd[i]);
                    floatMagnitude += Math.abs((double) wd[i] * x[i]);
                }
                float got = f.dotQuantized(w, 0, xq, 0, n);
                assertEquals(exact, got, 1e-5 * magnitude + 1e-30, f.name() + " x " + act.name() + " " + dist);
                // 8-bit activations move each product by at most ~1/127 of the block's largest activation
                assertEquals(f.dot(w, 0, x, 0, n), got, 0.02 * floatMagnitude + 1e-30, f.name() + " against the float dot");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void rowsThatAreNotWholeBlocksAreRejectedWithTheFormatsName(Format f) {
        float[] x = new float[f.blockSize() + 1];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2L * f.blockBytes());
            JQuantException e = assertThrows(JQuantException.class, () -> f.encode(x, 0, x.length, seg, 0));
            assertTrue(e.getMessage().contains(f.name()), e.getMessage());
            assertThrows(JQuantException.class, () -> f.decode(seg, 0, x, 0, x.length));
        }
    }

    @Test
    void everyFormatIsRegisteredUnderItsGgmlTypeIdAndName() {
        int[] ids = {8, 2, 3, 6, 7, 10, 11, 12, 13, 14, 15, 20, 23};
        int[] bytes = {34, 18, 20, 22, 24, 84, 110, 144, 176, 210, 292, 18, 136};
        List<Format> fs = formats().toList();
        for (int i = 0; i < ids.length; i++) {
            Format f = fs.get(i);
            assertEquals(f, Formats.byTypeId(ids[i]).orElseThrow());
            assertEquals(f, Formats.byName(f.name().toLowerCase(Locale.ROOT)));
            assertEquals(bytes[i], f.blockBytes(), f.name());
        }
    }
}
