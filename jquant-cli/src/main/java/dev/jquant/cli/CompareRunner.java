package dev.jquant.cli;

import dev.jquant.eval.compare.CandidateCatalog;
import dev.jquant.eval.compare.Comparison;
import dev.jquant.eval.compare.ComparisonResult;
import dev.jquant.eval.compare.ConfigResult;
import dev.jquant.eval.report.ResultsTable;

import java.nio.file.Path;
import java.util.List;

/** Runs a comparison with progress on stderr, writes the result files and prints the table: shared by compare and demo. */
final class CompareRunner {
    private CompareRunner() {
    }

    static ComparisonResult run(Path model, Path calib, Path eval, Path out, List<CandidateCatalog.Entry> entries,
                                Comparison.Options options) {
        Listener listener = new Listener();
        ComparisonResult result;
        try {
            result = Comparison.run(model, calib, eval, out, entries, options, listener);
        } finally {
            listener.close();
        }
        ResultsTable.writeAll(result, out);
        System.out.println();
        System.out.print(ResultsTable.text(result));
        System.out.printf("%n* = on the size-KL Pareto frontier. %d chunks of %d tokens (%d scored), %.0f s.%n",
                result.chunks(), result.ctx(), result.tokensScored(), result.seconds());
        System.out.printf("wrote %s (open in a browser), results.json, results.csv, results.md%n",
                out.resolve("report.html").toAbsolutePath().normalize());
        return result;
    }

    /** One progress bar per stage of each configuration, and a line when a configuration is done. */
    private static final class Listener implements Comparison.Listener {
        private Progress progress;
        private int total;

        @Override
        public void stage(String configuration, String stage, int total) {
            close();
            this.total = total;
            progress = new Progress(String.format("%-16s %-11s", configuration, stage), false);
        }

        @Override
        public void step(int done, String detail) {
            progress.update(done, total, detail);
        }

        @Override
        public void configurationDone(ConfigResult r, int index, int count) {
            close();
            String what = r.ok() ? String.format("%,d bytes, PPL %.4f, KLD %.5f", r.fileBytes(), r.ppl(), r.kldMean())
                    : r.status() + ": " + r.message();
            System.err.printf("[%d/%d] %s: %s%n", index, count, r.name(), what);
        }

        void close() {
            if (progress != null) {
                progress.done();
                progress = null;
            }
        }
    }
}
