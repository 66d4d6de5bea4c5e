package dev.jquant.eval.report;

import dev.jquant.eval.compare.ComparisonResult;
import dev.jquant.eval.compare.SmallComparison;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report opens in headless Chromium with every chart drawn, and its screenshot is not blank. */
class HtmlReportTest {

    private static Path report(Path dir) throws Exception {
        ComparisonResult r = SmallComparison.result();
        Path page = dir.resolve("report.html");
        Files.writeString(page, HtmlReport.render(r));
        return page;
    }

    @Test
    void everyChartIsDrawnWithDataInChromium(@TempDir Path dir) throws Exception {
        String html = Files.readString(report(dir));
        assertFalse(html.contains("<script") || html.contains("http://") && !html.contains("xmlns=\"http://www.w3.org/2000/svg\""),
                "self-contained: no scripts, nothing from the network");
        assertFalse(Pattern.compile("(src|href)=\"https?:").matcher(html).find(), "no external resources");
        String dom = Chromium.dumpDom(dir.resolve("report.html"), dir);
        int okRows = 2;
        assertEquals(okRows, count(section(dom, "pareto-kld"), "<circle class=\"point\""));
        assertEquals(okRows + 1, count(section(dom, "pareto-ppl"), "<circle class=\"point"), "configurations + the reference");
        assertTrue(section(dom, "pareto-kld").contains("class=\"frontier\""));
        // 5 layers × 7 matrices + embeddings + output, for two configurations
        assertEquals(2 * 37, count(section(dom, "layer-weight"), "class=\"cell\""));
        assertEquals(2 * 35, count(section(dom, "layer-output"), "class=\"cell\""), "no recorded input for embeddings/output");
        assertTrue(count(section(dom, "weights"), "class=\"bar\"") > 2 * 40);
        assertTrue(count(section(dom, "activations"), "class=\"bar\"") >= 2 * 64);
        assertEquals(2 * (okRows + 1), count(section(dom, "speed"), "class=\"bar\""));
        for (String id : new String[] {"pareto-kld", "pareto-ppl", "layer-weight", "layer-output", "weights", "activations", "speed"}) {
            assertTrue(section(dom, id).contains("<p class=\"why\">"), id + " has its explanation");
        }
    }

    @Test
    void screenshotIsNotBlank(@TempDir Path dir) throws Exception {
        Path png = Chromium.screenshot(report(dir), dir, 1200, 1600);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1200, img.getWidth());
        double sum = 0;
        double sumSq = 0;
        long colored = 0;
        int n = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y);
                int r = rgb >> 16 & 255;
                int g = rgb >> 8 & 255;
                int b = rgb & 255;
                double lum = 0.299 * r + 0.587 * g + 0.114 * b;
                sum += lum;
                sumSq += lum * lum;
                colored += Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 40 ? 1 : 0;
                n++;
            }
        }
        double variance = sumSq / n - (sum / n) * (sum / n);
        assertTrue(variance > 200, "pixel variance " + variance + ": the page looks blank");
        assertTrue(colored > n / 200, "coloured pixels " + colored + " of " + n + ": no charts visible");
    }

    private static String section(String dom, String id) {
        Matcher m = Pattern.compile("<section id=\"" + id + "\">(.*?)</section>", Pattern.DOTALL).matcher(dom);
        assertTrue(m.find(), "section " + id + " is missing");
        return m.group(1);
    }

    private static int count(String s, String what) {
        int c = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            c++;
        }
        return c;
    }
}
