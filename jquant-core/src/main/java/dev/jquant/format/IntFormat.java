package dev.jquant.format;

import dev.jquant.JQuantException;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.BS;
import static dev.jquant.format.BlockDot.FS;

/**
 * Integer codes of {@code bits} (2..8) bits in groups of {@code groupSize} consecutive elements of a
 * row ({@link #ROW}: one group per row, i.e. per output channel), each group with its own scale and,
 * unless symmetric, its own zero point, stored as {@code scaleType}. Canonical names:
 * {@code INT4_G128_SYM_F16}, {@code INT4_G64_ASYM_BF16}, {@code INT8_ROW_SYM_F32}. All share jquant
 * type 1024; the parameters travel as the name (see {@link Formats}).
 *
 * <p>Values: {@code w = s * (u - z)} with {@code u} the unsigned code in [0, 2^bits). Symmetric
 * formats have the fixed {@code z = 2^(bits-1)}, so the signed code {@code u - z} spans
 * [-2^(bits-1), 2^(bits-1)); with a zero point, {@code z} is stored (an integer when this class
 * chose it, any value when a caller did, e.g. HQQ).
 *
 * <p>Layout of a group: the scale, then (asymmetric only) the zero point, both {@code scaleType}
 * little-endian, then the codes densely packed LSB first: element {@code i} of the group occupies
 * bits {@code [i*bits, (i+1)*bits)} of the code bytes, bit {@code k} being bit {@code k % 8} of byte
 * {@code k / 8}; the last byte is padded with zero bits. A group takes
 * {@code header + ceil(groupSize * bits / 8)} bytes. A row whose length is not a multiple of the
 * group size ends in a partial group, encoded as if padded with zeros and stored whole:
 * {@code rowBytes(n) = ceil(n / groupSize) * groupBytes}. A {@code _ROW} row is one group of
 * {@code n} elements, so such rows must be decoded whole.
 *
 * <p>Round-to-nearest encoding (no calibration): symmetric {@code s = amax / (2^(bits-1) - 1)};
 * asymmetric min-max over the group's range widened to include 0 (as GPTQ does, so zero stays
 * exact and constant groups survive), {@code s = (max - min) / (2^bits - 1)},
 * {@code z = round(-min / s)}. The scale is rounded up to {@code scaleType}, so every element lies
 * within the grid and errs by at most {@code s / 2}. Non-finite elements are left out of the range;
 * NaN encodes as 0, infinities as the extreme codes. Methods that choose their own scales write
 * through {@link #encode(float[], int, int, float[], float[], MemorySegment, long)}.
 */
public record IntFormat(int bits, int groupSize, boolean symmetric, ScaleType scaleType) implements Format {
    public static final int TYPE_ID = 1024;
    /** Group size meaning "the whole row". */
    public static final int ROW = 0;
    private static final int MAX_GROUP = 1 << 24;
    private static final Pattern NAME = Pattern.compile("INT([2-8])_(?:G(\\d{1,8})|ROW)_(SYM|ASYM)_(F16|BF16|F32)");
    /** Elements unpacked at a time by {@link #dot}. */
    private static final int CHUNK = 256;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;

    public IntFormat {
        if (bits < 2 || bits > 8) {
            throw new JQuantException("integer format: " + bits + " bits is outside 2..8");
        }
        if (groupSize < 0 || groupSize > MAX_GROUP) {
            throw new JQuantException("integer format: group size " + groupSize + " is outside 1.." + MAX_GROUP
                    + " (or " + ROW + " for one group per row)");
        }
        if (scaleType == null) {
            throw new JQuantException("integer format: no scale type");
        }
    }

