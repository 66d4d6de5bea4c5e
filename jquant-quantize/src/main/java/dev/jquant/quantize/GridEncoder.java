package dev.jquant.quantize;

import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;

/**
 * One matrix being quantized on a {@link WeightGrid}: the scales of each group of {@link #group()}
 * columns of a row are fixed by {@link #fit}, then every element is rounded onto that group's grid
 * by {@link #round}, in any order and as often as the method likes (the last call wins). Distinct
 * rows may be worked on from different threads.
 */
public interface GridEncoder {

    /** Columns that share one set of scales (a format block, or the integer grid's group). */
    int group();

    /** Fixes the scales of the group of row {@code row} that starts at column {@code col0} from {@code values[col0..]}, the row's current values. */
    void fit(int row, float[] values, int col0);

    /** Rounds {@code v} onto the fixed grid of element ({@code row}, {@code col}), records it, and returns its quantized value. */
    float round(int row, int col, float v);

    /** The stored tensor holding everything rounded so far. */
    Tensor finish(String name, Arena arena);
}
