package dev.jquant.eval.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Maps data values to pixels, linearly or on a log10 scale, and chooses readable tick values. */
record Axis(double min, double max, double from, double to, boolean log) {

    static Axis linear(double min, double max, double from, double to) {
        if (max - min < 1e-12) {
            max = min + 1;
        }
        double pad = (max - min) * 0.08;
        return new Axis(min - pad, max + pad, from, to, false);
    }

    static Axis log(double min, double max, double from, double to) {
        double lo = Math.floor(Math.log10(Math.max(min, 1e-12)));
        double hi = Math.ceil(Math.log10(Math.max(max, min * 10)));
        if (hi <= lo) {
            hi = lo + 1;
        }
        return new Axis(Math.pow(10, lo), Math.pow(10, hi), from, to, true);
    }

    double px(double v) {
        double t = log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))
                : (v - min) / (max - min);
        return from + t * (to - from);
    }

    List<Double> ticks() {
        List<Double> out = new ArrayList<>();
        if (log) {
            for (double v = min; v <= max * 1.0001; v *= 10) {
                out.add(v);
            }
            return out;
        }
        double raw = (max - min) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = Math.ceil(min / step) * step; v <= max; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return out;
    }

    static String label(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) {
            return String.format(Locale.ROOT, "%.0e", v);
        }
        String s = String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 1 ? "%.2f" : "%.4f", v);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
