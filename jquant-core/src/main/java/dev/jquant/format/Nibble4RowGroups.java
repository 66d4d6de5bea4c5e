package dev.jquant.format;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The 4-bit formats whose every 32 columns map codes affinely, {@code w = S q - M} (Q4_0:
 * {@code S = d, M = 8d}; Q4_1: {@code S = d, M = -m}; Q4_K: {@code S = d sc, M = dmin m} per
 * sub-block), in groups of 32 rows.
 *
 * <p>A group holds first its rows' block headers (scales and offsets, stored block by stored block,
 * each format's own way, see {@link Source}), then for each 32-column block eight 64-byte "quads": 16-bit lane
 * {@code L} of quad {@code k} packs the codes of columns {@code 4k..4k+3} (4 bits each, lowest
 * first) of row {@code L / 2} for even {@code L} and {@code 16 + L / 2} for odd {@code L}.
 *
 * <p>The kernel loads a quad as 16-bit lanes and takes column {@code t}'s codes with a shift by
 * {@code 4t} and a mask (none for the top one), multiplies them by the column's 8-bit activation and
 * adds in 16 bits, into one chain per column of the quad: four independent chains of 8 columns a
 * block, summed in pairs (16 columns of codes 0..15 times 127 stay below 2^15). The lane order makes
 * the widening to 32 bits two shifts: the low halves of the 32-bit lanes are rows 0..15, the high
 * halves rows 16..31. Then per block, in float, {@code S dx sum(q xq) - M dx sum(xq)}, with {@code S}
 * and {@code M} decoded eight blocks at a time.
 */
final class Nibble4RowGroups extends RowGroups {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final int BLOCK = 32;
    private static final int QUAD_BYTES = 64;
    private static final int QUANT_BYTES = 8 * QUAD_BYTES;
    /**
     * Blocks whose {@code S} and {@code M} are decoded at a time: 2 KiB of floats that stay in L1
     * beside the streamed weights, where a whole group's (16 KiB for 2048 columns) did not.
     */
    private static final int CHUNK_BLOCKS = 8;
    /** Per-thread {@code S} and {@code M} of one chunk, block by block, 32 rows each. */
    private static final ThreadLocal<float[][]> AFFINE = ThreadLocal.withInitial(() -> new float[2][0]);

    /**
     * How a stored format lays out a block (its codes; its header, the bytes before them) and maps
     * codes to weights. Each packs the headers of a group's 32 rows for one stored block into its own
     * order, chosen so that decoding them for a group is a few plain loops that C2 vectorises.
     */
    enum Source {
        /** Header: the 32 rows' FP16 {@code d}. */
        Q4_0(dev.jquant.format.Q4_0.INSTANCE, 2, 2) {
            @Override
            void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at) {
                copyHalves(rows, rowBytes, block, out, at);
            }

            @Override
            void affine(MemorySegment header, long at, int units, float[] s, float[] m) {
                scaleAndMultiple(header, at, units, 8, s, m);
            }

            /** ggml's {@code (q - 8) * d}: the same value as {@code d q - 8 d}, but -0.0 where q is 8 and d negative. */
            @Override
            float weight(float s, float m, int q) {
                return (q - 8) * s;
            }
        },
        /** Header: the 32 rows' FP16 {@code d}, then their FP16 {@code m}. */
        Q4_1(dev.jquant.format.Q4_1.INSTANCE, 4, 4) {
            @Override
            void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at) {
                copyHalves(rows, rowBytes, block, out, at);
                copyHalves(rows, rowBytes, block + 2, out, at + 2 * ROWS);
            }

