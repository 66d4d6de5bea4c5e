package dev.jquant.eval.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jquant.eval.compare.ComparisonResult;
import dev.jquant.io.AtomicFile;
import dev.jquant.eval.compare.ConfigResult;
import dev.jquant.eval.compare.LayerErrors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The comparison as a table: text for the terminal and Markdown, CSV, and JSON (every number,
 * per-layer errors included). Rows are the reference first, then the configurations by size;
 * "*" marks the size–KL Pareto frontier.
 */
public final class ResultsTable {
    private static final String[] HEADER = {"", "configuration", "method", "setting", "size", "bpw", "PPL", "ΔPPL",
            "KLD", "KLD p99", "same top", "decode t/s", "status"};

    private ResultsTable() {
    }

    /** Writes results.json, results.csv, results.md and report.html into {@code dir}. */
    public static void writeAll(ComparisonResult r, Path dir) {
        AtomicFile.writeString(dir.resolve("results.json"), json(r));
        AtomicFile.writeString(dir.resolve("results.csv"), csv(r));
        AtomicFile.writeString(dir.resolve("results.md"), markdown(r));
        AtomicFile.writeString(dir.resolve("report.html"), HtmlReport.render(r));
    }

    public static String text(ComparisonResult r) {
        List<String[]> rows = cells(r);
        int[] width = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                boolean left = i <= 3 || i == row.length - 1;
                sb.append(left ? pad(row[i], width[i], true) : pad(row[i], width[i], false)).append(i + 1 < row.length ? "  " : "");
            }
            sb.append(String.format("%n"));
        }
        return sb.toString().replaceAll("(?m) +$", "");
    }

    public static String markdown(ComparisonResult r) {
        List<String[]> rows = cells(r);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Model `%s`; evaluated on %d chunks of %d tokens of `%s` (%d tokens scored); "
                + "KLD against the reference; `*` = on the size–KL Pareto frontier.%n%n", r.model(), r.chunks(), r.ctx(),
                r.evalFile(), r.tokensScored()));
        for (int i = 0; i < rows.size(); i++) {
            sb.append("| ").append(String.join(" | ", rows.get(i)).replace("|  |", "| |")).append(" |\n");
            if (i == 0) {
                sb.append("|").append("---|".repeat(HEADER.length)).append("\n");
            }
        }
        return sb.toString();
    }

    private static List<String[]> cells(ComparisonResult r) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        rows.add(cells(r.reference(), r.reference()));
        for (ConfigResult c : r.rows()) {
            rows.add(cells(c, r.reference()));
        }
        return rows;
    }

    private static String[] cells(ConfigResult c, ConfigResult ref) {
        String status = c.ok() ? (c.message().isEmpty() ? "ok" : "ok; " + c.message()) : c.status() + ": " + c.message();
        if (!c.ok()) {
            return new String[] {"", c.name(), c.method(), c.setting(), "", "", "", "", "", "", "", "", status};
        }
        boolean isRef = c == ref;
        return new String[] {c.onFrontier() ? "*" : "", c.name(), c.method(), c.setting(), bytes(c.fileBytes()),
                f("%.2f", c.bitsPerWeight()), f("%.4f", c.ppl()), isRef ? "" : f("%+.4f", c.ppl() - ref.ppl()),
                isRef ? "" : f("%.5f", c.kldMean()), isRef ? "" : f("%.4f", c.kldP99()),
                isRef ? "" : f("%.1f%%", c.sameTopPct()), Double.isNaN(c.decodeTps()) ? "" : f("%.0f", c.decodeTps()),
                isRef ? "reference" : status};
    }

    public static String csv(ComparisonResult r) {
        StringBuilder sb = new StringBuilder("name,method,setting,status,file_bytes,bits_per_weight,matrix_bits_per_weight,"
                + "ppl,ppl_error,kld_mean,kld_p99,same_top_pct,rms_delta_p,prefill_tps,decode_tps,memory_bytes,"
                + "quantize_seconds,task_acc,task_acc_norm,pareto,message\n");
        List<ConfigResult> all = new ArrayList<>();
        all.add(r.reference());
        all.addAll(r.rows());
        for (ConfigResult c : all) {
            sb.append(String.join(",", c.name(), c.method(), c.setting(), c.status(), Long.toString(c.fileBytes()),
                    num(c.bitsPerWeight()), num(c.matrixBitsPerWeight()), num(c.ppl()), num(c.pplError()), num(c.kldMean()),
                    num(c.kldP99()), num(c.sameTopPct()), num(c.rmsDeltaP()), num(c.prefillTps()), num(c.decodeTps()),
                    Long.toString(c.memoryBytes()), num(c.quantizeSeconds()), num(c.taskAccuracy()),
                    num(c.taskAccuracyNorm()), Boolean.toString(c.onFrontier()), quote(c.message()))).append('\n');
        }
        return sb.toString();
    }

    public static String json(ComparisonResult r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", r.model());
        out.put("eval_file", r.evalFile());
        out.put("calibration_file", r.calibrationFile());
        out.put("ctx", r.ctx());
        out.put("chunks", r.chunks());
        out.put("tokens_scored", r.tokensScored());
        out.put("task_file", r.taskFile());
        out.put("task_items", r.taskItems());
        out.put("threads", r.threads());
        out.put("seconds", r.seconds());
        out.put("reference", row(r.reference()));
        out.put("configurations", r.rows().stream().map(ResultsTable::row).toList());
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> row(ConfigResult c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("method", c.method());
        m.put("setting", c.setting());
        m.put("status", c.status());
        m.put("message", c.message());
        m.put("file_bytes", c.fileBytes());
        m.put("bits_per_weight", nullIfNaN(c.bitsPerWeight()));
        m.put("matrix_bits_per_weight", nullIfNaN(c.matrixBitsPerWeight()));
        m.put("ppl", nullIfNaN(c.ppl()));
        m.put("ppl_error", nullIfNaN(c.pplError()));
        m.put("kld_mean", nullIfNaN(c.kldMean()));
        m.put("kld_p99", nullIfNaN(c.kldP99()));
        m.put("same_top_pct", nullIfNaN(c.sameTopPct()));
        m.put("rms_delta_p", nullIfNaN(c.rmsDeltaP()));
        m.put("prefill_tps", nullIfNaN(c.prefillTps()));
        m.put("decode_tps", nullIfNaN(c.decodeTps()));
        m.put("memory_bytes", c.memoryBytes());
        m.put("quantize_seconds", nullIfNaN(c.quantizeSeconds()));
        m.put("task_acc", nullIfNaN(c.taskAccuracy()));
        m.put("task_acc_norm", nullIfNaN(c.taskAccuracyNorm()));
        m.put("pareto", c.onFrontier());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (LayerErrors.TensorError t : c.layers()) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("tensor", t.tensor());
            l.put("format", t.format());
            l.put("weight_error", nullIfNaN(t.weightError()));
            l.put("output_error", nullIfNaN(t.outputError()));
            layers.add(l);
        }
        m.put("layers", layers);
        return m;
    }

    static String bytes(long b) {
        if (b < 0) {
            return "";
        }
        if (b < 1 << 20) {
            return f("%.1f KiB", b / 1024.0);
        }
        return b < 1L << 30 ? f("%.2f MiB", b / (double) (1 << 20)) : f("%.2f GiB", b / (double) (1L << 30));
    }

    static String f(String format, double v) {
        return String.format(Locale.ROOT, format, v);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    private static Object nullIfNaN(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
    }

    private static String quote(String s) {
        return s.isEmpty() ? "" : "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static String pad(String s, int w, boolean left) {
        String fill = " ".repeat(Math.max(0, w - s.length()));
        return left ? s + fill : fill + s;
    }
}
