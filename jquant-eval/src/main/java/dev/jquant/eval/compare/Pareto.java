package dev.jquant.eval.compare;

import java.util.ArrayList;
import java.util.List;

/** The size–quality frontier: configurations no other one beats on both file size and KL divergence. */
public final class Pareto {
    private Pareto() {
    }

    /** The rows with {@code onFrontier} set; rows that did not run are never on it. */
    public static List<ConfigResult> mark(List<ConfigResult> rows) {
        List<ConfigResult> out = new ArrayList<>(rows.size());
        for (ConfigResult r : rows) {
            out.add(r.withFrontier(r.ok() && rows.stream().noneMatch(o -> o != r && dominates(o, r))));
        }
        return out;
    }

    /** {@code a} is no larger and no worse than {@code b}, and strictly better in one. */
    static boolean dominates(ConfigResult a, ConfigResult b) {
        if (!a.ok()) {
            return false;
        }
        boolean noWorse = a.fileBytes() <= b.fileBytes() && a.kldMean() <= b.kldMean();
        boolean better = a.fileBytes() < b.fileBytes() || a.kldMean() < b.kldMean();
        return noWorse && better;
    }
}
