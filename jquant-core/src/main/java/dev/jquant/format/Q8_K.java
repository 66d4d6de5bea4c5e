package dev.jquant.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.KQuants.QK_K;

/**
 * ggml Q8_K, type 15: the activation-side format ggml multiplies k-quants against (never a weight
 * type in files). Super-blocks of 256: an F32 scale {@code d}, 256 signed bytes, then 16 int16 sums
 * of each 16 quants. {@code w = d * q}. Rows must be a multiple of 256 elements.
 */
public final class Q8_K implements Format {
    public static final Q8_K INSTANCE = new Q8_K();
    static final int QS = 4;
    static final int BSUMS = QS + QK_K;
    static final int BLOCK_BYTES = BSUMS + 2 * (QK_K / 16);
    private static final ValueLayout.OfFloat D = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q8_K() {
    }

    @Override public String name() { return "Q8_K"; }
    @Override public int typeId() { return 15; }
    @Override public int blockSize() { return QK_K; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    /** The F32 scale of the block at {@code bo}. */
    static float scale(MemorySegment s, long bo) {
        return s.get(D, bo);
    }

    /** The sum of quants 16i..16i+15 of the block at {@code bo}. */
    static int bsum(MemorySegment s, long bo, int i) {
        return s.get(F16.LE, bo + BSUMS + 2L * i);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * BLOCK_BYTES;
            float d = src.get(D, bo);
            for (int j = 0; j < QK_K; ++j) {
                dst[dstOff + b * QK_K + j] = d * src.get(ValueLayout.JAVA_BYTE, bo + QS + j);
            }
        }
    }

    /** ggml's quantize_row_q8_K_ref: d = (the value of largest magnitude) / -127, q = min(127, nearest_int(x / d)). */
    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int nb = GgmlMath.blocks(this, n);
        for (int b = 0; b < nb; b++) {
            int x = srcOff + b * QK_K;
            long bo = offset + (long) b * BLOCK_BYTES;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < QK_K; ++j) {
                float ax = Math.abs(src[x + j]);
                if (ax > amax) {
                    amax = ax;
                    max = src[x + j];
                }
            }
            if (amax == 0) {
                // ggml leaves bsums untouched here; zero them so the block is fully defined
                dst.asSlice(bo, BLOCK_BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < QK_K; ++j) {
                int v = GgmlMath.nearestInt(iscale * src[x + j]);
                dst.set(ValueLayout.JAVA_BYTE, bo + QS + j, (byte) Math.min(127, v));
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) {
                    sum += dst.get(ValueLayout.JAVA_BYTE, bo + QS + 16 * j + ii);
                }
                dst.set(F16.LE, bo + BSUMS + 2L * j, (short) sum);
            }
            dst.set(D, bo, 1 / iscale);
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        return BlockDot.viaDecode(this, w, offset, x, xOff, n);
    }
}
