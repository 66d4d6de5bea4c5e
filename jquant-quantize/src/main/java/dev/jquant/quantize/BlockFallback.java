package dev.jquant.quantize;

import dev.jquant.format.F16;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;

import java.util.Map;

/**
 * What to store a matrix in when its rows are not a whole number of the chosen format's blocks
 * (stories260K's ffn_down has 172 columns): llama.cpp's rule, so files match what llama-quantize
 * writes — a 256-block k-quant falls back to a 32-block type of similar precision, and anything
 * that still does not fit is stored as F16.
 */
public final class BlockFallback {
    private static final Map<String, String> SMALLER_BLOCK = Map.of(
            "Q2_K", "IQ4_NL", "Q3_K", "IQ4_NL", "IQ4_XS", "IQ4_NL",
            "Q4_K", "Q5_0", "Q5_K", "Q5_1", "Q6_K", "Q8_0");

    private BlockFallback() {
    }

    /** {@code wanted} when {@code columns} fits its blocks; otherwise the fallback that does. */
    public static Format forColumns(Format wanted, long columns) {
        if (fits(wanted, columns)) {
            return wanted;
        }
        String smaller = SMALLER_BLOCK.get(wanted.name());
        if (smaller != null) {
            Format f = Formats.byName(smaller);
            if (fits(f, columns)) {
                return f;
            }
        }
        return F16.INSTANCE;
    }

    public static boolean fits(Format f, long columns) {
        try {
            f.rowBytes(columns);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
