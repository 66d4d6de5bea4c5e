package dev.jquant.format;

import dev.jquant.JQuantException;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    /** Shorts and bytes of the float vectors' shape: a step of codes fills two float vectors. */
    private static final VectorSpecies<Short> SS = FS.withLanes(short.class);
    private static final VectorSpecies<Byte> BYTES = FS.withLanes(byte.class);
    /** Codes per step of the vector kernels, one per 16-bit lane: a multiple of 8, so a step is whole bytes at any width. */
    private static final int UNIT = SS.length();

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

    /**
     * Steps of {@link #UNIT} codes by vector ({@link #codes}; a group's ragged end by one more step
     * on masked loads and stores), then {@code s * (u - z)} in the scalar's order of operations (no
     * fused multiply-add), so the result equals {@link #decodeScalar} bit for bit.
     */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        // Fields in locals: C2 reloads a field after every segment access, and redoes what depends on it.
        int bits = this.bits;
        ScaleType type = scaleType;
        boolean asym = !symmetric;
        int header = headerBytes();
        int g = groupLength(n);
        long gb = groupBytes(g);
        int step = UNIT * bits / 8;
        int mask = maxCode();
        int mid = mid();
        int fl = FS.length();
        for (int start = 0; start < n; start += g, offset += gb) {
            int len = Math.min(g, n - start);
            float s = type.read(src, offset);
            float z = asym ? type.read(src, offset + type.bytes()) : mid;
            FloatVector sv = FloatVector.broadcast(FS, s);
            FloatVector zv = FloatVector.broadcast(FS, z);
            long at = offset + header;
            int k = 0;
            for (; k <= len - UNIT; k += UNIT, at += step) {
                IntVector v = codes(src, at, bits, step);
                int i = dstOff + start + k;
                ((FloatVector) v.and(mask).convert(VectorOperators.I2F, 0)).sub(zv).mul(sv).intoArray(dst, i);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(mask).convert(VectorOperators.I2F, 0))
                        .sub(zv).mul(sv).intoArray(dst, i + fl);
            }
            if (k < len) {
                decodeEnd(src, at, bits, s, z, dst, dstOff + start + k, len - k);
            }
        }
    }

    /**
     * A group's ragged end, the {@code left < UNIT} codes from byte {@code at} on: one step on masked
     * loads and stores. Out of line, as {@link #dotEnd}.
     */
    private static void decodeEnd(MemorySegment src, long at, int bits, float s, float z, float[] dst, int i, int left) {
        IntVector v = codes(src, at, bits, Math.ceilDiv(left * bits, 8));
        FloatVector sv = FloatVector.broadcast(FS, s);
        FloatVector zv = FloatVector.broadcast(FS, z);
        int mask = (1 << bits) - 1;
        int fl = FS.length();
        ((FloatVector) v.and(mask).convert(VectorOperators.I2F, 0)).sub(zv).mul(sv)
                .intoArray(dst, i, FS.indexInRange(0, left));
        ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(mask).convert(VectorOperators.I2F, 0))
                .sub(zv).mul(sv).intoArray(dst, i + fl, FS.indexInRange(fl, left));
    }

    /** One code at a time: the specification of {@link #decode} and {@link #dot}. */
    @Override
    public void decodeScalar(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
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
     * {@code c = u - mid}: whole steps of {@link #UNIT} codes by vector ({@link #codes}), converted to
     * floats and multiplied by vector FMA; a group's last {@code len % UNIT} codes in one masked step
     * ({@link #dotEnd}).
     */
    @Override
    public float dot(MemorySegment w, long offset, float[] x, int xOff, int n) {
        // Fields in locals: C2 reloads a field after every segment access, and redoes what depends on it.
        int bits = this.bits;
        ScaleType type = scaleType;
        boolean asym = !symmetric;
        int header = headerBytes();
        int g = groupLength(n);
        long gb = groupBytes(g);
        int step = UNIT * bits / 8;
        int mask = maxCode();
        int mid = mid();
        int fl = FS.length();
        // Lanes are summed once per row, not once per group: a reduction costs as much as a step.
        FloatVector acc = FloatVector.zero(FS);
        float tails = 0;
        for (int start = 0; start < n; start += g, offset += gb) {
            int len = Math.min(g, n - start);
            float s = type.read(w, offset);
            float shift = asym ? mid - type.read(w, offset + type.bytes()) : 0;
            long at = offset + header;
            // two sums of c x: the two halves of a step do not wait on each other's FMA
            FloatVector lo = FloatVector.zero(FS);
            FloatVector hi = FloatVector.zero(FS);
            FloatVector sx = FloatVector.zero(FS);
            int k = 0;
            for (; k <= len - UNIT; k += UNIT, at += step) {
                IntVector v = codes(w, at, bits, step);
                int i = xOff + start + k;
                FloatVector x0 = FloatVector.fromArray(FS, x, i);
                FloatVector x1 = FloatVector.fromArray(FS, x, i + fl);
                lo = ((FloatVector) v.and(mask).sub(mid).convert(VectorOperators.I2F, 0)).fma(x0, lo);
                hi = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(mask).sub(mid)
                        .convert(VectorOperators.I2F, 0)).fma(x1, hi);
                if (asym) {
                    sx = sx.add(x0.add(x1));
                }
            }
            if (k < len) {
                tails += s * dotEnd(w, at, bits, x, xOff + start + k, len - k, mid - shift);
            }
            acc = lo.add(hi).fma(FloatVector.broadcast(FS, s), acc);
            if (asym) {
                acc = sx.fma(FloatVector.broadcast(FS, s * shift), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) + tails;
    }

    /**
     * {@code sum (u - z) x} over a group's ragged end, the {@code left < UNIT} codes from byte
     * {@code at} on: one step on masked loads, x read as 0 past them. Kept out of line by a
     * CompileCommand (see BlockDot): a second step inside {@link #dot} took it past C2's node budget,
     * and {@link #codes} was left out of line, its vectors boxed.
     */
    private static float dotEnd(MemorySegment w, long at, int bits, float[] x, int xo, int left, float z) {
        IntVector v = codes(w, at, bits, Math.ceilDiv(left * bits, 8));
        int mask = (1 << bits) - 1;
        int fl = FS.length();
        FloatVector zv = FloatVector.broadcast(FS, z);
        FloatVector sum = ((FloatVector) v.and(mask).convert(VectorOperators.I2F, 0)).sub(zv)
                .mul(FloatVector.fromArray(FS, x, xo, FS.indexInRange(0, left)));
        sum = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(mask).convert(VectorOperators.I2F, 0)).sub(zv)
                .fma(FloatVector.fromArray(FS, x, xo + fl, FS.indexInRange(fl, left)), sum);
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The {@link #UNIT} codes packed from byte {@code at} on, two per 32-bit lane: code {@code j} in
     * bits 0..15 of lane {@code j}, code {@code j + UNIT/2} in bits 16..31, each with higher code bits
     * above it for the caller to mask off. The step's bytes are loaded (no byte past them: a row may
     * end there), each 16-bit lane gets the two bytes its code starts in and is shifted right by the
     * code's bit offset in them (a code of up to 8 bits starting at bit 0..7 lies within those 16).
     * Everything but the load and the last two operations depends only on {@code bits}: C2 hoists it
     * out of the caller's loop.
     */
    private static IntVector codes(MemorySegment w, long at, int bits, int bytes) {
        ShortVector lane = ShortVector.zero(SS).addIndex(1);
        ShortVector code = lane.lanewise(VectorOperators.LSHR, 1).add(lane.and((short) 1).mul((short) (UNIT / 2)));
        ShortVector bit = code.mul((short) bits);
        // bytes bit/8 and bit/8 + 1 into the low and high byte of the lane
        VectorShuffle<Byte> spread = bit.lanewise(VectorOperators.LSHR, 3).mul((short) 0x0101).add((short) 0x0100)
                .reinterpretAsBytes().toShuffle();
        return ByteVector.fromMemorySegment(BYTES, w, at, ByteOrder.LITTLE_ENDIAN, BYTES.indexInRange(0, bytes))
                .rearrange(spread).reinterpretAsShorts().lanewise(VectorOperators.LSHR, bit.and((short) 7))
                .reinterpretAsInts();
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
