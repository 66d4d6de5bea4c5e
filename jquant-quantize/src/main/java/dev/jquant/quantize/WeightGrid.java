package dev.jquant.quantize;

/**
 * The set of values a quantized matrix may take: a storage format's blocks ({@link FormatGrid}) or
 * a uniform integer grid per group ({@link dev.jquant.quantize.rtn.UniformGrid}). Methods choose
 * the values; the grid decides what is representable and how it is stored.
 */
public interface WeightGrid {

    /** A fresh encoder for one {@code rows x cols} matrix whose original values are {@code weights} (row-major). */
    GridEncoder encoder(float[] weights, int rows, int cols);

    /** Short description for tables, e.g. {@code Q4_K} or {@code int4 g128 asym}. */
    String describe();

    /** Bits per weight of the stored result for rows of {@code cols} elements. */
    double bitsPerWeight(int cols);
}
