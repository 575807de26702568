package org.mm4j.bench;

/**
 * One result row: {@code ns_per_op} is ns per alloc+free pair (remote-free: wall time per object), {@code error}
 * JMH's 99.9 % confidence half-width in ns; both null when the row did not run, and then {@code note} says why.
 */
public record Row(String workload, String allocator, int threads, Double nsPerOp, Double error, String note) {

    public static Row measured(final String workload, final String allocator, final int threads,
                               final double nsPerOp, final double error) {
        return new Row(workload, allocator, threads, nsPerOp, Double.isFinite(error) ? error : null, null);
    }

    public static Row skipped(final String workload, final String allocator, final int threads, final String note) {
        return new Row(workload, allocator, threads, null, null, note);
    }

    public boolean ran() {
        return nsPerOp != null;
    }
}
