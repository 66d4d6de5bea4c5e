package dev.jquant.kernel;

import dev.jquant.format.Format;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.tensor.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * W8A8: int8 weights with one scale per output row ({@link #WEIGHTS}, {@code INT8_ROW_SYM_F32}) times
 * int8 activations, in integer arithmetic. Each token's activations are quantized once per product,
 * either dynamically (scale = its own absmax / 127) or with a static scale fixed from calibration
 * (values beyond it saturate at ±127); then every output is {@code s_w * s_x * sum(c_w * c_x)} with
 * the sum taken in 32-bit integers by the Vector API.
 */
public final class Int8MatMul {
    /** The weight format this kernel multiplies: 8-bit codes, one symmetric F32 scale per row. */
    public static final IntFormat WEIGHTS = new IntFormat(8, IntFormat.ROW, true, ScaleType.F32);
    /** Means "no static scale": quantize each token by its own absmax. */
    public static final float DYNAMIC = 0f;

    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> SH = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes before a row's codes: its F32 scale. */
    private static final int HEADER = 4;

    private Int8MatMul() {
    }

    public static boolean handles(Format f) {
        return WEIGHTS.equals(f);
    }

    /**
     * Per-token int8 codes of {@code x} and their scales: token {@code t}'s codes are
     * {@code codes[t*cols ..]}, {@code scales[t]} such that {@code x ≈ scales[t] * code}.
     */
    public record Activations(byte[] codes, float[] scales, int cols) {
    }

    /** Quantizes {@code tokens} rows of {@code cols} activations, per token ({@link #DYNAMIC}) or with {@code staticScale}. */
    public static Activations quantize(float[] x, int tokens, int cols, float staticScale) {
        byte[] codes = new byte[tokens * cols];
        float[] scales = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            int off = t * cols;
            float s = staticScale;
            if (s == DYNAMIC) {
                float amax = 0;
                for (int i = 0; i < cols; i++) {
                    amax = Math.max(amax, Math.abs(x[off + i]));
                }
                s = amax / 127f;
            }
            scales[t] = s;
            float inv = s > 0 ? 1f / s : 0f;
            for (int i = 0; i < cols; i++) {
                codes[off + i] = (byte) Math.clamp(Math.round(x[off + i] * inv), -127, 127);
            }
        }
        return new Activations(codes, scales, cols);
    }

    /** {@code out[t * rows + r] = W[r] · x[t]} with activations quantized as {@link #quantize} says. */
    public static void matmul(Tensor w, float[] x, int tokens, float[] out, float staticScale) {
        Activations a = quantize(x, tokens, w.cols(), staticScale);
        matmul(w, a, tokens, out);
    }

    /** The product with activations already quantized. */
    public static void matmul(Tensor w, Activations a, int tokens, float[] out) {
        if (!handles(w.format())) {
            throw new IllegalArgumentException(w.name() + ": W8A8 needs " + WEIGHTS.name() + " weights, not " + w.format().name());
        }
        int rows = w.rows();
        int cols = w.cols();
        long rowBytes = w.rowBytes();
        MemorySegment data = w.data();
        Parallel.get().forRange(rows, 8, (start, end) -> {
            for (int r = start; r < end; r++) {
                long off = r * rowBytes;
                float sw = data.get(F32_LE, off);
                for (int t = 0; t < tokens; t++) {
                    out[t * rows + r] = sw * a.scales()[t] * dot(data, off + HEADER, a.codes(), t * cols, cols);
                }
            }
        });
    }

    /**
     * {@code sum (u_w - 128) * c_x} over {@code n} stored unsigned codes {@code u_w} and signed activation codes:
     * flipping the top bit turns u into the signed u - 128; bytes widen to shorts for the product and to ints for the sum.
     */
    static int dot(MemorySegment w, long at, byte[] x, int xOff, int n) {
        IntVector acc = IntVector.zero(I);
        int i = 0;
        for (int upper = B.loopBound(n); i < upper; i += B.length()) {
            ByteVector cw = ByteVector.fromMemorySegment(B, w, at + i, ByteOrder.LITTLE_ENDIAN)
                    .lanewise(VectorOperators.XOR, (byte) 0x80);
            ByteVector cx = ByteVector.fromArray(B, x, xOff + i);
            ShortVector prod = ((ShortVector) cw.convertShape(VectorOperators.B2S, SH, 0))
                    .mul((ShortVector) cx.convertShape(VectorOperators.B2S, SH, 0));
            acc = acc.add((IntVector) prod.convertShape(VectorOperators.S2I, I, 0))
                    .add((IntVector) prod.convertShape(VectorOperators.S2I, I, 1));
        }
        int sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += ((w.get(ValueLayout.JAVA_BYTE, at + i) & 0xff) - 128) * x[xOff + i];
        }
        return sum;
    }

    /** The specification {@link #dot} is tested against: one element at a time. */
    static int dotScalar(MemorySegment w, long at, byte[] x, int xOff, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += ((w.get(ValueLayout.JAVA_BYTE, at + i) & 0xff) - 128) * x[xOff + i];
        }
        return sum;
    }
}
