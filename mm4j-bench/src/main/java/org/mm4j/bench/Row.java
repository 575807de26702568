package org.mm4j.bench;

/**
 * One result row: {@code ns_per_op} is JMH's score, the mean ns per alloc+free pair over the measurement
 * iterations (remote-free: wall time per object), {@code error} its 99.9 % confidence half-width in ns, and
 * {@code median} the median iteration (robust against a shared machine's descheduling spikes); all null when the
 * row did not run, and then {@code note} says why.
 */
public record Row(String workload, String allocator, int threads, Double nsPerOp, Double error, Double median,
                  String note) {

    public static Row measured(final String workload, final String allocator, final int threads,
                               final double nsPerOp, final double error, final double median) {
        return new Row(workload, allocator, threads, nsPerOp, Double.isFinite(error) ? error : null,
            Double.isFinite(median) ? median : null, null);
    }

    public static Row skipped(final String workload, final String allocator, final int threads, final String note) {
        return new Row(workload, allocator, threads, null, null, null, note);
    }

    public boolean ran() {
        return nsPerOp != null;
    }
}
