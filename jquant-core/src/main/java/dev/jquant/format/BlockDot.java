package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Vector building blocks for the block formats' dot products, and the dot product shared by
 * formats without a kernel of their own: decode one chunk of blocks into a small scratch buffer,
 * then multiply it with the activations by vector FMA.
 *
 * <p>Inlining: a helper that takes or returns a vector must be inlined into its kernel, or C2 boxes
 * the vector on every call and the kernel runs ~20x slower. C2 inlines a 75-byte helper only at call
 * sites it considers hot, and after a recompilation (a second format reaching the same matvec loop)
 * it sometimes does not ("callee is too large"). The jquant launcher, the surefire argLine and the
 * JMH forks therefore pass {@code -XX:CompileCommand=inline,...} for these helpers (this class,
 * {@link Nibbles}, and the few per-format ones: see {@code jquant.jvm.flags} in the parent pom);
 * embedders should pass the same flags.
 *
 * <p>The same flags keep every format's {@code dot} out of line ({@code dontinline,...::dot}): a
 * model mixes formats (Q4_0 layers, a Q6_K output), so the matrix-vector loop's call is bimorphic,
 * and C2 inlining both dots into the loop ran out of nodes ("NodeCountInliningCutoff") and left a
 * vector helper out of line: Q4_0 decode of a 1B model ran at 3.4 tokens/s on one core instead of
 * 11. Compiled on its own, each dot is one small compilation unit; the call costs ~1 ns per row.
 */
final class BlockDot {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Bytes with at least as many lanes as {@link #FS} (and at least 8, the smallest byte vector). */
    static final VectorSpecies<Byte> BS = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.max(64, 8 * FS.length())));
    /** Ints with as many lanes as {@link #FS}: the accumulators of the integer kernels. */
    static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    /** 16 bytes: the packed nibbles of one 32-element block. */
    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    /** Elements decoded at a time: one 256-element super-block, a whole number of blocks of every format. */
    private static final int CHUNK = 256;

    private BlockDot() {
    }

    /**
     * {@code q >>> n} on byte lanes, done on 32-bit lanes (x86 has no byte shift, and C2's byte shift
     * widens and narrows): bits of the neighbouring byte land in each byte's top {@code n} bits, so
     * callers mask them off, as every nibble or bit-field extraction does anyway.
     */
    static ByteVector shr(ByteVector q, int n) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes();
    }

    /** The high nibbles of {@code q}, 0..15. */
    static ByteVector highNibbles(ByteVector q) {
        return shr(q, 4).and((byte) 0x0F);
    }

    /** {@code q << n} on byte lanes whose values fit in {@code 8 - n} bits (nothing crosses into the next byte). */
    static ByteVector shlMasked(ByteVector q, int n) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes();
    }

    /**
     * {@code acc + sum_k q[k] * x[xo + k]} over all lanes of {@code q} (signed bytes), converted to
     * floats {@link #FS}{@code .length()} at a time.
     */
    static FloatVector fmaBytes(ByteVector q, float[] x, int xo, FloatVector acc) {
        int fl = FS.length();
        for (int p = 0, parts = q.length() / fl; p < parts; p++) {
            FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, FS, p);
            acc = qf.fma(FloatVector.fromArray(FS, x, xo + p * fl), acc);
        }
        return acc;
    }

    /**
     * {@code acc + a * b} lane by lane in 32-bit integers for 16 signed bytes each ({@link #B128}):
     * widened to 16 bits for the multiply (a product of two bytes fits), then to 32.
     */
    static IntVector mulAddBytes(ByteVector a, ByteVector b, IntVector acc) {
        ShortVector prod = ((ShortVector) a.convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0))
                .mul((ShortVector) b.convertShape(VectorOperators.B2S, ShortVector.SPECIES_256, 0));
        for (int p = 0, parts = 16 / IS.length(); p < parts; p++) {
            acc = acc.add((IntVector) prod.convertShape(VectorOperators.S2I, IS, p));
        }
        return acc;
    }

    /** {@code acc + sum(lanes of ints) * scale}, keeping the lanes apart until the final reduction. */
    static FloatVector fmaInts(IntVector ints, float scale, FloatVector acc) {
        return ((FloatVector) ints.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FS, scale), acc);
    }

    /**
     * {@code acc + sum_k (q[k] * scale + offset) * x[xo + k]} over all lanes of {@code q} (signed
     * bytes): a sub-block whose weights are an affine function of its quants.
     */
    static FloatVector fmaBytesAffine(ByteVector q, float scale, float offset, float[] x, int xo, FloatVector acc) {
        FloatVector s = FloatVector.broadcast(FS, scale);
        FloatVector o = FloatVector.broadcast(FS, offset);
        int fl = FS.length();
        for (int p = 0, parts = q.length() / fl; p < parts; p++) {
            FloatVector wv = ((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).fma(s, o);
            acc = wv.fma(FloatVector.fromArray(FS, x, xo + p * fl), acc);
        }
        return acc;
    }

    /** {@code dst[off + k] = q[k] * scale} for every lane of {@code q} (signed bytes): vectorised block decoding. */
    static void storeBytes(ByteVector q, float scale, float[] dst, int off) {
        FloatVector s = FloatVector.broadcast(FS, scale);
        int fl = FS.length();
        for (int p = 0, parts = q.length() / fl; p < parts; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).mul(s).intoArray(dst, off + p * fl);
        }
    }

    /**
     * {@code dst[off + k] = q[k] * scale + offset} for every lane of {@code q} (signed bytes), rounded
     * after the multiply and after the add, as the scalar decoders do (no fused multiply-add).
     */
    static void storeBytesAffine(ByteVector q, float scale, float offset, float[] dst, int off) {
        FloatVector s = FloatVector.broadcast(FS, scale);
        FloatVector o = FloatVector.broadcast(FS, offset);
        int fl = FS.length();
        for (int p = 0, parts = q.length() / fl; p < parts; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, FS, p)).mul(s).add(o).intoArray(dst, off + p * fl);
        }
    }

    /** {@code acc + sum x[xo..xo+len)}, len a multiple of {@link #FS}{@code .length()}. */
    static FloatVector addFloats(float[] x, int xo, int len, FloatVector acc) {
        for (int k = 0; k < len; k += FS.length()) {
            acc = acc.add(FloatVector.fromArray(FS, x, xo + k));
        }
        return acc;
    }

    /** The dot product of a format without a kernel of its own (see the class comment). */
    static float viaDecode(Format format, MemorySegment w, long offset, float[] x, int xOff, int n) {
        GgmlMath.blocks(format, n);
        float[] buf = new float[Math.min(CHUNK, n)];
        long chunkBytes = format.rowBytes(buf.length);
        FloatVector acc = FloatVector.zero(FS);
        float tail = 0;
        for (int start = 0; start < n; start += CHUNK, offset += chunkBytes) {
            int len = Math.min(CHUNK, n - start);
            format.decode(w, offset, buf, 0, len);
            int i = 0;
            for (int upper = FS.loopBound(len); i < upper; i += FS.length()) {
                acc = FloatVector.fromArray(FS, buf, i).fma(FloatVector.fromArray(FS, x, xOff + start + i), acc);
            }
            for (; i < len; i++) {
                tail += buf[i] * x[xOff + start + i];
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) + tail;
    }
}
