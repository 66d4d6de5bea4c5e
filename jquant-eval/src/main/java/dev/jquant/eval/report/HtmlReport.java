package dev.jquant.eval.report;

import dev.jquant.eval.compare.ActivationProbe;
import dev.jquant.eval.compare.ComparisonResult;
import dev.jquant.eval.compare.ConfigResult;
import dev.jquant.eval.compare.LayerErrors;
import dev.jquant.eval.compare.WeightHistogram;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import static dev.jquant.eval.report.ResultsTable.bytes;
import static dev.jquant.eval.report.ResultsTable.f;
import static dev.jquant.eval.report.Svg.escape;

/**
 * The comparison as one self-contained HTML page: every chart is inline SVG drawn here, with a
 * plain-words explanation beside it; no scripts, fonts or styles from the network. Data marks carry
 * classes ({@code point}, {@code bar}, {@code cell}) so tests can check that charts are not empty.
 */
public final class HtmlReport {
    private static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
    /** SmoothQuant's default migration strength. */
    private static final double SMOOTH_ALPHA = 0.5;

    private HtmlReport() {
    }

    public static String render(ComparisonResult r) {
        List<ConfigResult> ok = r.rows().stream().filter(ConfigResult::ok).toList();
        Map<String, String> colors = methodColors(r.rows());
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>jquant compare: ")
                .append(escape(r.model())).append("</title><style>").append(CSS).append("</style></head><body>");
        html.append("<h1>What quantization costs: ").append(escape(fileName(r.model()))).append("</h1>");
        html.append("<p class=\"lead\">").append(ok.size()).append(" configurations measured on the same ")
                .append(r.tokensScored()).append(" tokens of <code>").append(escape(fileName(r.evalFile())))
                .append("</code> (").append(r.chunks()).append(" chunks of ").append(r.ctx())
                .append(" tokens) against the full-precision model, ").append(r.threads()).append(" threads, ")
                .append(f("%.0f", r.seconds())).append(" s in all.</p>");
        html.append("<div class=\"table\">").append(table(r)).append("</div>");

        section(html, "pareto-kld", "Size against KL divergence", paretoChart(r, ok, colors, true),
                "Each dot is one way of quantizing the model: further left is smaller (bits per weight), lower is "
                        + "closer to the original (mean KL divergence of the next-token distribution, log scale). The line "
                        + "joins the <b>Pareto frontier</b>: the configurations for which nothing else is both smaller and "
                        + "better. Anything above the line is a poor choice. The dashed line is the full-precision model "
                        + "(KL 0 by definition).");
        section(html, "pareto-ppl", "Size against perplexity", paretoChart(r, ok, colors, false),
                "The same configurations against perplexity on the evaluation text (lower is better). The dashed line "
                        + "is the full-precision model's perplexity. Perplexity can hide damage that KL divergence shows: "
                        + "a model can get the average right while changing many individual predictions.");
        section(html, "layer-weight", "Per-layer weight error", heatmap(ok, LayerErrors.TensorError::weightError),
                "Relative error of each weight matrix, ‖W − Ŵ‖ / ‖W‖, for every configuration (columns) and matrix "
                        + "(rows). Darker is worse. Rows that stay dark across methods are the hard-to-quantize layers "
                        + "worth keeping at higher precision.");
        section(html, "layer-output", "Per-layer output error", heatmap(ok, LayerErrors.TensorError::outputError),
                "What the model actually feels: the relative change of each layer's output, ‖X(W − Ŵ)ᵀ‖ / ‖XWᵀ‖, on "
                        + "real inputs X recorded from the calibration text. A small weight error on a channel that "
                        + "carries large activations costs more than it looks; that is what activation-aware methods fix.");
        section(html, "weights", "A weight tensor before and after", weightHistograms(r, ok, colors),
                "Histogram of every value of <code>" + escape(histogramTensor(r)) + "</code>: grey is the original, "
                        + "coloured is the quantized tensor. Quantization snaps values onto a small set of levels; the "
                        + "vertical ticks show the levels of one block (the one holding the largest weight). Few levels "
                        + "mean coarse steps; one large weight stretches the grid of its whole block.");
        section(html, "activations", "Activation outliers per channel", activationChart(r),
                "The largest |x| each input channel of one layer sees on the calibration text (the layer with the "
                        + "strongest outliers). A few channels far above the rest force a coarse step for every other "
                        + "channel when activations are quantized. The lower panel shows the same channels after "
                        + "SmoothQuant-style scaling (α = 0.5), which moves part of each channel's range into the "
                        + "weights: the outliers shrink and the channels even out.");
        section(html, "speed", "Speed and memory", speedChart(r, ok),
                "Decode tokens per second (one token at a time, as in chat) and the memory a run holds: the weights "
                        + "plus a KV cache for " + r.ctx() + " tokens. Smaller formats read fewer bytes per token; "
                        + "whether that makes decoding faster depends on how cheap the format is to unpack.");
        html.append("<footer>Made by <code>jquant compare</code>. Model <code>").append(escape(r.model()))
                .append("</code>, calibration <code>").append(escape(r.calibrationFile())).append("</code>.</footer>");
        html.append("</body></html>\n");
        return html.toString();
    }

