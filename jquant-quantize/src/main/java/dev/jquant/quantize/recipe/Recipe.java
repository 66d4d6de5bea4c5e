package dev.jquant.quantize.recipe;

import dev.jquant.JQuantException;
import dev.jquant.io.AtomicFile;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which method, format and parameters apply to which tensors: an ordered list of rules, the first
 * whose {@code pattern} (a regular expression found anywhere in the tensor name) matches wins;
 * tensors no rule matches stay as they are. Read from and written to YAML or JSON (JSON is YAML):
 * <pre>
 * name: my-mix
 * rules:
 *   - pattern: '^blk\.0\.attn_v\.weight$'
 *     method: hqq
 *     format: INT6_G64_ASYM_F16
 *   - pattern: 'ffn_down'
 *     method: rtn
 *     bits: 4
 *     group: 64
 *     symmetric: false
 *   - pattern: 'norm'
 *     keep: true
 * </pre>
 */
public record Recipe(String name, List<Rule> rules) {
    private static final Set<String> RULE_KEYS = Set.of("pattern", "method", "format", "bits", "group", "symmetric",
            "observer", "keep");

    public Recipe {
        rules = List.copyOf(rules);
    }

    /**
     * One rule. Either {@code keep}, or a method with a {@code format} name or integer parameters
     * ({@code bits}, {@code group} — 0 for one group per row —, {@code symmetric}).
     *
     * @param observer how ranges are chosen (minmax, percentile, mse, kl); null for the method's default
     */
    public record Rule(String pattern, String method, String format, Integer bits, Integer group, Boolean symmetric,
                       String observer, boolean keep) {

        public Rule {
            try {
                Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw new JQuantException("recipe: '" + pattern + "' is not a valid regular expression: " + e.getDescription());
            }
            if (!keep && method == null) {
                throw new JQuantException("recipe: the rule for '" + pattern + "' needs a method or keep: true");
            }
            if (!keep && format == null && bits == null) {
                throw new JQuantException("recipe: the rule for '" + pattern + "' needs a format or bits");
            }
        }

        public static Rule keep(String pattern) {
            return new Rule(pattern, null, null, null, null, null, null, true);
        }

        public static Rule of(String pattern, String method, String format) {
            return new Rule(pattern, method, format, null, null, null, null, false);
        }

        public boolean matches(String tensor) {
            return Pattern.compile(pattern).matcher(tensor).find();
        }
    }

    /** The first rule matching {@code tensor}. */
    public Optional<Rule> ruleFor(String tensor) {
        return rules.stream().filter(r -> r.matches(tensor)).findFirst();
    }

    public static Recipe load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read recipe: " + e.getMessage());
        }
        try {
            return parse(new Yaml(new SafeConstructor(new LoaderOptions())).load(text), file.toString());
        } catch (YAMLException e) {
            throw new JQuantException(file + ": not a YAML or JSON recipe: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static Recipe parse(Object root, String source) {
        if (!(root instanceof Map<?, ?> map) || !(map.get("rules") instanceof List<?> list)) {
            throw new JQuantException(source + ": a recipe is a mapping with a list of rules under 'rules'");
        }
        List<Rule> rules = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> r)) {
                throw new JQuantException(source + ": every rule is a mapping");
            }
            for (Object key : r.keySet()) {
                if (!RULE_KEYS.contains(String.valueOf(key))) {
                    throw new JQuantException(source + ": unknown rule key '" + key + "' (known: " + RULE_KEYS + ")");
                }
            }
            rules.add(new Rule(string(r, "pattern", source, true), string(r, "method", source, false),
                    string(r, "format", source, false), integer(r, "bits", source), integer(r, "group", source),
                    bool(r, "symmetric", source), string(r, "observer", source, false),
                    Boolean.TRUE.equals(bool(r, "keep", source))));
        }
        return new Recipe(map.get("name") == null ? "recipe" : String.valueOf(map.get("name")), rules);
    }

    private static String string(Map<?, ?> r, String key, String source, boolean required) {
        Object v = r.get(key);
        if (v == null && required) {
            throw new JQuantException(source + ": a rule has no '" + key + "'");
        }
        return v == null ? null : String.valueOf(v);
    }

    private static Integer integer(Map<?, ?> r, String key, String source) {
        Object v = r.get(key);
        if (v != null && !(v instanceof Integer)) {
            throw new JQuantException(source + ": '" + key + "' must be an integer, got " + v);
        }
        return (Integer) v;
    }

    private static Boolean bool(Map<?, ?> r, String key, String source) {
        Object v = r.get(key);
        if (v != null && !(v instanceof Boolean)) {
            throw new JQuantException(source + ": '" + key + "' must be true or false, got " + v);
        }
        return (Boolean) v;
    }

    /** As YAML (a {@code .json} file gets JSON), written atomically. */
    public void write(Path file) {
        AtomicFile.writeString(file, text(file.toString().endsWith(".json")));
    }

    String text(boolean json) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Rule r : rules) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pattern", r.pattern());
            put(m, "method", r.method());
            put(m, "format", r.format());
            put(m, "bits", r.bits());
            put(m, "group", r.group());
            put(m, "symmetric", r.symmetric());
            put(m, "observer", r.observer());
            if (r.keep()) {
                m.put("keep", true);
            }
            list.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("name", name);
        root.put("rules", list);
        if (json) {
            return json(root) + "\n";
        }
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setWidth(120);
        return new Yaml(o).dump(root);
    }

    /** Strings, integers, booleans, lists and maps as JSON. */
    private static String json(Object v) {
        return switch (v) {
            case String s -> '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
            case Map<?, ?> m -> {
                List<String> parts = new ArrayList<>();
                m.forEach((k, x) -> parts.add(json(String.valueOf(k)) + ": " + json(x)));
                yield "{" + String.join(", ", parts) + "}";
            }
            case List<?> l -> "[\n  " + String.join(",\n  ", l.stream().map(Recipe::json).toList()) + "\n]";
            default -> String.valueOf(v);
        };
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
