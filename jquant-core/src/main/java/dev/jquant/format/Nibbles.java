package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.jquant.format.BlockDot.B128;
import static dev.jquant.format.BlockDot.FS;

/**
 * The 4-bit code layout shared by the table formats (NF4, FP4, MXFP4): every 32 elements take 16
 * bytes, element {@code j < 16} in the low nibble of byte {@code j} and element {@code j + 16} in
 * its high nibble (ggml's Q4_0/MXFP4 order). Blocks of 64 are two such groups one after the other.
 */
final class Nibbles {
    static final int GROUP = 32;
    static final int GROUP_BYTES = 16;
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);

    private Nibbles() {
    }

    /** Code of element {@code j} (0..31) of the 16-byte group at {@code qs}. */
    static int get(MemorySegment s, long qs, int j) {
        int b = GgmlMath.getByte(s, qs + (j & 15));
        return j < 16 ? b & 0xF : b >>> 4;
    }

    /** Packs codes {@code q[off..off+32)} into the 16 bytes at {@code qs}. */
    static void put(int[] q, int off, MemorySegment s, long qs) {
        for (int j = 0; j < 16; j++) {
            GgmlMath.putByte(s, qs + j, q[off + j] | q[off + 16 + j] << 4);
        }
    }

    /** {@code acc + sum_j table[q_j] * x[xo + j]} over one 32-element group; the table holds 16 small integers. */
    static FloatVector fmaByteTable(MemorySegment w, long qs, ByteVector table, float[] x, int xo, FloatVector acc) {
        ByteVector q = ByteVector.fromMemorySegment(B128, w, qs, ByteOrder.LITTLE_ENDIAN);
        acc = BlockDot.fmaBytes(q.and((byte) 0xF).selectFrom(table), x, xo, acc);
        return BlockDot.fmaBytes(BlockDot.highNibbles(q).selectFrom(table), x, xo + 16, acc);
    }

    /** A 16-entry float table split into vectors of {@link BlockDot#FS}'s width, for lane-wise lookup. */
    static FloatVector[] floatTable(float[] table) {
        int lanes = FS.length();
        float[] padded = java.util.Arrays.copyOf(table, Math.max(16, lanes));
        FloatVector[] parts = new FloatVector[Math.max(1, 16 / lanes)];
        for (int p = 0; p < parts.length; p++) {
            parts[p] = FloatVector.fromArray(FS, padded, p * lanes);
        }
        return parts;
    }

    /**
     * {@code acc + sum_j table[q_j] * x[xo + j]} over one 32-element group, for any float table. The
     * codes are widened once to int lanes (zero-extended, so the high nibble is a plain shift) and
     * looked up with a lane permute. Kept small on purpose: C2 stops inlining a kernel's vector
     * helpers when its graph grows too large, and an out-of-line helper boxes every vector.
     */
    static FloatVector fmaFloatTable(MemorySegment w, long qs, FloatVector[] table, float[] x, int xo, FloatVector acc) {
        ByteVector q = ByteVector.fromMemorySegment(B128, w, qs, ByteOrder.LITTLE_ENDIAN);
        int lanes = FS.length();
        for (int p = 0, parts = 16 / lanes; p < parts; p++) {
            IntVector codes = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, p);
            acc = lookup(codes.and(0xF), table).fma(FloatVector.fromArray(FS, x, xo + p * lanes), acc);
            acc = lookup(codes.lanewise(VectorOperators.LSHR, 4), table).fma(FloatVector.fromArray(FS, x, xo + 16 + p * lanes), acc);
        }
        return acc;
    }

    /** {@code table[idx]} lane-wise: one permute when the table fits one vector, else each part serves the indexes in its range. */
    private static FloatVector lookup(IntVector idx, FloatVector[] table) {
        if (table.length == 1) {
            return table[0].rearrange(idx.toShuffle().cast(FS));
        }
        int lanes = FS.length();
        var shuffle = idx.and(lanes - 1).toShuffle().cast(FS);
        FloatVector out = table[0].rearrange(shuffle);
        for (int p = 1; p < table.length; p++) {
            VectorMask<Float> inPart = idx.compare(VectorOperators.GE, p * lanes).cast(FS);
            out = out.blend(table[p].rearrange(shuffle), inPart);
        }
        return out;
    }
}
