package dev.jquant.quantize;

import dev.jquant.format.Format;

/**
 * What happens to one tensor: stored in {@code target}, and why (the default format, an override
 * flag, a kept pattern, a 1-D tensor, or a fallback because its rows don't fit the format's blocks).
 */
public record TensorPlan(String name, Format target, String reason) {
}
