package dev.jquant.quantize.mixed;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.IntFormat;
import dev.jquant.format.ScaleType;
import dev.jquant.quantize.GridEncoder;
import dev.jquant.quantize.calibrate.RangeObserver;
import dev.jquant.quantize.gptq.Gptq;
import dev.jquant.quantize.gptq.GptqOptions;
import dev.jquant.quantize.rtn.UniformGrid;
import dev.jquant.quantize.hqq.Hqq;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;

import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * One way to quantize a tensor: a method ({@code rtn}: the format's own round-to-nearest encoder;
 * {@code hqq}: {@link Hqq} zero points; {@code gptq}: {@link Gptq} with the Hessian of the tensor's
 * calibration inputs — both on integer formats) and a target format. The candidates of the
 * sensitivity search and the entries of a recipe.
 */
public record Setting(String method, Format format) {

    /** The Hessian {@code XᵀX/n} of a weight's input, by weight name, for {@code gptq} settings. */
    @FunctionalInterface
    public interface Hessians {
        double[] of(String weightName);
    }

    public Setting {
        method = method.toLowerCase(Locale.ROOT);
        if (!method.equals("rtn") && !method.equals("hqq") && !method.equals("gptq")) {
            throw new JQuantException("unknown per-tensor method '" + method + "' (known: rtn, hqq, gptq)");
        }
        if (method.equals("hqq") && !(format instanceof IntFormat f && !f.symmetric())) {
            throw new JQuantException("hqq needs an asymmetric integer format, not " + format.name());
        }
        if (method.equals("gptq") && !(format instanceof IntFormat f && f.scaleType() == ScaleType.F16)) {
            throw new JQuantException("gptq settings need an integer format with F16 scales, not " + format.name());
        }
    }

    /** Quantizes {@code t}; {@code hessians} is needed by gptq settings only (null otherwise). */
    public Tensor apply(Tensor t, Arena arena, Hessians hessians) {
        return switch (method) {
            case "hqq" -> Hqq.DEFAULT.quantize(t, (IntFormat) format, arena);
            case "gptq" -> gptq(t, arena, hessians);
            default -> TensorConverter.convert(t, format, arena);
        };
    }

    private Tensor gptq(Tensor t, Arena arena, Hessians hessians) {
        if (hessians == null) {
            throw new JQuantException("gptq settings need calibration Hessians");
        }
        IntFormat f = (IntFormat) format;
        UniformGrid grid = new UniformGrid(f.bits(), f.groupSize() == IntFormat.ROW ? UniformGrid.PER_CHANNEL : f.groupSize(),
                f.symmetric(), new RangeObserver.MinMax());
        float[] w = t.toFloats();
        GridEncoder encoder = grid.encoder(w, t.rows(), t.cols());
        // Gptq dampens the Hessian in place
        Gptq.quantize(w, t.rows(), t.cols(), hessians.of(t.name()).clone(), encoder, GptqOptions.DEFAULTS);
        return encoder.finish(t.name(), arena);
    }

    /** Bytes {@code t} takes in this setting's format. */
    public long bytes(Tensor t) {
        return Tensor.byteSize(format, t.shape());
    }

    public String label() {
        return method + ":" + format.name();
    }
}
