package dev.jquant.eval.compare;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.format.Formats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Turns {@code --methods} × {@code --bits} (and explicit {@code --formats}) into the configurations
 * to measure. Every requested combination appears in the answer: either a {@link Candidate} or an
 * {@link Unavailable} entry saying why (a bit width the method does not offer, a format not in this build),
 * so the results table shows what was asked and could not be run.
 */
public final class CandidateCatalog {

    /** A requested method and setting, resolved. */
    public sealed interface Entry permits Planned, Unavailable {
        String method();

        String setting();
    }

    public record Planned(Candidate candidate) implements Entry {
        public String method() {
            return candidate.method();
        }

        public String setting() {
            return candidate.setting();
        }
    }

    public record Unavailable(String method, String setting, String reason) implements Entry {
    }

    /** How a method turns a bit width into a candidate; throws JQuantException when it cannot. */
    private static final Map<String, IntFunction<Candidate>> METHODS = new LinkedHashMap<>();
    /** Calibration windows (and their length in tokens) of the calibrated methods. */
    private static final int CALIBRATION_SAMPLES = 32;
    private static final int CALIBRATION_LENGTH = 256;

    static {
        METHODS.put("rtn", bits -> rtn("rtn", switch (bits) {
            case 8 -> "Q8_0";
            case 6 -> "Q6_K";
            case 5 -> "Q5_K";
            case 4 -> "Q4_K";
            case 3 -> "Q3_K";
            case 2 -> "Q2_K";
            default -> throw new JQuantException("no GGUF round-to-nearest type at " + bits + " bits");
        }));
        METHODS.put("int", bits -> rtn("int", "INT" + bits + "_G32_ASYM_F16"));
        METHODS.put("nf4", bits -> rtn("nf4", only(bits, 4, "NF4")));
        METHODS.put("fp4", bits -> rtn("fp4", only(bits, 4, "FP4_G32")));
        METHODS.put("mxfp4", bits -> rtn("mxfp4", only(bits, 4, "MXFP4")));
        METHODS.put("fp8", bits -> rtn("fp8", only(bits, 8, "FP8_E4M3")));
        // calibrated methods land on the same GGUF grids as rtn, so each row pairs with an rtn row
        for (String m : List.of("gptq", "awq")) {
            METHODS.put(m, bits -> new LayerwiseCandidate(m, Formats.byName(switch (bits) {
                case 8 -> "Q8_0";
                case 6 -> "Q6_K";
                case 4 -> "Q4_K";
                default -> throw new JQuantException(m + " writes Q8_0, Q6_K or Q4_K here; no " + bits + "-bit target");
            }), CALIBRATION_SAMPLES, CALIBRATION_LENGTH));
        }
        // int8 weights and activations: plain w8a8 is the row the other two improve on
        for (String m : List.of("w8a8", "smoothquant", "int8-outlier")) {
            METHODS.put(m, bits -> {
                only(bits, 8, "W8A8");
                return new Int8Candidate(m, CALIBRATION_SAMPLES, CALIBRATION_LENGTH);
            });
        }
        // on the int rows' grid, so each pairs with round-to-nearest there
        for (String m : List.of("hqq", "feedback")) {
            METHODS.put(m, bits -> IntGridCandidate.of(m, bits, CALIBRATION_SAMPLES, CALIBRATION_LENGTH));
        }
    }

    private CandidateCatalog() {
    }

    /** The method names {@code --methods} accepts. */
    public static List<String> methodNames() {
        return new ArrayList<>(METHODS.keySet());
    }

    /**
     * Every method at every bit width, then every explicit format (round-to-nearest), without
     * duplicates. An unknown method name is a user error; an unavailable combination is an entry.
     */
    public static List<Entry> resolve(List<String> methods, List<Integer> bits, List<String> formats) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (String raw : new LinkedHashSet<>(methods)) {
            String method = raw.trim().toLowerCase(Locale.ROOT);
            IntFunction<Candidate> factory = METHODS.get(method);
            if (factory == null) {
                throw new JQuantException("--methods: unknown method '" + raw + "'; known: " + String.join(", ", methodNames()));
            }
            for (int b : bits) {
                Entry e = entry(method, b, factory);
                out.putIfAbsent(key(e), e);
            }
        }
        for (String f : formats) {
            Entry e;
            try {
                e = new Planned(new RtnCandidate("rtn", Formats.byName(f.trim())));
            } catch (JQuantException ex) {
                throw new JQuantException("--formats: " + ex.getMessage());
            }
            out.putIfAbsent(key(e), e);
        }
        return List.copyOf(out.values());
    }

    private static Entry entry(String method, int bits, IntFunction<Candidate> factory) {
        try {
            return new Planned(factory.apply(bits));
        } catch (JQuantException e) {
            return new Unavailable(method, bits + "-bit", e.getMessage());
        }
    }

    private static String key(Entry e) {
        return e instanceof Planned p ? p.candidate().name() : e.method() + "@" + e.setting();
    }

    private static Candidate rtn(String method, String formatName) {
        Format format;
        try {
            format = Formats.byName(formatName);
        } catch (JQuantException e) {
            throw new JQuantException("format " + formatName + " is not in this build");
        }
        return new RtnCandidate(method, format);
    }

    private static String only(int bits, int supported, String format) {
        if (bits != supported) {
            throw new JQuantException("only " + supported + "-bit");
        }
        return format;
    }
}
