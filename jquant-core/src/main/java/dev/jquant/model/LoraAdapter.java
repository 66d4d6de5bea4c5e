package dev.jquant.model;

import dev.jquant.JQuantException;
import dev.jquant.kernel.MatMul;
import dev.jquant.kernel.Parallel;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A LoRA adapter (Hu et al. 2021): for each adapted linear weight W {@code [out, in]} two factors
 * A {@code [rank, in]} and B {@code [out, rank]}, so the layer computes {@code y = W x + (alpha/rank) B (A x)}.
 * Factors are keyed by the GGUF weight name and their rows follow the model's own layout (for an
 * adjacent-pair RoPE model, q/k rows of B are in GGUF order; {@code PeftAdapterFiles} converts).
 * The runtime adds the low-rank product after the base product, leaving the base as stored.
 *
 * @param dropout kept for the adapter_config.json; inference ignores it
 */
public record LoraAdapter(int rank, float alpha, float dropout, Set<LoraTarget> targets, Map<String, Factors> factors) {

    /** The two factors of one weight, row-major. */
    public record Factors(float[] a, float[] b, int in, int out) {
        public Factors {
            if (a.length % in != 0 || b.length % out != 0 || a.length / in != b.length / out) {
                throw new JQuantException("LoRA factors of " + a.length + " and " + b.length + " values do not fit [r, "
                        + in + "] and [" + out + ", r]");
            }
        }

        public int rank() {
            return a.length / in;
        }
    }

    public LoraAdapter {
        if (rank < 1) {
            throw new JQuantException("LoRA rank must be at least 1, got " + rank);
        }
        if (!(alpha > 0) || !Float.isFinite(alpha)) {
            throw new JQuantException("LoRA alpha must be a positive number, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new JQuantException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        targets = Collections.unmodifiableSet(targets.isEmpty() ? EnumSet.noneOf(LoraTarget.class) : EnumSet.copyOf(targets));
        factors = Collections.unmodifiableMap(new LinkedHashMap<>(factors));
        for (var e : factors.entrySet()) {
            if (e.getValue().rank() != rank) {
                throw new JQuantException("LoRA factors of " + e.getKey() + " have rank " + e.getValue().rank() + ", not " + rank);
            }
        }
    }

    /** alpha / rank, the factor of the low-rank product. */
    public float scale() {
        return alpha / rank;
    }

    /** Adapter parameters (both factors of every weight). */
    public long parameterCount() {
        return factors.values().stream().mapToLong(f -> (long) f.a().length + f.b().length).sum();
    }

    /** Checks that every target weight of every layer of {@code c} has factors of its shape, and nothing else is there. */
    public void check(ModelConfig c, String source) {
        for (int l = 0; l < c.layers(); l++) {
            for (LoraTarget t : targets) {
                Factors f = factors.get(t.weightName(l));
                if (f == null) {
                    throw new JQuantException(source + ": no LoRA factors for " + t.weightName(l) + " (target "
                            + t.hfModule() + ")");
                }
                int[] shape = t.shape(c);
                if (f.out() != shape[0] || f.in() != shape[1]) {
                    throw new JQuantException(source + ": LoRA factors of " + t.weightName(l) + " are for a [" + f.out()
                            + ", " + f.in() + "] weight, the model's is [" + shape[0] + ", " + shape[1] + "]");
                }
            }
        }
        int expected = c.layers() * targets.size();
        if (factors.size() != expected) {
            throw new JQuantException(source + ": " + factors.size() + " adapted weights, the model has " + expected
                    + " for targets " + targets);
        }
    }

    /**
     * {@code out[t] += scale * B (A x[t])} for {@code n} rows of {@code x}, when {@code weightName} is
     * adapted; does nothing otherwise.
     */
    public void addTo(String weightName, float[] x, int n, float[] out) {
        Factors f = factors.get(weightName);
        if (f == null) {
            return;
        }
        int r = rank;
        int in = f.in();
        int outDim = f.out();
        float s = scale();
        float[] u = new float[n * r];
        Parallel.get().forRange(n, 4, (start, end) -> {
            for (int t = start; t < end; t++) {
                for (int i = 0; i < r; i++) {
                    u[t * r + i] = MatMul.dot(f.a(), i * in, x, t * in, in) * s;
                }
                for (int o = 0; o < outDim; o++) {
                    out[t * outDim + o] += MatMul.dot(f.b(), o * r, u, t * r, r);
                }
            }
        });
    }

    /** {@code scale * B A}, the {@code [out, in]} change the adapter makes to {@code weightName}, or null when it is not adapted. */
    public float[] delta(String weightName) {
        Factors f = factors.get(weightName);
        if (f == null) {
            return null;
        }
        int in = f.in();
        float s = scale();
        float[] d = new float[f.out() * in];
        Parallel.get().forRange(f.out(), 8, (start, end) -> {
            for (int o = start; o < end; o++) {
                for (int i = 0; i < rank; i++) {
                    float bs = f.b()[o * rank + i] * s;
                    for (int c = 0; c < in; c++) {
                        d[o * in + c] += bs * f.a()[i * in + c];
                    }
                }
            }
        });
        return d;
    }
}
