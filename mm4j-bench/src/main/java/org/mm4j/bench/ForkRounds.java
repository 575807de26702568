package org.mm4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.util.ListStatistics;

/**
 * The order of the comparison's forks, and how a row's forks merge into one {@link Row}.
 *
 * <p><b>Rounds.</b> On a small shared machine a fork's speed depends on a machine state that lasts minutes (forks
 * of the same jar differ by 25 %). JMH runs all forks of one benchmark before the next, so a slow minute would land
 * on one allocator's forks only. {@link #schedule} runs the forks in rounds instead: round {@code r} runs one fork
 * of every allocator for every workload, the allocators' order rotated by {@code r} (round 0 starts with the first
 * allocator, round 1 with the second, ...), so every allocator sees the same machine minutes and no allocator
 * always runs first or last after another. Forks of the same round and workload ran within a minute or so of each
 * other: their ratio is a paired comparison ({@link Targets#pairedRatios}).
 *
 * <p><b>Merge and error.</b> {@link #merge} takes each round's measured iterations of one (workload, allocator).
 * The score is the mean of the fork means. The error the ranking uses is the 99.9 % Student-t half-width over the
 * fork means, {@code t(0.9995, k-1) * sd(fork means) / sqrt(k)} for {@code k} forks (JMH's
 * {@link ListStatistics#getMeanErrorAt} on the fork means): iterations inside one fork are not independent (a fork
 * keeps its machine state, and remote-free forks are bimodal, each fork in one mode), so the fork is the
 * independent unit and the fork means carry both the between-fork and the within-fork spread. JMH's own multi-fork
 * error pools all iterations as if independent ({@code n} = forks x iterations) and is too narrow whenever forks
 * differ; it is kept beside ({@link Row#iterationError}) for comparison with older tables. JMH gives no interval
 * for fewer than {@value #MIN_FORKS_FOR_FORK_ERROR} values, so with 1 or 2 forks (a smoke test) the row falls back to
 * the pooled iterations' error and says so. With 3 forks {@code t} is 31.6, so only rows far apart rank; 6 forks
 * ({@code t} = 6.9) rank much finer.
 */
public final class ForkRounds {
    /** Fewest forks for which the error is taken over the fork means (JMH's statistics need three values). */
    public static final int MIN_FORKS_FOR_FORK_ERROR = 3;

    /** The 99.9 % confidence level of every interval here, as JMH's scores. */
    public static final double CONFIDENCE = 0.999;

    private ForkRounds() {
    }

    /** Forks from which on the 99.9 % t factor (6.9) lets rows a few errors apart rank; printed as advice. */
    public static final int RANKING_FORKS = 6;

    /**
     * The 99.9 % two-sided Student-t factor for {@code k} values ({@code k - 1} degrees of freedom), as JMH's
     * statistics use it: 31.6 for 3, 8.6 for 5, 6.9 for 6; NaN below {@value #MIN_FORKS_FOR_FORK_ERROR}.
     */
    public static double studentT(final int k) {
        if (k < MIN_FORKS_FOR_FORK_ERROR) {
            return Double.NaN;
        }
        final ListStatistics s = new ListStatistics();
        for (int i = 0; i < k; i++) {
            s.addValue(i);
        }
        return s.getMeanErrorAt(CONFIDENCE) * Math.sqrt(k) / s.getStandardDeviation();
    }

    /** One fork: which round, workload and allocator row it measures. */
    public record Slot(int round, Workload workload, String allocator) {
    }

    /**
     * The forks in the order they run: {@code rounds} rounds; in each, the workloads in order and, for each, every
     * allocator once, the list rotated left by the round's number.
     */
    public static List<Slot> schedule(final List<Workload> workloads, final List<String> allocators,
                                      final int rounds) {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds " + rounds + " (expected: >= 1)");
        }
        final List<Slot> out = new ArrayList<>();
        final int n = allocators.size();
        for (int r = 0; r < rounds; r++) {
            for (final Workload w : workloads) {
                for (int i = 0; i < n; i++) {
                    out.add(new Slot(r, w, allocators.get((i + r) % n)));
                }
            }
        }
        return out;
    }

    /**
     * Merges one row's forks. {@code iterationsByRound.get(r)} holds round {@code r}'s measured iteration scores
     * (ns/op), or null when that round's fork failed. Returns a skipped row when no fork produced a result.
     */
    public static Row merge(final String workload, final String allocator, final int threads,
                            final List<double[]> iterationsByRound) {
        final List<Double> forkMeans = new ArrayList<>();
        final ListStatistics means = new ListStatistics();
        final ListStatistics all = new ListStatistics();
        final List<Integer> failed = new ArrayList<>();
        for (int r = 0; r < iterationsByRound.size(); r++) {
            final double[] it = iterationsByRound.get(r);
            if (it == null || it.length == 0) {
                forkMeans.add(Double.NaN);
                failed.add(r + 1);
                continue;
            }
            double sum = 0;
            for (final double x : it) {
                sum += x;
                all.addValue(x);
            }
            forkMeans.add(sum / it.length);
            means.addValue(sum / it.length);
        }
        if (means.getN() == 0) {
            return Row.skipped(workload, allocator, threads, "benchmark failed in every fork (see the JMH log above)");
        }
        final double iterationError = all.getMeanErrorAt(CONFIDENCE);
        final double error = means.getN() >= MIN_FORKS_FOR_FORK_ERROR ? means.getMeanErrorAt(CONFIDENCE)
            : iterationError;
        final String note = failed.isEmpty() ? null : String.format(Locale.ROOT,
            "the fork of round(s) %s failed (see the JMH log above); merged %d fork(s)",
            failed.toString().replaceAll("[\\[\\] ]", ""), means.getN());
        return new Row(workload, allocator, threads, means.getMean(), Row.finite(error),
            Row.finite(all.getPercentile(50)), note, forkMeans, Row.finite(iterationError));
    }
}
