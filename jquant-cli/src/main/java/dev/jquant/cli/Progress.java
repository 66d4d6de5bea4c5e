package dev.jquant.cli;

/** Progress on stderr: a redrawn line on a terminal, occasional plain lines otherwise, nothing when quiet. */
final class Progress {
    private final String label;
    private final boolean quiet;
    private final boolean terminal = System.console() != null;
    private final long start = System.nanoTime();
    private long lastPrint;

    Progress(String label, boolean quiet) {
        this.label = label;
        this.quiet = quiet;
    }

    void update(int done, int total, String detail) {
        if (quiet) {
            return;
        }
        long now = System.nanoTime();
        boolean last = done == total;
        if (!last && now - lastPrint < (terminal ? 100_000_000L : 5_000_000_000L)) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1e9;
        double eta = done == 0 ? 0 : elapsed / done * (total - done);
        String line = String.format("%s %d/%d  %s  elapsed %s  eta %s", label, done, total, detail,
                duration(elapsed), duration(eta));
        if (terminal) {
            System.err.print("\r" + line + "   ");
        } else {
            System.err.println(line);
        }
    }

    void done() {
        if (!quiet && terminal) {
            System.err.println();
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }
}