    private static void section(StringBuilder html, String id, String title, String chart, String explanation) {
        html.append("<section id=\"").append(id).append("\"><h2>").append(escape(title)).append("</h2><div class=\"row\">")
                .append("<div class=\"fig\">").append(chart).append("</div><p class=\"why\">").append(explanation)
                .append("</p></div></section>");
    }

    private static String table(ComparisonResult r) {
        StringBuilder sb = new StringBuilder("<table><tr><th></th><th>configuration</th><th>size</th><th>bpw</th>"
                + "<th>PPL</th><th>KLD</th><th>same top</th><th>decode t/s</th><th>status</th></tr>");
        List<ConfigResult> all = new ArrayList<>();
        all.add(r.reference());
        all.addAll(r.rows());
        for (ConfigResult c : all) {
            boolean ref = c == r.reference();
            sb.append("<tr class=\"").append(c.ok() ? (c.onFrontier() ? "frontier" : "") : "notrun").append("\"><td>")
                    .append(c.onFrontier() ? "★" : "").append("</td><td>").append(escape(c.name())).append("</td>");
            if (c.ok()) {
                sb.append("<td>").append(bytes(c.fileBytes())).append("</td><td>").append(f("%.2f", c.bitsPerWeight()))
                        .append("</td><td>").append(f("%.4f", c.ppl())).append("</td><td>")
                        .append(ref ? "" : f("%.5f", c.kldMean())).append("</td><td>")
                        .append(ref ? "" : f("%.1f%%", c.sameTopPct())).append("</td><td>")
                        .append(Double.isNaN(c.decodeTps()) ? "" : f("%.0f", c.decodeTps())).append("</td><td>")
                        .append(ref ? "reference" : escape(c.message())).append("</td>");
            } else {
                sb.append("<td colspan=\"6\"></td><td>").append(escape(c.status() + ": " + c.message())).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table>").toString();
    }

    private static String paretoChart(ComparisonResult r, List<ConfigResult> ok, Map<String, String> colors, boolean kld) {
        Svg svg = new Svg(640, 380, kld ? "bits per weight against KL divergence" : "bits per weight against perplexity");
        double left = 70;
        double right = 620;
        double top = 20;
        double bottom = 330;
        ToDoubleFunction<ConfigResult> y = kld ? ConfigResult::kldMean : ConfigResult::ppl;
        double maxBpw = r.reference().bitsPerWeight();
        double minBpw = ok.stream().mapToDouble(ConfigResult::bitsPerWeight).min().orElse(maxBpw);
        Axis xAxis = Axis.linear(Math.min(minBpw, maxBpw), maxBpw, left, right);
        double yMin = ok.stream().mapToDouble(y).filter(v -> v > 0).min().orElse(kld ? 1e-4 : r.reference().ppl());
        double yMax = ok.stream().mapToDouble(y).max().orElse(yMin);
        // Perplexities that span more than 10× (2-bit failures) need a log scale as well.
        boolean logY = kld || yMax > 10 * Math.min(yMin, r.reference().ppl());
        Axis yAxis = logY ? Axis.log(kld ? yMin : Math.min(yMin, r.reference().ppl()), yMax, bottom, top)
                : Axis.linear(Math.min(yMin, r.reference().ppl()), Math.max(yMax, r.reference().ppl()), bottom, top);
        axes(svg, xAxis, yAxis, left, right, top, bottom, "bits per weight",
                kld ? "mean KL divergence (log)" : logY ? "perplexity (log)" : "perplexity");
        double refX = xAxis.px(r.reference().bitsPerWeight());
        if (kld) {
            svg.line(refX, top, refX, bottom, "stroke:#444;stroke-dasharray:5,4");
            svg.text(refX - 4, top + 12, "full precision (KL 0)", "end", 11, 0);
        } else {
            double refY = yAxis.px(r.reference().ppl());
            svg.line(left, refY, right, refY, "stroke:#444;stroke-dasharray:5,4");
            svg.text(right - 4, refY - 5, "full precision " + f("%.3f", r.reference().ppl()), "end", 11, 0);
            svg.circle(refX, refY, 6, "fill:#fff;stroke:#000;stroke-width:2", "point reference", "full precision");
        }
        List<ConfigResult> frontier = ok.stream().filter(ConfigResult::onFrontier)
                .sorted((a, b) -> Double.compare(a.bitsPerWeight(), b.bitsPerWeight())).toList();
        if (frontier.size() > 1) {
            svg.polyline(frontier.stream().mapToDouble(c -> xAxis.px(c.bitsPerWeight())).toArray(),
                    frontier.stream().mapToDouble(c -> yAxis.px(y.applyAsDouble(c))).toArray(),
                    "stroke:#f0a000;stroke-width:6;stroke-opacity:0.45;stroke-linejoin:round", "frontier");
        }
        for (ConfigResult c : ok) {
            double px = xAxis.px(c.bitsPerWeight());
            double py = yAxis.px(Math.max(y.applyAsDouble(c), yAxis.min()));
            String style = "fill:" + colors.get(c.method()) + ";stroke:" + (c.onFrontier() ? "#000" : "#fff") + ";stroke-width:1.5";
            svg.circle(px, py, c.onFrontier() ? 6.5 : 5, style, "point", c.name() + ": " + f("%.2f", c.bitsPerWeight())
                    + " bpw, " + (kld ? "KLD " + f("%.5f", c.kldMean()) : "PPL " + f("%.4f", c.ppl())));
            svg.text(px + 8, py - 6, c.setting(), "start", 10, 0);
        }
        legend(svg, colors, left + 10, bottom + 42);
        return svg.toString();
    }

    private static void axes(Svg svg, Axis x, Axis y, double left, double right, double top, double bottom,
                             String xLabel, String yLabel) {
        svg.line(left, bottom, right, bottom, "stroke:#333").line(left, top, left, bottom, "stroke:#333");
        for (double t : x.ticks()) {
            double px = x.px(t);
            svg.line(px, bottom, px, bottom + 5, "stroke:#333").text(px, bottom + 18, Axis.label(t), "middle", 11, 0);
        }
        for (double t : y.ticks()) {
            double py = y.px(t);
            svg.line(left, py, right, py, "stroke:#eee").line(left - 5, py, left, py, "stroke:#333")
                    .text(left - 8, py + 4, Axis.label(t), "end", 11, 0);
        }
        svg.text((left + right) / 2, bottom + 32, xLabel, "middle", 12, 0);
        svg.text(16, (top + bottom) / 2, yLabel, "middle", 12, -90);
    }

    private static void legend(Svg svg, Map<String, String> colors, double x, double y) {
        for (var e : colors.entrySet()) {
            svg.rect(x, y - 9, 10, 10, e.getValue(), "key", null).text(x + 14, y, e.getKey(), "start", 11, 0);
            x += 24 + 7 * e.getKey().length();
        }
    }

    /** Tensors × configurations, colour by error on a log scale, value in the tooltip. */
    private static String heatmap(List<ConfigResult> ok, ToDoubleFunction<LayerErrors.TensorError> value) {
        Map<String, double[]> byTensor = new LinkedHashMap<>();
        for (int c = 0; c < ok.size(); c++) {
            for (LayerErrors.TensorError t : ok.get(c).layers()) {
                double v = value.applyAsDouble(t);
                if (!Double.isNaN(v)) {
                    double[] row = byTensor.computeIfAbsent(t.tensor(), k -> filledNaN(ok.size()));
                    row[c] = v;
                }
            }
        }
        int cell = 22;
        int labelWidth = 170;
        int headerHeight = 90;
        Svg svg = new Svg(labelWidth + cell * Math.max(1, ok.size()) + 90, headerHeight + cell * Math.max(1, byTensor.size()) + 10,
                "per-layer error heatmap");
        if (byTensor.isEmpty()) {
            svg.text(10, headerHeight, "no per-layer errors were measured", "start", 12, 0);
            return svg.toString();
        }
        double lo = byTensor.values().stream().flatMapToDouble(Arrays::stream).filter(v -> v > 0).min().orElse(1e-4);
        double hi = byTensor.values().stream().flatMapToDouble(Arrays::stream).filter(v -> !Double.isNaN(v)).max().orElse(1);
        for (int c = 0; c < ok.size(); c++) {
            svg.text(labelWidth + c * cell + cell / 2.0 + 4, headerHeight - 6, ok.get(c).name(), "start", 10, -60);
        }
        int r = 0;
        for (var e : byTensor.entrySet()) {
            double y = headerHeight + r * cell;
            svg.text(labelWidth - 6, y + cell * 0.7, e.getKey().replace(".weight", ""), "end", 10, 0);
            for (int c = 0; c < ok.size(); c++) {
                double v = e.getValue()[c];
                if (!Double.isNaN(v)) {
                    svg.rect(labelWidth + c * cell, y, cell - 1, cell - 1, heat(v, lo, hi), "cell",
                            e.getKey() + " · " + ok.get(c).name() + ": " + f("%.5f", v));
                }
            }
            r++;
        }
        double lx = labelWidth + cell * ok.size() + 20;
        for (int i = 0; i < 5; i++) {
            double v = lo * Math.pow(hi / lo, i / 4.0);
            svg.rect(lx, headerHeight + i * 18, 14, 14, heat(v, lo, hi), "key", null)
                    .text(lx + 18, headerHeight + i * 18 + 11, Axis.label(v), "start", 10, 0);
        }
        return svg.toString();
    }

    private static double[] filledNaN(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }

    /** Light yellow (small error) to dark red (large), log-interpolated. */
    private static String heat(double v, double lo, double hi) {
        double t = hi <= lo ? 1 : (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
        t = Math.max(0, Math.min(1, t));
        int red = (int) Math.round(255 - 120 * t);
        int green = (int) Math.round(245 - 225 * t);
        int blue = (int) Math.round(200 - 180 * t);
        return String.format("#%02x%02x%02x", red, green, blue);
    }

    private static String histogramTensor(ComparisonResult r) {
        WeightHistogram ref = r.histograms().get("reference");
        return ref == null ? "?" : ref.tensor();
    }

    /** Small multiples: per configuration, the original histogram in grey and the quantized one in colour. */
    private static String weightHistograms(ComparisonResult r, List<ConfigResult> ok, Map<String, String> colors) {
        WeightHistogram ref = r.histograms().get("reference");
        int panelW = 300;
        int panelH = 150;
        int cols = 2;
        List<ConfigResult> shown = ok.stream().filter(c -> r.histograms().containsKey(c.name())).toList();
        int rows = Math.max(1, (shown.size() + cols - 1) / cols);
        Svg svg = new Svg(panelW * cols + 20, panelH * rows + 10, "weight histograms before and after quantization");
        if (ref == null || shown.isEmpty()) {
            svg.text(10, 30, "no quantized configuration to show", "start", 12, 0);
            return svg.toString();
        }
        long maxCount = Arrays.stream(ref.counts()).max().orElse(1);
        for (ConfigResult c : shown) {
            maxCount = Math.max(maxCount, Arrays.stream(r.histograms().get(c.name()).counts()).max().orElse(1));
        }
        double logMax = Math.log1p(maxCount);
        for (int i = 0; i < shown.size(); i++) {
            WeightHistogram h = r.histograms().get(shown.get(i).name());
            double x0 = 10 + (i % cols) * panelW;
            double y0 = 10 + (i / cols) * panelH;
            double plotW = panelW - 20;
            double plotBottom = y0 + panelH - 34;
            double plotH = panelH - 54;
            double binW = plotW / WeightHistogram.BINS;
            svg.text(x0, y0 + 10, shown.get(i).name() + " (" + h.format() + ")", "start", 11, 0);
            for (int b = 0; b < WeightHistogram.BINS; b++) {
                double hRef = plotH * Math.log1p(ref.counts()[b]) / logMax;
                svg.rect(x0 + b * binW, plotBottom - hRef, binW, hRef, "#bbb", "bar", null);
            }
            String color = colors.get(shown.get(i).method());
            for (int b = 0; b < WeightHistogram.BINS; b++) {
                double hq = plotH * Math.log1p(h.counts()[b]) / logMax;
                if (hq > 0) {
                    svg.rect(x0 + b * binW + binW * 0.25, plotBottom - hq, binW * 0.5, hq, color, "bar", null);
                }
            }
            for (double g : h.grid()) {
                double gx = x0 + (g - h.min()) / (h.max() - h.min()) * plotW;
                svg.line(gx, plotBottom + 2, gx, plotBottom + 9, "stroke:#000;stroke-width:1");
            }
            svg.line(x0, plotBottom, x0 + plotW, plotBottom, "stroke:#333");
            svg.text(x0, plotBottom + 22, Axis.label(h.min()), "start", 10, 0)
                    .text(x0 + plotW, plotBottom + 22, Axis.label(h.max()), "end", 10, 0)
                    .text(x0 + plotW / 2, plotBottom + 22, h.grid().length + " levels in one block", "middle", 10, 0);
        }
        return svg.toString();
    }

    /** Per-channel max |x| of the site with the strongest outliers, before and after SmoothQuant-style scaling. */
    private static String activationChart(ComparisonResult r) {
        ActivationProbe.Site site = null;
        double worst = -1;
        for (ActivationProbe.Site s : r.activations().values()) {
            double ratio = outlierRatio(s.channelAbsMax());
            if (ratio > worst) {
                worst = ratio;
                site = s;
            }
        }
        Svg svg = new Svg(660, 420, "activation max per channel");
        if (site == null) {
            svg.text(10, 30, "no activations were recorded", "start", 12, 0);
            return svg.toString();
        }
        float[] before = site.channelAbsMax();
        float[] weights = r.inputWeightAbsMax().get(site.tensor());
        float[] after = new float[before.length];
        for (int i = 0; i < before.length; i++) {
            // SmoothQuant: s_j = max|X_j|^α / max|W_j|^(1−α); the activation's range becomes max|X_j| / s_j.
            double s = weights == null ? 1 : Math.pow(before[i], SMOOTH_ALPHA) / Math.pow(Math.max(weights[i], 1e-8), 1 - SMOOTH_ALPHA);
            after[i] = (float) (before[i] / Math.max(s, 1e-8));
        }
        double max = 0;
        for (int i = 0; i < before.length; i++) {
            max = Math.max(max, Math.max(before[i], after[i]));
        }
        channelBars(svg, before, max, 30, 170, "input of " + site.tensor().replace(".weight", "") + ": max |x| per channel "
                + "(outliers ×" + f("%.1f", worst) + " the median)", "#1f77b4");
        channelBars(svg, after, max, 230, 370, "after SmoothQuant scaling (α 0.5): max |x| / s (×" + f("%.1f", outlierRatio(after))
                + " the median)", "#2ca02c");
        svg.text(330, 410, "input channel (" + before.length + ")", "middle", 11, 0);
        return svg.toString();
    }

    private static void channelBars(Svg svg, float[] v, double max, double top, double bottom, String title, String color) {
        double left = 50;
        double right = 650;
        double w = (right - left) / v.length;
        double median = median(v);
        svg.text(left, top - 8, title, "start", 11, 0);
        Axis y = Axis.linear(0, max, bottom, top);
        for (double t : y.ticks()) {
            if (t >= 0) {
                svg.line(left - 4, y.px(t), left, y.px(t), "stroke:#333").text(left - 6, y.px(t) + 4, Axis.label(t), "end", 10, 0);
            }
        }
        for (int i = 0; i < v.length; i++) {
            boolean outlier = v[i] > 6 * median;
            svg.rect(left + i * w, y.px(v[i]), Math.max(w - 0.5, 0.5), bottom - y.px(v[i]), outlier ? "#d62728" : color, "bar",
                    "channel " + i + ": " + f("%.3f", v[i]));
        }
        svg.line(left, bottom, right, bottom, "stroke:#333");
        svg.line(left, y.px(6 * median), right, y.px(6 * median), "stroke:#d62728;stroke-dasharray:4,3");
        svg.text(right, y.px(6 * median) - 3, "6 × median", "end", 10, 0);
    }

    static double outlierRatio(float[] v) {
        double median = median(v);
        double max = 0;
        for (float x : v) {
            max = Math.max(max, x);
        }
        return median > 0 ? max / median : 0;
    }

    private static double median(float[] v) {
        float[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s[s.length / 2];
    }

    /** Horizontal bars: decode tokens/s and memory per configuration, reference first. */
    private static String speedChart(ComparisonResult r, List<ConfigResult> ok) {
        List<ConfigResult> all = new ArrayList<>();
        all.add(r.reference());
        all.addAll(ok);
        int rowH = 20;
        int labelW = 150;
        int barW = 220;
        Svg svg = new Svg(labelW + 2 * (barW + 90), 40 + rowH * all.size(), "speed and memory per configuration");
        double maxTps = all.stream().mapToDouble(ConfigResult::decodeTps).filter(v -> !Double.isNaN(v)).max().orElse(1);
        double maxMem = all.stream().mapToDouble(ConfigResult::memoryBytes).max().orElse(1);
        svg.text(labelW, 16, "decode tokens/s", "start", 12, 0).text(labelW + barW + 90, 16, "memory (weights + KV cache)", "start", 12, 0);
        for (int i = 0; i < all.size(); i++) {
            ConfigResult c = all.get(i);
            double y = 28 + i * rowH;
            svg.text(labelW - 6, y + 13, c.name(), "end", 11, 0);
            if (!Double.isNaN(c.decodeTps())) {
                double w = barW * c.decodeTps() / maxTps;
                svg.rect(labelW, y, w, rowH - 5, i == 0 ? "#555" : "#1f77b4", "bar", c.name() + ": " + f("%.1f", c.decodeTps()) + " tokens/s")
                        .text(labelW + w + 4, y + 12, f("%.0f", c.decodeTps()), "start", 10, 0);
            }
            double mw = barW * c.memoryBytes() / maxMem;
            double mx = labelW + barW + 90;
            svg.rect(mx, y, mw, rowH - 5, i == 0 ? "#555" : "#ff7f0e", "bar", c.name() + ": " + bytes(c.memoryBytes()))
                    .text(mx + mw + 4, y + 12, bytes(c.memoryBytes()), "start", 10, 0);
        }
        return svg.toString();
    }

    private static Map<String, String> methodColors(List<ConfigResult> rows) {
        Map<String, String> colors = new LinkedHashMap<>();
        for (ConfigResult c : rows) {
            if (c.ok()) {
                colors.putIfAbsent(c.method(), PALETTE[colors.size() % PALETTE.length]);
            }
        }
        return colors;
    }

    private static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash >= 0 ? path.substring(slash + 1) : path;
    }

    private static final String CSS = """
            body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
            h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
            .lead{color:#555}.row{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}.fig{flex:0 0 auto}
            .why{flex:1 1 260px;max-width:420px;line-height:1.5;color:#333;background:#f7f7f4;padding:12px 14px;border-radius:6px}
            table{border-collapse:collapse;font-size:13px}td,th{padding:3px 9px;border-bottom:1px solid #eee;text-align:right}
            td:nth-child(2),td:last-child,th:nth-child(2),th:last-child{text-align:left}tr.frontier td{font-weight:600}
            tr.notrun td{color:#999}svg.chart{font-family:inherit;background:#fff}code{background:#f2f2f2;padding:0 3px}
            footer{margin-top:32px;color:#777;font-size:12px}
            """;
}