            @Override
            void affine(MemorySegment header, long at, int units, float[] s, float[] m) {
                for (int u = 0; u < units; u++) {
                    for (int half = 0; half < 2; half++) {
                        long h = at + (long) u * ROWS * 4 + 32L * half;
                        F16.toFloats(header, h).intoArray(s, u * ROWS + 16 * half);
                        F16.toFloats(header, h + 2 * ROWS).intoArray(m, u * ROWS + 16 * half);
                    }
                }
                for (int i = 0; i < units * ROWS; i++) {
                    m[i] = -m[i];
                }
            }
        },
        /**
         * 256-element super-blocks of eight 32-column sub-blocks; 64-element chunk {@code j} takes 32
         * bytes, low nibbles first. Header: the 32 rows' FP16 {@code d}, their FP16 {@code dmin}, then
         * per sub-block the rows' 6-bit scales, then per sub-block their 6-bit mins, a byte each (20
         * bytes a row, 4 more than stored: 2.8% of the weight).
         */
        Q4_K(dev.jquant.format.Q4_K.INSTANCE, 20, dev.jquant.format.Q4_K.QS) {
            @Override
            int code(byte[] codes, int at, int e) {
                int b = codes[at + 32 * (e / 64) + (e & 31)] & 0xFF;
                return (e & 32) == 0 ? b & 0xF : b >>> 4;
            }

            @Override
            void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at) {
                copyHalves(rows, rowBytes, block, out, at);
                copyHalves(rows, rowBytes, block + 2, out, at + 2 * ROWS);
                for (int i = 0; i < ROWS; i++) {
                    long sc = KQuants.scalesK4(rows, i * rowBytes + block + 4);
                    long mn = KQuants.minsK4(rows, i * rowBytes + block + 4);
                    for (int j = 0; j < 8; j++) {
                        out[at + 4 * ROWS + j * ROWS + i] = (byte) KQuants.lane(sc, j);
                        out[at + 12 * ROWS + j * ROWS + i] = (byte) KQuants.lane(mn, j);
                    }
                }
            }

            /** ggml's {@code d1 = d * sc, m1 = dmin * m} per sub-block, sixteen rows per vector. */
            @Override
            void affine(MemorySegment header, long at, int units, float[] s, float[] m) {
                for (int u = 0; u < units; u++) {
                    long h = at + (long) u * ROWS * headerBytes;
                    for (int half = 0; half < 2; half++) {
                        FloatVector d = F16.toFloats(header, h + 32L * half);
                        FloatVector dmin = F16.toFloats(header, h + 2 * ROWS + 32L * half);
                        for (int j = 0; j < 8; j++) {
                            int to = (8 * u + j) * ROWS + 16 * half;
                            long sc = h + 4 * ROWS + j * ROWS + 16 * half;
                            ((FloatVector) ByteVector.fromMemorySegment(B128, header, sc, ByteOrder.LITTLE_ENDIAN)
                                    .convertShape(VectorOperators.B2F, F512, 0)).mul(d).intoArray(s, to);
                            ((FloatVector) ByteVector.fromMemorySegment(B128, header, sc + 8 * ROWS, ByteOrder.LITTLE_ENDIAN)
                                    .convertShape(VectorOperators.B2F, F512, 0)).mul(dmin).intoArray(m, to);
                        }
                    }
                }
            }
        };

        final Format format;
        /** Bytes of one row's packed header per stored block. */
        final int headerBytes;
        /** Offset of the codes within a stored block. */
        final int codesAt;

        Source(Format format, int headerBytes, int codesAt) {
            this.format = format;
            this.headerBytes = headerBytes;
            this.codesAt = codesAt;
        }

        /** Elements per stored block. */
        int unit() {
            return format.blockSize();
        }

        /**
         * Code (0..15) of element {@code e} of the stored block whose codes start at {@code codes[at]};
         * ggml's 32-element nibble order: byte j holds element j low and element j + 16 high.
         */
        int code(byte[] codes, int at, int e) {
            int b = codes[at + (e & 15)] & 0xFF;
            return e < 16 ? b & 0xF : b >>> 4;
        }

        /**
         * The headers of the stored block at byte {@code block} of each of 32 rows (row i at
         * {@code i * rowBytes}) into {@code out[at..at + 32 * headerBytes)}.
         */
        abstract void packHeader(MemorySegment rows, long rowBytes, long block, byte[] out, int at);

        /**
         * {@code S} and {@code M} of every 32-column block of a group from its {@code units} packed
         * headers at {@code at}, into {@code s} and {@code m}: block by block, 32 rows each.
         */
        abstract void affine(MemorySegment header, long at, int units, float[] s, float[] m);

        /** The weight of code {@code q} as the stored format decodes it, rounded after each operation. */
        float weight(float s, float m, int q) {
            return s * q - m;
        }

        /**
         * {@code S = d} and {@code M = multiple * d} from headers of the 32 rows' FP16 {@code d} (Q4_0's,
         * and Q5_0's with 16), {@code units} stored blocks at {@code at}.
         */
        static void scaleAndMultiple(MemorySegment header, long at, int units, int multiple, float[] s, float[] m) {
            for (int i = 0; i < units * ROWS; i += 16) {
                FloatVector d = F16.toFloats(header, at + 2L * i);
                d.intoArray(s, i);
                d.mul(multiple).intoArray(m, i);
            }
        }

        /** The FP16 at byte {@code field} of each of 32 rows, one after another into {@code out[at..]}. */
        private static void copyHalves(MemorySegment rows, long rowBytes, long field, byte[] out, int at) {
            for (int i = 0; i < ROWS; i++) {
                out[at + 2 * i] = rows.get(ValueLayout.JAVA_BYTE, i * rowBytes + field);
                out[at + 2 * i + 1] = rows.get(ValueLayout.JAVA_BYTE, i * rowBytes + field + 1);
            }
        }

    }

    private final Source source;
    private final int blocks;
    private final int units;
    /** Blocks per stored block (1, or 8 for Q4_K) and stored blocks per chunk of decoded scales. */
    private final int unitBlocks;
    private final int chunkUnits;
    private final long headerBytes;

    Nibble4RowGroups(Source source, int rows, int cols, Arena arena) {
        long headerBytes = (long) cols / source.unit() * ROWS * source.headerBytes;
        super(rows, cols, headerBytes + (long) cols / BLOCK * QUANT_BYTES, arena);
        this.source = source;
        this.blocks = cols / BLOCK;
        this.units = cols / source.unit();
        this.unitBlocks = source.unit() / BLOCK;
        this.chunkUnits = Math.max(1, CHUNK_BLOCKS / unitBlocks);
        this.headerBytes = headerBytes;
    }

    @Override
    void packGroup(byte[] group, int rowBytes, byte[] out) {
        MemorySegment groupSegment = MemorySegment.ofArray(group);
        int unit = source.unit();
        int blockBytes = source.format.blockBytes();
        for (int u = 0; u < units; u++) {
            source.packHeader(groupSegment, rowBytes, (long) u * blockBytes, out, u * ROWS * source.headerBytes);
        }
        for (int i = 0; i < ROWS; i++) {
            int lane = lane(i);
            for (int u = 0; u < units; u++) {
                int codesAt = i * rowBytes + u * blockBytes + source.codesAt;
                for (int c = 0; c < unit; c += 4) {
                    int codes = 0;
                    for (int t = 0; t < 4; t++) {
                        codes |= source.code(group, codesAt, c + t) << (4 * t);
                    }
                    int column = u * unit + c;
                    int to = (int) headerBytes + (column / BLOCK) * QUANT_BYTES + (column % BLOCK / 4) * QUAD_BYTES + 2 * lane;
                    out[to] = (byte) codes;
                    out[to + 1] = (byte) (codes >>> 8);
                }
            }
        }
    }


    @Override
    public void multiply(Q8Activations x, float[] out, int start, int end) {
        check(x);
        float[][] affine = affineScratch();
        for (int g = start; g < end; g++) {
            long at = g * groupBytes;
            for (int u = 0; u < units; u += chunkUnits) {
                int n = Math.min(chunkUnits, units - u);
                source.affine(data, at + (long) u * ROWS * source.headerBytes, n, affine[0], affine[1]);
                int b0 = u * unitBlocks;
                multiplyBlocks(data, at + headerBytes + (long) b0 * QUANT_BYTES, b0, n * unitBlocks, x.quants, x.scales, x.sums,
                        affine[0], affine[1], out, g * ROWS, u == 0);
            }
        }
    }

    /** This thread's scratch for a chunk's {@code S} and {@code M}. */
    private float[][] affineScratch() {
        int length = chunkUnits * unitBlocks * ROWS;
        float[][] affine = AFFINE.get();
        if (affine[0].length < length) {
            affine = new float[][] {new float[length], new float[length]};
            AFFINE.set(affine);
        }
        return affine;
    }

    /**
     * Adds to the 32 rows at {@code out[r0..]} (or, for the {@code first} chunk, sets them to) the
     * product of blocks {@code b0..b0 + blocks} of the group, whose quads start at {@code q} and whose
     * {@code S} and {@code M} are in {@code s} and {@code m} from index 0; see the class comment.
     */
    private static void multiplyBlocks(MemorySegment data, long q, int b0, int blocks, short[] xq, float[] xScales,
                                       int[] xSums, float[] s, float[] m, float[] out, int r0, boolean first) {
        FloatVector low = first ? FloatVector.zero(F512) : FloatVector.fromArray(F512, out, r0);
        FloatVector high = first ? FloatVector.zero(F512) : FloatVector.fromArray(F512, out, r0 + 16);
        for (int b = 0; b < blocks; b++) {
            // One sum per column of the quads, each over 8 columns: four independent chains in 16 bits.
            // One quad per iteration: eight written out exceed C2's inlining budget and box every
            // vector (BENCHMARKS.md, "What limits the 4-bit decode").
            ShortVector c0 = ShortVector.zero(S512), c1 = c0, c2 = c0, c3 = c0;
            for (int k = 0; k < 8; k++) {
                ShortVector v = ShortVector.fromMemorySegment(S512, data, q + (long) (8 * b + k) * QUAD_BYTES, ByteOrder.LITTLE_ENDIAN);
                int xo = (b0 + b) * BLOCK + 4 * k;
                c0 = c0.add(v.and((short) 0xF).mul(xq[xo]));
                c1 = c1.add(v.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(xq[xo + 1]));
                c2 = c2.add(v.lanewise(VectorOperators.LSHR, 8).and((short) 0xF).mul(xq[xo + 2]));
                c3 = c3.add(v.lanewise(VectorOperators.LSHR, 12).mul(xq[xo + 3]));
            }
            IntVector a = c0.add(c1).reinterpretAsInts();
            IntVector c = c2.add(c3).reinterpretAsInts();
            IntVector lowSums = a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(c.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            IntVector highSums = a.lanewise(VectorOperators.ASHR, 16).add(c.lanewise(VectorOperators.ASHR, 16));
            float d = xScales[b0 + b];
            FloatVector offset = FloatVector.broadcast(F512, -d * xSums[b0 + b]);
            int at = b * ROWS;
            low = ((FloatVector) lowSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, at).mul(d), low);
            low = FloatVector.fromArray(F512, m, at).fma(offset, low);
            high = ((FloatVector) highSums.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F512, s, at + 16).mul(d), high);
            high = FloatVector.fromArray(F512, m, at + 16).fma(offset, high);
        }
        low.intoArray(out, r0);
        high.intoArray(out, r0 + 16);
    }

    /** Row {@code r} as the stored format decodes it. */
    @Override
    public void decodeRow(int r, float[] dst, int dstOff) {
        long at = (long) (r / ROWS) * groupBytes;
        int i = r % ROWS;
        int lane = lane(i);
        float[] s = new float[blocks * ROWS];
        float[] m = new float[blocks * ROWS];
        source.affine(data, at, units, s, m);
        for (int b = 0; b < blocks; b++) {
            for (int k = 0; k < 8; k++) {
                int codes = data.get(F16.LE, at + headerBytes + (long) b * QUANT_BYTES + (long) k * QUAD_BYTES + 2L * lane);
                for (int t = 0; t < 4; t++) {
                    dst[dstOff + b * BLOCK + 4 * k + t] = source.weight(s[b * ROWS + i], m[b * ROWS + i], (codes >>> (4 * t)) & 0xF);
                }
            }
        }
    }

    /**
     * A quad's 32-bit lane i holds row i's codes in its low half and row 16 + i's in its high half,
     * so each column is two shifts and masks away from two vectors of rows in order; then
     * {@code S q - M} rounded after the multiply and after the subtraction, as {@link #decodeRow}.
     */
    @Override
    public void decodeColumns(int g, float[] dst) {
        long at = g * groupBytes;
        float[][] affine = affineScratch();
        float[] s = affine[0];
        float[] m = affine[1];
        long q = at + headerBytes;
        for (int u = 0; u < units; u += chunkUnits) {
            int n = Math.min(chunkUnits, units - u);
            source.affine(data, at + (long) u * ROWS * source.headerBytes, n, s, m);
            for (int i = 0; i < n * unitBlocks; i++) {
                int b = u * unitBlocks + i;
                FloatVector lowScale = FloatVector.fromArray(F512, s, i * ROWS);
                FloatVector highScale = FloatVector.fromArray(F512, s, i * ROWS + 16);
                FloatVector lowOffset = FloatVector.fromArray(F512, m, i * ROWS);
                FloatVector highOffset = FloatVector.fromArray(F512, m, i * ROWS + 16);
                for (int k = 0; k < 8; k++, q += QUAD_BYTES) {
                    IntVector v = IntVector.fromMemorySegment(I512, data, q, ByteOrder.LITTLE_ENDIAN);
                    for (int t = 0; t < 4; t++) {
                        int to = (b * BLOCK + 4 * k + t) * ROWS;
                        FloatVector low = (FloatVector) v.lanewise(VectorOperators.LSHR, 4 * t).and(0xF).convert(VectorOperators.I2F, 0);
                        FloatVector high = (FloatVector) v.lanewise(VectorOperators.LSHR, 16 + 4 * t).and(0xF).convert(VectorOperators.I2F, 0);
                        low.mul(lowScale).sub(lowOffset).intoArray(dst, to);
                        high.mul(highScale).sub(highOffset).intoArray(dst, to + 16);
                    }
                }
            }
        }
    }
}
