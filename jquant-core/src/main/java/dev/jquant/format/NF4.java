package dev.jquant.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.FS;

/**
 * bitsandbytes' 4-bit NormalFloat (QLoRA): blocks of 64 elements, each element a 4-bit index into
 * the 16 {@link #LEVELS} (quantiles of a normal distribution scaled to [-1, 1]), times the block's
 * absmax; {@code w = absmax * LEVELS[q]}. Codes use the {@link Nibbles} layout (bitsandbytes packs
 * element pairs high nibble first; importing its tensors means repacking, the values are the same).
 *
 * <ul>
 *   <li>{@code NF4} (jquant type 1025): a block is the F32 absmax then 32 bytes of codes, 36 bytes.
 *   <li>{@code NF4_DQ} (1026), with bitsandbytes' double quantization: the block absmaxes of a row
 *       are stored as 8-bit codes of bitsandbytes' signed dynamic map ({@link DynamicMap}) in
 *       groups of 256 blocks. A row is: F32 offset (the mean of the row's block absmaxes), one F32
 *       scale per group of 256 blocks (the largest |absmax - offset| in it), then per block the
 *       code byte and its 32 bytes of 4-bit codes; the block's absmax is
 *       {@code DynamicMap.VALUES[code] * scale + offset}. bitsandbytes takes one offset per tensor
 *       and groups across rows; here both live in the row so a row is self-contained and groups
 *       never straddle rows. Rows must be decoded whole.
 * </ul>
 *
 * <p>Encoding: absmax over the finite elements; with DQ the absmax is quantized first and the 4-bit
 * codes are chosen against the value the decoder will see. Each element takes the nearest level
 * (ties to the lower one, as bitsandbytes' comparisons do); NaN encodes as 0, infinities as +-1.
 * A row whose length is not a multiple of 64 ends in a partial block, encoded as if padded with
 * zeros and stored whole.
 */
public final class NF4 implements Format {
    public static final NF4 INSTANCE = new NF4(false);
    public static final NF4 DQ = new NF4(true);
    static final int BLOCK = 64;
    static final int DQ_GROUP = 256;
    private static final int CODE_BYTES = BLOCK / 2;
    /** bitsandbytes' NF4 code book (csrc/kernels.cu), as float. */
    static final float[] LEVELS = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    private static final int ZERO_CODE = 7;
    private static final float[] MIDPOINTS = new float[15];
    private static final FloatVector[] TABLE = Nibbles.floatTable(LEVELS);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static {
        for (int i = 0; i < 15; i++) {
            MIDPOINTS[i] = (LEVELS[i] + LEVELS[i + 1]) / 2;
        }
    }

    private final boolean doubleQuant;

    private NF4(boolean doubleQuant) {
        this.doubleQuant = doubleQuant;
    }

    @Override public String name() { return doubleQuant ? "NF4_DQ" : "NF4"; }
    @Override public int typeId() { return doubleQuant ? 1026 : 1025; }
    @Override public int blockSize() { return BLOCK; }

    /** Bytes of one block: with DQ, the code byte and the 4-bit codes (the row header comes on top). */
    @Override
    public int blockBytes() {
        return (doubleQuant ? 1 : 4) + CODE_BYTES;
    }

    @Override
    public long rowBytes(long n) {
        long blocks = Math.ceilDiv(n, BLOCK);
        return blocks * blockBytes() + (doubleQuant && n > 0 ? headerBytes(blocks) : 0);
    }

    /** DQ row header: the offset and one scale per group of 256 blocks. */
    private static long headerBytes(long blocks) {
        return 4 + 4 * Math.ceilDiv(blocks, DQ_GROUP);
    }

    /** The level nearest to {@code v} (ties to the lower); NaN gives the zero level. */
    static int nearest(float v) {
        if (v != v) {
            return ZERO_CODE;
        }
        int q = 0;
        while (q < 15 && v > MIDPOINTS[q]) {
            q++;
        }
        return q;
    }

    /** Byte offset of block {@code b}'s codes in a row starting at {@code row}, and its absmax before them unless DQ. */
    private long blockAt(long row, int blocks, int b) {
        return row + (doubleQuant ? headerBytes(blocks) : 0) + (long) b * blockBytes();
    }

