package dev.jquant.quantize.mixed;

import dev.jquant.JQuantException;

/**
 * Picks one setting per tensor minimising the predicted KL (sum of the sensitivity table's entries)
 * with total bytes within a budget: a multiple-choice knapsack, solved by its Lagrangian relaxation —
 * for a price λ per byte each tensor independently takes {@code argmin kl + λ·bytes}; bisection on
 * λ finds the cheapest mix that fits — then filled greedily with the upgrades that buy the most KL
 * per byte while they still fit.
 */
public final class BudgetAllocator {
    private static final int BISECTIONS = 100;

    private BudgetAllocator() {
    }

    /** The setting index chosen for each tensor. */
    public static int[] allocate(Sensitivity table, long budgetBytes) {
        int n = table.tensors().size();
        int[] cheapest = new int[n];
        for (int i = 0; i < n; i++) {
            cheapest[i] = argmin(table, i, Double.POSITIVE_INFINITY);
        }
        if (table.bytes(cheapest) > budgetBytes) {
            throw new JQuantException("the budget of " + budgetBytes + " bytes is below the smallest candidate mix ("
                    + table.bytes(cheapest) + " bytes)");
        }
        double lo = 0;
        double hi = 1;
        while (table.bytes(choose(table, hi)) > budgetBytes) {
            hi *= 2;
        }
        for (int it = 0; it < BISECTIONS; it++) {
            double mid = (lo + hi) / 2;
            if (table.bytes(choose(table, mid)) > budgetBytes) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        int[] choice = choose(table, hi);
        fill(table, choice, budgetBytes);
        return choice;
    }

    private static int[] choose(Sensitivity t, double lambda) {
        int[] c = new int[t.tensors().size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = argmin(t, i, lambda);
        }
        return c;
    }

    /** argmin kl + λ·bytes; λ = ∞ means the smallest (then lowest-KL) setting. */
    private static int argmin(Sensitivity t, int i, double lambda) {
        int best = 0;
        for (int j = 1; j < t.settings().size(); j++) {
            boolean better = Double.isInfinite(lambda)
                    ? t.bytes()[i][j] < t.bytes()[i][best]
                            || (t.bytes()[i][j] == t.bytes()[i][best] && t.kl()[i][j] < t.kl()[i][best])
                    : t.kl()[i][j] + lambda * t.bytes()[i][j] < t.kl()[i][best] + lambda * t.bytes()[i][best];
            if (better) {
                best = j;
            }
        }
        return best;
    }

    /** Spends what is left of the budget on the upgrades with the largest KL reduction per byte. */
    private static void fill(Sensitivity t, int[] choice, long budget) {
        long used = t.bytes(choice);
        while (true) {
            int bestI = -1;
            int bestJ = -1;
            double bestGain = 0;
            for (int i = 0; i < choice.length; i++) {
                for (int j = 0; j < t.settings().size(); j++) {
                    long extra = t.bytes()[i][j] - t.bytes()[i][choice[i]];
                    double drop = t.kl()[i][choice[i]] - t.kl()[i][j];
                    if (drop <= 0 || used + extra > budget) {
                        continue;
                    }
                    double gain = extra <= 0 ? Double.POSITIVE_INFINITY : drop / extra;
                    if (gain > bestGain) {
                        bestGain = gain;
                        bestI = i;
                        bestJ = j;
                    }
                }
            }
            if (bestI < 0) {
                return;
            }
            used += t.bytes()[bestI][bestJ] - t.bytes()[bestI][choice[bestI]];
            choice[bestI] = bestJ;
        }
    }
}
