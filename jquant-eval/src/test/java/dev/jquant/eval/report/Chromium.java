package dev.jquant.eval.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Headless Chromium (Debian's {@code chromium}, installed by .ci/run) rendering a local page, offline. */
final class Chromium {
    private Chromium() {
    }

    static String binary() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        return fail("chromium is not installed (apt-get install -y chromium); the report tests need it");
    }

    /** The DOM after rendering {@code page}. */
    static String dumpDom(Path page, Path work) throws Exception {
        return run(work, "--dump-dom", page.toUri().toString());
    }

    /** A PNG screenshot of {@code page} at the given window size. */
    static Path screenshot(Path page, Path work, int width, int height) throws Exception {
        Path png = work.resolve("shot.png");
        run(work, "--screenshot=" + png, "--window-size=" + width + "," + height, page.toUri().toString());
        assertTrue(Files.size(png) > 0, "chromium wrote no screenshot");
        return png;
    }

    private static String run(Path work, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory(work, "profile")));
        cmd.addAll(List.of(args));
        Path out = work.resolve("chromium.out");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(work.resolve("chromium.err").toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 90 s");
        }
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + read(work.resolve("chromium.err")));
        return read(out);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
