package dev.jquant.eval.compare;

import dev.jquant.JQuantException;
import dev.jquant.eval.report.ResultsTable;
import dev.jquant.model.Checkpoint;
import dev.jquant.quantize.GgufQuantizer;
import dev.jquant.quantize.QuantizationSummary;
import dev.jquant.testing.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One small comparison on stories260K (2 chunks of 128 tokens of tinystories-dev; RTN Q8_0 and Q2_K,
 * NF4 requested at widths it does not offer, and a method that always fails), run once per test JVM and shared
 * by the comparison and report tests.
 */
public final class SmallComparison {
    private static ComparisonResult result;
    private static Path out;

    private SmallComparison() {
    }

    /** A method that always fails, to check that one failure does not end the run. */
    private record Broken() implements Candidate {
        public String name() {
            return "broken-4";
        }

        public String method() {
            return "broken";
        }

        public String setting() {
            return "4-bit";
        }

        public QuantizationSummary quantize(Checkpoint model, Calibration calibration, Path file, GgufQuantizer.Listener l) {
            throw new JQuantException("boom: no such luck");
        }
    }

    public static synchronized ComparisonResult result() {
        if (result == null) {
            try {
                out = Files.createTempDirectory("jquant-compare-test");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path text = text();
            List<CandidateCatalog.Entry> entries = new ArrayList<>(
                    CandidateCatalog.resolve(List.of("rtn", "nf4"), List.of(8, 2), List.of()));
            entries.add(new CandidateCatalog.Planned(new Broken()));
            Comparison.Options options = new Comparison.Options(128, 2, 1, 16, 4, null, false, List.of(), null);
            result = Comparison.run(SharedData.stories260k(), text, text, out, entries, options, new Comparison.Listener() {
                public void stage(String configuration, String stage, int total) {
                }

                public void step(int done, String detail) {
                }

                public void configurationDone(ConfigResult r, int index, int total) {
                }
            });
            ResultsTable.writeAll(result, out);
        }
        return result;
    }

    /** The directory the run wrote its files to. */
    public static synchronized Path out() {
        result();
        return out;
    }

    public static Path text() {
        return SharedData.file("tinystories/tinystories-dev.txt");
    }
}
