package org.mm4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The speed targets of the SLUB issue as ratios within one run: {@code mm4j}'s ns/op divided by a peer's must be
 * at most {@code limit}. {@link #report} says for each whether it is met, or by how much it is missed.
 */
public final class Targets {
    /** One target: on {@code workload}, subject / peer &lt;= limit. */
    public record Target(String workload, String peer, double limit, String limitText) {
    }

    public static final List<Target> ALL = List.of(
        new Target("alloc-free-64", "glibc-malloc", 1.0 / 3, "1/3"),
        new Target("alloc-free-64", "netty-pooled-direct", 1.0 / 5, "1/5"),
        new Target("alloc-free-64", "glibc-malloc-critical", 1.0, "1"),
        new Target("alloc-free-64", "mimalloc", 1.0, "1"),
        new Target("alloc-free-64", "jemalloc", 1.0, "1"),
        new Target("alloc-free-64", "arena-bump", 2.0, "2"),
        new Target("kmalloc-random-8-8192", "glibc-malloc", 1.0 / 2, "1/2"),
        new Target("remote-free-2t-64", "glibc-malloc", 1.0 / 2, "1/2"),
        new Target("remote-free-2t-64", "jemalloc", 1.0, "1"));

    /**
     * The outcome of one target: {@code ratio} of the JMH scores (means), {@code medianRatio} of the median
     * iterations; NaN when either row is missing.
     */
    public record Outcome(Target target, String subject, double ratio, double medianRatio) {
        public boolean known() {
            return Double.isFinite(ratio);
        }

        public boolean met() {
            return known() && ratio <= target.limit() * (1 + 1e-9);
        }

        /** How many times too slow: ratio / limit (&gt; 1 when missed). */
        public double missFactor() {
            return ratio / target.limit();
        }

        public String describe() {
            final String head = String.format(Locale.ROOT, "%-22s %s / %s", target.workload(), subject,
                target.peer());
            if (!known()) {
                return String.format(Locale.ROOT, "%-62s = n/a    (target <= %s)  not measured", head,
                    target.limitText());
            }
            final String verdict = met()
                ? String.format(Locale.ROOT, "met (%.2fx margin)", 1 / missFactor())
                : String.format(Locale.ROOT, "MISSED: %.2fx too slow", missFactor());
            final String median = Double.isFinite(medianRatio)
                ? String.format(Locale.ROOT, ", medians %.3f", medianRatio) : "";
            return String.format(Locale.ROOT, "%-62s = %6.3f (target <= %s%s)  %s", head, ratio, target.limitText(),
                median, verdict);
        }
    }

    private Targets() {
    }

    public static List<Outcome> evaluate(final List<Row> rows, final String subject) {
        final List<Outcome> out = new ArrayList<>();
        for (final Target t : ALL) {
            final Row mine = row(rows, t.workload(), subject);
            final Row peer = row(rows, t.workload(), t.peer());
            out.add(new Outcome(t, subject, ratio(mine, peer, Row::nsPerOp), ratio(mine, peer, Row::median)));
        }
        return out;
    }

    private static double ratio(final Row mine, final Row peer, final Function<Row, Double> value) {
        if (mine == null || peer == null) {
            return Double.NaN;
        }
        final Double a = value.apply(mine);
        final Double b = value.apply(peer);
        return a == null || b == null || b == 0 ? Double.NaN : a / b;
    }

    private static Row row(final List<Row> rows, final String workload, final String allocator) {
        for (final Row r : rows) {
            if (r.workload().equals(workload) && r.allocator().equals(allocator) && r.ran()) {
                return r;
            }
        }
        return null;
    }

    /** The target lines for {@code mm4j} and, for comparison, the per-CPU slab path {@code mm4j-cpu-slab}. */
    public static String report(final List<Row> rows) {
        final StringBuilder sb = new StringBuilder();
        for (final String subject : List.of("mm4j", "mm4j-cpu-slab")) {
            for (final Outcome o : evaluate(rows, subject)) {
                sb.append(o.describe()).append('\n');
            }
        }
        return sb.toString();
    }
}
