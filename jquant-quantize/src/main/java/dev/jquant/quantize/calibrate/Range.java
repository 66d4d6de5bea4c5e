package dev.jquant.quantize.calibrate;

/** A closed interval of values a quantizer maps onto its grid; values outside are clipped. */
public record Range(float lo, float hi) {

    public float absMax() {
        return Math.max(Math.abs(lo), Math.abs(hi));
    }

    /** The interval shrunk towards 0 by {@code ratio} (1 = unchanged). */
    public Range scaled(float ratio) {
        return new Range(lo * ratio, hi * ratio);
    }
}
