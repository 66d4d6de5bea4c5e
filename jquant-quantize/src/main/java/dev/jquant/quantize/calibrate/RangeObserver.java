package dev.jquant.quantize.calibrate;

import dev.jquant.JQuantException;

import java.util.Locale;

/**
 * How a quantization range is chosen from observed values (a weight group, or a layer's
 * activations through their {@link Histogram}): the full min-max range, a percentile, the clipping
 * ratio with least squared quantization error, or the TensorRT-style clipping threshold with least
 * KL divergence between the clipped-and-quantized and the original distribution.
 */
public sealed interface RangeObserver {

    /** The range for {@code values[off..off+len)} quantized with {@code levels} levels. */
    Range range(float[] values, int off, int len, int levels);

    /** The range for values summarised by {@code h} (activations), quantized with {@code levels} levels. */
    Range range(Histogram h, int levels);

    /** min-max: nothing is clipped. */
    record MinMax() implements RangeObserver {
        public Range range(float[] v, int off, int len, int levels) {
            return minMax(v, off, len);
        }

        public Range range(Histogram h, int levels) {
            return new Range(h.min(), h.max());
        }
    }

    /** The {@code 100 - percent} and {@code percent} percentiles, e.g. 99.99. */
    record Percentile(double percent) implements RangeObserver {
        public Percentile {
            if (!(percent > 50 && percent <= 100)) {
                throw new JQuantException("percentile must be in (50, 100], got " + percent);
            }
        }

        public Range range(float[] v, int off, int len, int levels) {
            float[] sorted = java.util.Arrays.copyOfRange(v, off, off + len);
            java.util.Arrays.sort(sorted);
            int hi = (int) Math.min(len - 1, Math.ceil(percent / 100 * (len - 1)));
            int lo = (int) Math.max(0, Math.floor((1 - percent / 100) * (len - 1)));
            return new Range(sorted[lo], sorted[hi]);
        }

        public Range range(Histogram h, int levels) {
            return new Range(h.quantile(1 - percent / 100), h.quantile(percent / 100));
        }
    }

    /** The clipping ratio from {@code steps} candidates in (0, 1] with least squared error after rounding. */
    record Mse(int steps) implements RangeObserver {
        public Range range(float[] v, int off, int len, int levels) {
            Range full = minMax(v, off, len);
            Range best = full;
            double bestErr = Double.POSITIVE_INFINITY;
            for (int s = 0; s < steps; s++) {
                Range r = full.scaled(1f - 0.8f * s / steps);
                double err = 0;
                for (int i = off; i < off + len; i++) {
                    double d = v[i] - fakeQuant(v[i], r, levels);
                    err += d * d;
                }
                if (err < bestErr) {
                    bestErr = err;
                    best = r;
                }
            }
            return best;
        }

        public Range range(Histogram h, int levels) {
            Range full = new Range(h.min(), h.max());
            Range best = full;
            double bestErr = Double.POSITIVE_INFINITY;
            for (int s = 0; s < steps; s++) {
                Range r = full.scaled(1f - 0.8f * s / steps);
                double err = 0;
                for (int b = 0; b < h.bins(); b++) {
                    float x = h.center(b);
                    double d = x - fakeQuant(x, r, levels);
                    err += h.count(b) * d * d;
                }
                if (err < bestErr) {
                    bestErr = err;
                    best = r;
                }
            }
            return best;
        }
    }

    /**
     * TensorRT's entropy calibration: over thresholds T on the histogram of |x|, clip at T, merge the
     * kept bins into {@code levels / 2} quantization bins, and keep the T whose quantized
     * distribution has the least KL divergence from the clipped original. Symmetric result.
     */
    record Entropy() implements RangeObserver {
        public Range range(float[] v, int off, int len, int levels) {
            Histogram h = new Histogram(2048);
            h.add(v, off, len);
            return range(h, levels);
        }

        public Range range(Histogram h, int levels) {
            double[] abs = h.absCounts();
            int bins = abs.length;
            int target = Math.max(2, levels / 2);
            double bestKl = Double.POSITIVE_INFINITY;
            int bestI = bins;
            for (int i = target; i <= bins; i++) {
                double kl = Kl.clippedVsQuantized(abs, i, target);
                if (kl < bestKl) {
                    bestKl = kl;
                    bestI = i;
                }
            }
            float t = h.absMax() * bestI / bins;
            return new Range(-t, t);
        }
    }

    /** By name: minmax, percentile[:P] (default 99.99), mse, entropy (or kl). */
    static RangeObserver parse(String spec) {
        String s = spec.toLowerCase(Locale.ROOT);
        if (s.equals("minmax") || s.equals("min-max")) {
            return new MinMax();
        }
        if (s.equals("mse")) {
            return new Mse(20);
        }
        if (s.equals("entropy") || s.equals("kl")) {
            return new Entropy();
        }
        if (s.startsWith("percentile")) {
            String p = s.substring("percentile".length());
            try {
                return new Percentile(p.isEmpty() ? 99.99 : Double.parseDouble(p.substring(1)));
            } catch (NumberFormatException e) {
                throw new JQuantException("observer '" + spec + "': expected percentile:P, e.g. percentile:99.9");
            }
        }
        throw new JQuantException("unknown observer '" + spec + "'; known: minmax, percentile[:P], mse, entropy");
    }

    static Range minMax(float[] v, int off, int len) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + len; i++) {
            lo = Math.min(lo, v[i]);
            hi = Math.max(hi, v[i]);
        }
        return len == 0 ? new Range(0, 0) : new Range(lo, hi);
    }

    /** x rounded onto {@code levels} uniform levels spanning r (clipped outside). */
    static float fakeQuant(float x, Range r, int levels) {
        float span = r.hi() - r.lo();
        if (span <= 0) {
            return Math.max(r.lo(), Math.min(r.hi(), x));
        }
        float step = span / (levels - 1);
        float c = Math.max(r.lo(), Math.min(r.hi(), x));
        return r.lo() + Math.round((c - r.lo()) / step) * step;
    }
}
