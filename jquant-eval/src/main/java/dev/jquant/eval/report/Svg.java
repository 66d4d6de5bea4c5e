package dev.jquant.eval.report;

import java.util.Locale;

/** A small SVG writer: shapes and text with escaped content, numbers printed compactly. */
final class Svg {
    private final StringBuilder sb = new StringBuilder();
    private final int width;
    private final int height;

    Svg(int width, int height, String label) {
        this.width = width;
        this.height = height;
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"")
                .append(escape(label)).append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" width=\"").append(width).append("\" height=\"").append(height).append("\">");
    }

    int width() {
        return width;
    }

    int height() {
        return height;
    }

    Svg line(double x1, double y1, double x2, double y2, String style) {
        sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
                .append("\" y2=\"").append(n(y2)).append("\" style=\"").append(style).append("\"/>");
        return this;
    }

    /** A rectangle; {@code cssClass} "bar"/"cell" mark data, with the value in a title tooltip. */
    Svg rect(double x, double y, double w, double h, String fill, String cssClass, String title) {
        sb.append("<rect class=\"").append(cssClass).append("\" x=\"").append(n(x)).append("\" y=\"").append(n(y))
                .append("\" width=\"").append(n(Math.max(0, w))).append("\" height=\"").append(n(Math.max(0, h)))
                .append("\" fill=\"").append(fill).append("\">");
        if (title != null) {
            sb.append("<title>").append(escape(title)).append("</title>");
        }
        sb.append("</rect>");
        return this;
    }

    Svg circle(double cx, double cy, double r, String style, String cssClass, String title) {
        sb.append("<circle class=\"").append(cssClass).append("\" cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy))
                .append("\" r=\"").append(n(r)).append("\" style=\"").append(style).append("\"><title>")
                .append(escape(title)).append("</title></circle>");
        return this;
    }

    Svg polyline(double[] xs, double[] ys, String style, String cssClass) {
        sb.append("<polyline class=\"").append(cssClass).append("\" points=\"");
        for (int i = 0; i < xs.length; i++) {
            sb.append(n(xs[i])).append(',').append(n(ys[i])).append(' ');
        }
        sb.append("\" style=\"fill:none;").append(style).append("\"/>");
        return this;
    }

    /** Text; {@code anchor} start/middle/end; {@code rotate} degrees about its position. */
    Svg text(double x, double y, String s, String anchor, int size, double rotate) {
        sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
                .append("\" font-size=\"").append(size).append('"');
        if (rotate != 0) {
            sb.append(" transform=\"rotate(").append(n(rotate)).append(' ').append(n(x)).append(' ').append(n(y)).append(")\"");
        }
        sb.append('>').append(escape(s)).append("</text>");
        return this;
    }

    @Override
    public String toString() {
        return sb + "</svg>";
    }

    static String n(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
