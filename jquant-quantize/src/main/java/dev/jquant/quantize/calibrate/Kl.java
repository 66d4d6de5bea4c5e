package dev.jquant.quantize.calibrate;

/** The KL divergence TensorRT's entropy calibration minimises. */
final class Kl {
    private Kl() {
    }

    /**
     * KL(P || Q) where P is the first {@code keep} bins of {@code counts} with everything beyond
     * folded into the last kept bin (clipping), and Q is P merged into {@code levels} equal groups
     * and spread back evenly over each group's non-empty bins (quantization).
     */
    static double clippedVsQuantized(double[] counts, int keep, int levels) {
        double[] p = java.util.Arrays.copyOf(counts, keep);
        for (int i = keep; i < counts.length; i++) {
            p[keep - 1] += counts[i];
        }
        double[] q = new double[keep];
        for (int g = 0; g < levels; g++) {
            int start = (int) ((long) keep * g / levels);
            int end = (int) ((long) keep * (g + 1) / levels);
            double sum = 0;
            int nonEmpty = 0;
            for (int i = start; i < end; i++) {
                sum += counts[i];
                if (counts[i] > 0) {
                    nonEmpty++;
                }
            }
            for (int i = start; i < end; i++) {
                q[i] = counts[i] > 0 ? sum / nonEmpty : 0;
            }
        }
        double pSum = 0;
        double qSum = 0;
        for (int i = 0; i < keep; i++) {
            pSum += p[i];
            qSum += q[i];
        }
        if (pSum == 0 || qSum == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int i = 0; i < keep; i++) {
            if (p[i] > 0) {
                double pi = p[i] / pSum;
                double qi = q[i] > 0 ? q[i] / qSum : 1e-12;
                kl += pi * Math.log(pi / qi);
            }
        }
        return kl;
    }
}
