package dev.jquant.quantize;

import dev.jquant.JQuantException;
import dev.jquant.quantize.awq.AwqMethod;
import dev.jquant.quantize.gptq.GptqMethod;
import dev.jquant.quantize.rtn.RtnMethod;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** The methods {@code --method} can name; a new method is one {@link #register} line here. */
public final class QuantMethods {
    private static final Map<String, Function<MethodParams, QuantMethod>> FACTORIES = new LinkedHashMap<>();

    static {
        register("rtn", p -> new RtnMethod());
        register("gptq", GptqMethod::new);
        register("awq", AwqMethod::new);
    }

    private QuantMethods() {
    }

    public static synchronized void register(String name, Function<MethodParams, QuantMethod> factory) {
        FACTORIES.put(name, factory);
    }

    public static synchronized QuantMethod create(String name, MethodParams params) {
        Function<MethodParams, QuantMethod> f = FACTORIES.get(name);
        if (f == null) {
            throw new JQuantException("unknown method '" + name + "'; known: " + String.join(", ", FACTORIES.keySet()));
        }
        return f.apply(params);
    }

    public static synchronized Set<String> names() {
        return Set.copyOf(FACTORIES.keySet());
    }
}
