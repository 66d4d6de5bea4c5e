package dev.jquant.quantize.w8a8;

import dev.jquant.JQuantException;

import java.util.Locale;

/** How the runtime quantizes a W8A8 layer's activations: a scale per token at run time, or one fixed from calibration. */
public enum ActivationMode {
    DYNAMIC, STATIC;

    public static ActivationMode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "dynamic" -> DYNAMIC;
            case "static" -> STATIC;
            default -> throw new JQuantException("--act: '" + s + "' is not dynamic or static");
        };
    }
}
