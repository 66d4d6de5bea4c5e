package dev.jquant.train.qat;

import dev.jquant.format.IntFormat;
import dev.jquant.tensor.Tensor;
import dev.jquant.train.Parameters;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Learned step size quantization (LSQ, Esser et al. 2019) for integer formats: each group's scale
 * {@code s} is a trainable parameter, initialised from the format's round-to-nearest scale, and the
 * forward pass sees {@code w' = s (clamp(round(w/s + z), 0, 2^b - 1) - z)} with the group's zero point z
 * fixed at its round-to-nearest value. Gradients: to w, straight through where the code is not clipped
 * and zero where it is; to s, {@code round(v) - v} (v = w/s + z) where not clipped and the clipped code
 * minus z where clipped, summed over the group and multiplied by LSQ's gradient scale
 * {@code 1/sqrt(numel * Qp)}, numel the weights sharing the scale and Qp the largest positive code
 * ({@code 2^(b-1) - 1} symmetric, {@code 2^b - 1} with a zero point).
 *
 * <p>Step sizes live in the trained parameters under {@code <weight>.lsq_scale} {@code [rows, groups]}.
 * The forward pass rounds them to the format's scale type, so it sees what the file will store. The
 * trainer's AdamW normalizes each parameter's update, so the gradient scale mostly matters for the
 * global-norm clipping; it is kept as the paper defines it.
 */
public final class LsqQuantizer implements UnaryOperator<Parameters> {
    /** The step sizes' name suffix beside each weight. */
    public static final String SUFFIX = ".lsq_scale";

    private final Map<String, IntFormat> formats;
    private final Map<String, float[]> zeros = new LinkedHashMap<>();
    private final Parameters scales;

    /** Step sizes (and zero points) from round-to-nearest on {@code weights} for each named matrix. */
    public LsqQuantizer(Map<String, IntFormat> formats, Parameters weights) {
        this.formats = new LinkedHashMap<>(formats);
        Map<String, float[]> s = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (var e : this.formats.entrySet()) {
            String name = e.getKey();
            IntFormat f = e.getValue();
            long[] shape = weights.shape(name);
            int rows = (int) shape[0];
            int cols = (int) shape[1];
            int groups = f.groups(cols);
            float[] scale = new float[rows * groups];
            float[] zero = new float[rows * groups];
            initFromRoundToNearest(weights.get(name), rows, cols, f, scale, zero);
            s.put(name + SUFFIX, scale);
            shapes.put(name + SUFFIX, new long[] {rows, groups});
            zeros.put(name, zero);
        }
        this.scales = Parameters.of(weights.config(), s, shapes);
    }

    /** The scale and zero point the format's own encoder picks, read back from an encoded row. */
    private static void initFromRoundToNearest(float[] w, int rows, int cols, IntFormat f, float[] scale, float[] zero) {
        int groups = f.groups(cols);
        long rowBytes = f.rowBytes(cols);
        long groupBytes = rowBytes / groups;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(rowBytes);
            for (int r = 0; r < rows; r++) {
                f.encode(w, r * cols, cols, row, 0);
                for (int k = 0; k < groups; k++) {
                    scale[r * groups + k] = f.scaleType().read(row, k * groupBytes);
                    zero[r * groups + k] = f.symmetric() ? 1 << (f.bits() - 1)
                            : f.scaleType().read(row, k * groupBytes + f.scaleType().bytes());
                }
            }
        }
    }

    /** The trainable step sizes (add them to the trained parameters). */
    public Parameters scales() {
        return scales;
    }

    /** Zero points of a weight's groups, {@code [rows * groups]}. */
    public float[] zeros(String weight) {
        return zeros.get(weight).clone();
    }

    public Map<String, IntFormat> formats() {
        return java.util.Collections.unmodifiableMap(formats);
    }

    /** Step sizes are kept at least this large: an optimizer step must not turn one to zero or negative. */
    private static final float MIN_STEP = 1e-6f;

    /** The step size as the format stores it (rounded to its scale type). */
    private static float stored(IntFormat f, float s, MemorySegment tmp) {
        return f.scaleType().write(tmp, 0, Math.max(s, MIN_STEP));
    }

    /** The forward weights: every planned matrix fake-quantized with its current step sizes, the rest as they are. */
    @Override
    public Parameters apply(Parameters p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(8);
            return p.map((name, w) -> {
                IntFormat f = formats.get(name);
                if (f == null) {
                    return w;
                }
                long[] shape = p.shape(name);
                int rows = (int) shape[0];
                int cols = (int) shape[1];
                int groups = f.groups(cols);
                int g = f.groupSize() == IntFormat.ROW ? cols : f.groupSize();
                float[] s = p.get(name + SUFFIX);
                float[] z = zeros.get(name);
                int max = (1 << f.bits()) - 1;
                float[] out = new float[w.length];
                for (int r = 0; r < rows; r++) {
                    for (int k = 0; k < groups; k++) {
                        float step = stored(f, s[r * groups + k], tmp);
                        float zero = z[r * groups + k];
                        for (int c = k * g, end = Math.min(cols, c + g); c < end; c++) {
                            int i = r * cols + c;
                            double u = step != 0 ? Math.clamp(Math.rint((double) w[i] / step + zero), 0, max) : zero;
                            out[i] = (float) (step * (u - zero));
                        }
                    }
                }
                return out;
            });
        }
    }

    /**
     * Turns the gradient of the forward weights (in {@code grads} under the weights' names) into LSQ's
     * gradients: masked where the code was clipped, and the step sizes' gradients added.
     */
    public void backward(Parameters p, Parameters grads) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(8);
            for (var e : formats.entrySet()) {
                String name = e.getKey();
                IntFormat f = e.getValue();
                long[] shape = p.shape(name);
                int rows = (int) shape[0];
                int cols = (int) shape[1];
                int groups = f.groups(cols);
                int g = f.groupSize() == IntFormat.ROW ? cols : f.groupSize();
                float[] w = p.get(name);
                float[] s = p.get(name + SUFFIX);
                float[] z = zeros.get(name);
                float[] dw = grads.get(name);
                float[] ds = grads.get(name + SUFFIX);
                int max = (1 << f.bits()) - 1;
                int qp = f.symmetric() ? (1 << (f.bits() - 1)) - 1 : max;
                for (int r = 0; r < rows; r++) {
                    for (int k = 0; k < groups; k++) {
                        float step = stored(f, s[r * groups + k], tmp);
                        float zero = z[r * groups + k];
                        int from = k * g;
                        int end = Math.min(cols, from + g);
                        double scale = 1 / Math.sqrt((double) (end - from) * qp);
                        double sum = 0;
                        for (int c = from; c < end && step != 0; c++) {
                            int i = r * cols + c;
                            double v = (double) w[i] / step + zero;
                            double dStep;
                            if (v < 0 || v > max) {
                                dStep = (v < 0 ? 0 : max) - zero;
                                sum += dStep * dw[i];
                                dw[i] = 0; // clipped: no gradient to the weight
                            } else {
                                sum += (Math.rint(v) - v) * dw[i];
                            }
                        }
                        ds[r * groups + k] += (float) (sum * scale);
                    }
                }
            }
        }
    }

    /** The weight as the quantized file stores it: every row encoded with its learned step sizes and zero points. */
    public Tensor encode(String name, Parameters p, Arena arena) {
        IntFormat f = formats.get(name);
        long[] shape = p.shape(name);
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        int groups = f.groups(cols);
        long rowBytes = f.rowBytes(cols);
        MemorySegment seg = arena.allocate(rows * rowBytes, 64);
        float[] w = p.get(name);
        float[] s = p.get(name + SUFFIX);
        float[] z = zeros.get(name);
        for (int r = 0; r < rows; r++) {
            float[] rowScales = new float[groups];
            for (int k = 0; k < groups; k++) {
                rowScales[k] = Math.max(s[r * groups + k], MIN_STEP);
            }
            f.encode(w, r * cols, cols, rowScales,
                    f.symmetric() ? null : java.util.Arrays.copyOfRange(z, r * groups, (r + 1) * groups), seg, r * rowBytes);
        }
        return new Tensor(name, f, shape, seg);
    }
}