    /** The format a canonical name such as {@code INT4_G128_SYM_F16} stands for, if it is one. */
    public static Optional<IntFormat> parse(String name) {
        Matcher m = NAME.matcher(name.toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        int group = m.group(2) == null ? ROW : Integer.parseInt(m.group(2));
        if (m.group(2) != null && group == 0) {
            throw new JQuantException("integer format " + name + ": group size 0; use _ROW for one group per row");
        }
        return Optional.of(new IntFormat(Integer.parseInt(m.group(1)), group, m.group(3).equals("SYM"),
                ScaleType.valueOf(m.group(4))));
    }

    @Override
    public String name() {
        return "INT" + bits + "_" + (groupSize == ROW ? "ROW" : "G" + groupSize) + "_"
                + (symmetric ? "SYM" : "ASYM") + "_" + scaleType;
    }

    @Override
    public int typeId() {
        return TYPE_ID;
    }

    /** The group size; for {@code _ROW} formats the packing unit, 8 elements in {@code bits} bytes. */
    @Override
    public int blockSize() {
        return groupSize == ROW ? 8 : groupSize;
    }

    @Override
    public int blockBytes() {
        return groupSize == ROW ? bits : Math.toIntExact(groupBytes(groupSize));
    }

    @Override
    public double bitsPerWeight() {
        return groupSize == ROW ? bits : Format.super.bitsPerWeight();
    }

    @Override
    public long rowBytes(long n) {
        if (n == 0) {
            return 0;
        }
        return groupSize == ROW ? groupBytes(n) : Math.ceilDiv(n, groupSize) * groupBytes(groupSize);
    }

    /** Number of groups, hence of scales (and zeros), in a row of {@code n} elements. */
    public int groups(int n) {
        return n == 0 ? 0 : Math.ceilDiv(n, groupLength(n));
    }

    private int groupLength(int n) {
        return groupSize == ROW ? n : groupSize;
    }

    private int headerBytes() {
        return scaleType.bytes() * (symmetric ? 1 : 2);
    }

    private long groupBytes(long len) {
        return headerBytes() + Math.ceilDiv(len * bits, 8);
    }

    private int maxCode() {
        return (1 << bits) - 1;
    }

    /** The zero point of symmetric formats, and the offset that makes codes signed bytes in {@link #dot}. */
    private int mid() {
        return 1 << (bits - 1);
    }

    private float zero(MemorySegment s, long group) {
        return symmetric ? mid() : scaleType.read(s, group + scaleType.bytes());
    }

    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int g = groupLength(n);
        long gb = groupBytes(g);
        Bits in = new Bits(src);
        for (int start = 0; start < n; start += g, offset += gb) {
            float s = scaleType.read(src, offset);
            float z = zero(src, offset);
            in.reset(offset + headerBytes());
            for (int i = start, end = Math.min(n, start + g); i < end; i++) {
                dst[dstOff + i] = s * (in.next(bits) - z);
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOff, int n, MemorySegment dst, long offset) {
        int g = groupLength(n);
        long gb = groupBytes(g);
        for (int start = 0; start < n; start += g, offset += gb) {
            int len = Math.min(g, n - start);
            float min = 0;
            float max = 0;
            for (int i = srcOff + start, end = i + len; i < end; i++) {
                float v = src[i];
                if (Float.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            float s;
            float z;
            if (symmetric) {
                s = scaleType.roundUp(Math.max(-min, max) / (mid() - 1));
                z = mid();
            } else {
                s = scaleType.roundUp((float) (((double) max - min) / maxCode()));
                z = s > 0 ? (float) Math.clamp(Math.rint(-min / s), 0, maxCode()) : 0;
            }
            encodeGroup(src, srcOff + start, len, g, s, z, dst, offset);
        }
    }

    /**
     * Encodes a row with caller-chosen parameters, one per group ({@link #groups}): {@code scales[k]}
     * and, for asymmetric formats, {@code zeros[k]} (null when symmetric). Both are stored in the
     * scale type and the codes, {@code clamp(round(x / s + z))}, are computed from the stored values.
     * A per-tensor scale is the same value in every entry.
     */
    public void encode(float[] src, int srcOff, int n, float[] scales, float[] zeros, MemorySegment dst, long offset) {
        int g = groupLength(n);
        int groups = groups(n);
        if (scales.length < groups || (!symmetric && (zeros == null || zeros.length < groups))) {
            throw new JQuantException(name() + ": a row of " + n + " elements needs " + groups + " scales"
                    + (symmetric ? "" : " and zero points"));
        }
        long gb = groupBytes(g);
        for (int k = 0; k < groups; k++) {
            encodeGroup(src, srcOff + k * g, Math.min(g, n - k * g), g, scales[k], symmetric ? mid() : zeros[k],
                    dst, offset + k * gb);
        }
    }

    /** Writes one group of {@code len} elements, padded with zeros to {@code stored} codes. */
    private void encodeGroup(float[] src, int from, int len, int stored, float scale, float zero,
                             MemorySegment dst, long group) {
        float s = scaleType.write(dst, group, scale);
        float z = symmetric ? mid() : scaleType.write(dst, group + scaleType.bytes(), zero);
        long at = group + headerBytes();
        long buffer = 0;
        int buffered = 0;
        for (int i = 0; i < stored; i++) {
            float v = i < len ? src[from + i] : 0;
            double t = s != 0 && !Float.isNaN(v) ? (double) v / s : 0;
            long u = (long) Math.clamp(Math.rint(t + z), 0, maxCode());
            buffer |= u << buffered;
            buffered += bits;
            while (buffered >= 8) {
                GgmlMath.putByte(dst, at++, (int) buffer);
                buffer >>>= 8;
                buffered -= 8;
            }
        }
        if (buffered > 0) {
            GgmlMath.putByte(dst, at, (int) buffer);
        }
    }

    /**
     * Per group {@code s * (sum c_i x_i + (mid - z) * sum x_i)} with the signed codes
     * {@code c = u - mid}: codes are unpacked a chunk at a time into signed bytes (8-bit codes are
     * copied as they lie) and multiplied by vector FMA.
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        int g = groupLength(n);
        long gb = groupBytes(g);
        if (bits == 4 && g > 0 && g % 32 == 0 && n % g == 0) {
            return dot4(w, offset, x, xOff, n, g, gb);
        }
        byte[] c = new byte[Math.min(CHUNK, Math.max(g, 1))];
        byte[] packed = new byte[c.length];
        Bits in = new Bits(w);
        // Lanes are summed once per row, not once per group: a reduction costs as much as a group of 32.
        FloatVector acc = FloatVector.zero(FS);
        float tails = 0;
        for (int start = 0; start < n; start += g, offset += gb) {
            int len = Math.min(g, n - start);
            float s = scaleType.read(w, offset);
            float shift = mid() - zero(w, offset);
            in.reset(offset + headerBytes());
            FloatVector cx = FloatVector.zero(FS);
            FloatVector sx = FloatVector.zero(FS);
            float tail = 0;
            for (int chunk = 0; chunk < len; chunk += CHUNK) {
                int clen = Math.min(CHUNK, len - chunk);
                unpack(w, in, c, packed, clen);
                int xo = xOff + start + chunk;
                int k = 0;
                for (int upper = clen - BS.length(); k <= upper; k += BS.length()) {
                    cx = BlockDot.fmaBytes(ByteVector.fromArray(BS, c, k), x, xo + k, cx);
                    if (shift != 0) {
                        sx = BlockDot.addFloats(x, xo + k, BS.length(), sx);
                    }
                }
                for (; k < clen; k++) {
                    tail += (c[k] + shift) * x[xo + k];
                }
            }
            acc = cx.fma(FloatVector.broadcast(FS, s), acc);
            if (shift != 0) {
                acc = sx.fma(FloatVector.broadcast(FS, s * shift), acc);
            }
            tails += s * tail;
        }
        return acc.reduceLanes(VectorOperators.ADD) + tails;
    }

    /**
     * The 4-bit kernel for whole groups of a multiple of 32: 16 packed bytes widened to 16-bit lanes,
     * each lane rebuilt as {@code (v & 0x0F) | (v & 0xF0) << 4}, put the 32 codes one per byte in
     * element order (low nibble first), with no scalar unpacking.
     */
    private float dot4(MemorySegment w, long offset, float[] x, int xOff, int n, int g, long gb) {
        FloatVector acc = FloatVector.zero(FS);
        for (int start = 0; start < n; start += g, offset += gb) {
            float s = scaleType.read(w, offset);
            float shift = mid() - zero(w, offset);
            long codes = offset + headerBytes();
            FloatVector cx = FloatVector.zero(FS);
            FloatVector sx = FloatVector.zero(FS);
            for (int k = 0; k < g; k += 32) {
                ByteVector packed = ByteVector.fromMemorySegment(B128, w, codes + k / 2, ByteOrder.LITTLE_ENDIAN);
                ShortVector v = (ShortVector) packed.convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                ByteVector q = v.and((short) 0x0F).or(v.and((short) 0xF0).lanewise(VectorOperators.LSHL, 4))
                        .reinterpretAsBytes().sub((byte) 8);
                cx = BlockDot.fmaBytes(q, x, xOff + start + k, cx);
                if (shift != 0) {
                    sx = BlockDot.addFloats(x, xOff + start + k, 32, sx);
                }
            }
            acc = cx.fma(FloatVector.broadcast(FS, s), acc);
            if (shift != 0) {
                acc = sx.fma(FloatVector.broadcast(FS, s * shift), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The next {@code len} codes as signed bytes {@code u - mid}. Widths that divide 8 (2, 4, 8) start
     * every chunk on a byte and are unpacked a whole byte at a time; the others stream bit by bit.
     */
    private void unpack(MemorySegment w, Bits in, byte[] c, byte[] packed, int len) {
        int mid = mid();
        if (8 % bits != 0) {
            for (int k = 0; k < len; k++) {
                c[k] = (byte) (in.next(bits) - mid);
            }
            return;
        }
        int perByte = 8 / bits;
        int nBytes = Math.ceilDiv(len, perByte);
        int mask = (1 << bits) - 1;
        // One bulk copy, then array reads: a bounds-checked segment read per byte cost ~3 ns a code.
        MemorySegment.copy(w, ValueLayout.JAVA_BYTE, in.at, packed, 0, nBytes);
        in.at += nBytes;
        int whole = len / perByte; // bytes whose codes all belong to this chunk: a loop C2 compiles tightly
        if (bits == 4) {
            for (int b = 0; b < whole; b++) {
                c[2 * b] = (byte) ((packed[b] & 0xF) - mid);
                c[2 * b + 1] = (byte) (((packed[b] >>> 4) & 0xF) - mid);
            }
        } else if (bits == 2) {
            for (int b = 0; b < whole; b++) {
                for (int p = 0; p < 4; p++) {
                    c[4 * b + p] = (byte) (((packed[b] >>> (2 * p)) & 3) - mid);
                }
            }
        } else {
            for (int b = 0; b < whole; b++) {
                c[b] = (byte) ((packed[b] & 0xFF) - mid);
            }
        }
        for (int k = whole * perByte; k < len; k++) {
            c[k] = (byte) (((packed[k / perByte] >>> ((k % perByte) * bits)) & mask) - mid);
        }
    }

    /** Reads codes LSB first from a byte stream. */
    private static final class Bits {
        private final MemorySegment s;
        long at;
        private long buffer;
        private int buffered;

        Bits(MemorySegment s) {
            this.s = s;
        }

        void reset(long at) {
            this.at = at;
            buffer = 0;
            buffered = 0;
        }

        int next(int bits) {
            while (buffered < bits) {
                buffer |= (long) GgmlMath.getByte(s, at++) << buffered;
                buffered += 8;
            }
            int v = (int) (buffer & ((1L << bits) - 1));
            buffer >>>= bits;
            buffered -= bits;
            return v;
        }
    }
}