    /** The absmax of block {@code b}, as stored (F32) or as double quantization decodes it. */
    private float absmax(MemorySegment s, long row, int blocks, int b) {
        long at = blockAt(row, blocks, b);
        if (!doubleQuant) {
            return s.get(F32_LE, at);
        }
        float offset = s.get(F32_LE, row);
        float scale = s.get(F32_LE, row + 4 + 4L * (b / DQ_GROUP));
        return DynamicMap.VALUES[GgmlMath.getByte(s, at)] * scale + offset;
    }

    private long codesAt(long row, int blocks, int b) {
        return blockAt(row, blocks, b) + (doubleQuant ? 1 : 4);
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int blocks = Math.ceilDiv(n, BLOCK);
        for (int b = 0; b < blocks; b++) {
            float a = absmax(src, offset, blocks, b);
            long qs = codesAt(offset, blocks, b);
            for (int j = 0, len = Math.min(BLOCK, n - b * BLOCK); j < len; j++) {
                dst[dstOff + b * BLOCK + j] = a * LEVELS[Nibbles.get(src, qs + j / 32 * 16, j % 32)];
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        if (n == 0) {
            return; // no bytes, not even the DQ header
        }
        int blocks = Math.ceilDiv(n, BLOCK);
        float[] absmax = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float m = 0;
            for (int j = b * BLOCK, end = Math.min(n, j + BLOCK); j < end; j++) {
                float a = Math.abs(src[srcOff + j]);
                if (m < a && a != Float.POSITIVE_INFINITY) {
                    m = a;
                }
            }
            absmax[b] = m;
        }
        if (doubleQuant) {
            quantizeAbsmax(absmax, dst, offset);
        }
        int[] q = new int[BLOCK];
        for (int b = 0; b < blocks; b++) {
            if (doubleQuant) {
                absmax[b] = absmax(dst, offset, blocks, b);
            } else {
                dst.set(F32_LE, blockAt(offset, blocks, b), absmax[b]);
            }
            float a = absmax[b];
            for (int j = 0; j < BLOCK; j++) {
                int i = b * BLOCK + j;
                q[j] = i < n && a != 0 ? nearest(Math.max(-1, Math.min(1, src[srcOff + i] / a))) : ZERO_CODE;
            }
            Nibbles.put(q, 0, dst, codesAt(offset, blocks, b));
            Nibbles.put(q, 32, dst, codesAt(offset, blocks, b) + 16);
        }
    }

    /** Writes the DQ row header and every block's absmax code. */
    private void quantizeAbsmax(float[] absmax, MemorySegment dst, long row) {
        int blocks = absmax.length;
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = (float) (sum / blocks);
        dst.set(F32_LE, row, offset);
        for (int g = 0; g * DQ_GROUP < blocks; g++) {
            int end = Math.min(blocks, (g + 1) * DQ_GROUP);
            float scale = 0;
            for (int b = g * DQ_GROUP; b < end; b++) {
                scale = Math.max(scale, Math.abs(absmax[b] - offset));
            }
            dst.set(F32_LE, row + 4 + 4L * g, scale);
            for (int b = g * DQ_GROUP; b < end; b++) {
                int code = scale > 0 ? DynamicMap.nearest((absmax[b] - offset) / scale) : DynamicMap.ZERO_CODE;
                GgmlMath.putByte(dst, blockAt(row, blocks, b), code);
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int blocks = Math.ceilDiv(n, BLOCK);
        int full = n / BLOCK;
        FloatVector acc = FloatVector.zero(FS);
        for (int b = 0; b < full; b++) {
            long qs = codesAt(offset, blocks, b);
            int xo = xOff + b * BLOCK;
            FloatVector sum = FloatVector.zero(FS);
            for (int g = 0; g < BLOCK / Nibbles.GROUP; g++) { // a loop, not two call sites: half the inlined graph
                sum = Nibbles.fmaFloatTable(w, qs + g * Nibbles.GROUP_BYTES, TABLE, x, xo + g * Nibbles.GROUP, sum);
            }
            acc = sum.fma(FloatVector.broadcast(FS, absmax(w, offset, blocks, b)), acc);
        }
        float result = acc.reduceLanes(VectorOperators.ADD);
        if (full < blocks) {
            float a = absmax(w, offset, blocks, full);
            long qs = codesAt(offset, blocks, full);
            for (int j = 0; j < n - full * BLOCK; j++) {
                result += a * LEVELS[Nibbles.get(w, qs + j / 32 * 16, j % 32)] * x[xOff + full * BLOCK + j];
            }
        }
        return result;
    }
}
