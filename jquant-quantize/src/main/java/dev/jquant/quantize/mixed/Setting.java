package dev.jquant.quantize.mixed;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.IntFormat;
import dev.jquant.quantize.hqq.Hqq;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;

import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * One way to quantize a tensor without calibration: a method ({@code rtn}: the format's own
 * round-to-nearest encoder; {@code hqq}: {@link Hqq} zero points, asymmetric integer formats only)
 * and a target format. The candidates of the sensitivity search and the entries of a recipe.
 */
public record Setting(String method, Format format) {

    public Setting {
        method = method.toLowerCase(Locale.ROOT);
        if (!method.equals("rtn") && !method.equals("hqq")) {
            throw new JQuantException("unknown per-tensor method '" + method + "' (known: rtn, hqq)");
        }
        if (method.equals("hqq") && !(format instanceof IntFormat f && !f.symmetric())) {
            throw new JQuantException("hqq needs an asymmetric integer format, not " + format.name());
        }
    }

    public Tensor apply(Tensor t, Arena arena) {
        return method.equals("hqq") ? Hqq.DEFAULT.quantize(t, (IntFormat) format, arena)
                : TensorConverter.convert(t, format, arena);
    }

    /** Bytes {@code t} takes in this setting's format. */
    public long bytes(Tensor t) {
        return Tensor.byteSize(format, t.shape());
    }

    public String label() {
        return method + ":" + format.name();
    }
}
