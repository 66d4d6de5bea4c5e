package dev.jquant.quantize;

import dev.jquant.JQuantException;

import java.util.Map;

/** A method's own settings as {@code key=value} pairs (from {@code --param} and the method-specific flags). */
public record MethodParams(Map<String, String> values) {

    public static final MethodParams NONE = new MethodParams(Map.of());

    public MethodParams {
        values = Map.copyOf(values);
    }

    public double number(String key, double fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new JQuantException("parameter " + key + "=" + v + " is not a number");
        }
    }

    public boolean flag(String key) {
        return Boolean.parseBoolean(values.getOrDefault(key, "false"));
    }
}
