package org.mm4j.bench;

import java.util.List;

/**
 * One result row, merged over the row's forks (one fork per round, {@link ForkRounds}): {@code nsPerOp} is the
 * mean of the fork means, ns per alloc+free pair (remote-free: wall time per object); {@code error} the 99.9 %
 * half-width the ranking uses ({@link ForkRounds#merge}: over the fork means when there are at least
 * {@value ForkRounds#MIN_FORKS_FOR_FORK_ERROR}, else over the iterations); {@code median} the median iteration of
 * all forks (robust against a shared machine's descheduling spikes); {@code forkMeans} each round's fork mean,
 * NaN where that round's fork failed (empty for a row made by hand); {@code iterationError} JMH's 99.9 %
 * half-width over all iterations of all forks pooled, as JMH's own multi-fork score has it. All numbers null
 * when the row did not run, and then {@code note} says why; a measured row may carry a note too (a failed fork).
 */
public record Row(String workload, String allocator, int threads, Double nsPerOp, Double error, Double median,
                  String note, List<Double> forkMeans, Double iterationError) {

    public Row {
        forkMeans = forkMeans == null ? List.of() : List.copyOf(forkMeans);
    }

    /** A measured row without per-fork data (tests, a single JMH result). */
    public static Row measured(final String workload, final String allocator, final int threads,
                               final double nsPerOp, final double error, final double median) {
        return new Row(workload, allocator, threads, nsPerOp, finite(error), finite(median), null, List.of(),
            finite(error));
    }

    public static Row skipped(final String workload, final String allocator, final int threads, final String note) {
        return new Row(workload, allocator, threads, null, null, null, note, List.of(), null);
    }

    public boolean ran() {
        return nsPerOp != null;
    }

    /** Forks that produced a result. */
    public int forks() {
        return (int) forkMeans.stream().filter(Double::isFinite).count();
    }

    /** True when {@link #error} is the interval over the fork means (else over the pooled iterations). */
    public boolean errorOverForks() {
        return forks() >= ForkRounds.MIN_FORKS_FOR_FORK_ERROR;
    }

    static Double finite(final double d) {
        return Double.isFinite(d) ? d : null;
    }
}
