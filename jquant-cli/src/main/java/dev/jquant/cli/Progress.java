package dev.jquant.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress on stderr: a progress bar (me.tongfei:progressbar) on a terminal, a plain line every few
 * seconds otherwise (logs and CI), nothing when quiet.
 */
final class Progress {
    private static final long PLAIN_INTERVAL_NANOS = 5_000_000_000L;
    private final String label;
    private final boolean quiet;
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private final long start = System.nanoTime();
    private ProgressBar bar;
    private long lastPrint;

    Progress(String label, boolean quiet) {
        this.label = label;
        this.quiet = quiet;
    }

    void update(int done, int total, String detail) {
        if (quiet) {
            return;
        }
        if (terminal) {
            if (bar == null) {
                bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(total).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(100)
                        .showSpeed().build();
            }
            bar.maxHint(total);
            bar.stepTo(done);
            bar.setExtraMessage(detail);
            return;
        }
        long now = System.nanoTime();
        if (done != total && now - lastPrint < PLAIN_INTERVAL_NANOS) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1e9;
        double eta = done == 0 ? 0 : elapsed / done * (total - done);
        System.err.printf("%s %d/%d  %s  elapsed %s  eta %s%n", label, done, total, detail, duration(elapsed), duration(eta));
    }

    void done() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }
}
