package org.mm4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The speed targets as ratios within one run (the fast-path issue): on each of the workloads with written memory,
 * {@code mm4j} ({@code kmalloc}/{@code kfree}) at most the best of jemalloc and mimalloc, {@code mm4j-segment}
 * ({@code allocate}/{@code free(MemorySegment)}) within 1.3x of {@code mm4j}, and in the producer/consumer workload
 * {@code mm4j} ahead of jemalloc. {@link #report} says for each whether it is met, or by how much it is missed.
 *
 * <p>Rules of fairness: a target compares only critical downcalls and Java allocators (the plain
 * {@code glibc-malloc} row is information only, {@link Allocators#INFORMATION_ONLY}); a comparison in a workload
 * with more than one thread is not ranked when either row's error exceeds {@value #MAX_RANKED_ERROR_PERCENT} % of
 * its score (the remote-free row swings most on a shared machine).
 */
public final class Targets {
    /** Above this error (99.9 % half-width, percent of the score) a multi-thread comparison is not ranked. */
    public static final int MAX_RANKED_ERROR_PERCENT = 20;

    /** The workloads of the fast-path targets (every object written). */
    public static final List<String> FAST_PATH_WORKLOADS = List.of(
        "alloc-free-64", "ring-64", "ring-mixed-16-4096", "batch-1024x64");

    /** The best native peers, the bar of the fast-path targets. */
    public static final List<String> BEST_PEERS = List.of("jemalloc", "mimalloc");

    /**
     * One target: on {@code workload}, subject / (the fastest of {@code peers}) &lt;= limit; {@code ranked only
     * within error}: the comparison is refused when an error exceeds {@value #MAX_RANKED_ERROR_PERCENT} %.
     */
    public record Target(String workload, String subject, List<String> peers, double limit, String limitText,
                         boolean rankedOnlyWithinError) {
    }

    public static final List<Target> ALL = all();

    private static List<Target> all() {
        final List<Target> t = new ArrayList<>();
        for (final String w : FAST_PATH_WORKLOADS) {
            t.add(new Target(w, "mm4j", BEST_PEERS, 1.0, "1", false));
        }
        for (final String w : FAST_PATH_WORKLOADS) {
            t.add(new Target(w, "mm4j-segment", List.of("mm4j"), 1.3, "1.3", false));
        }
        t.add(new Target("remote-free-2t-64", "mm4j", List.of("jemalloc"), 1.0, "1", true));
        return List.copyOf(t);
    }

    /**
     * The outcome of one target against its fastest available peer {@code peer}: {@code ratio} of the JMH scores
     * (means), {@code medianRatio} of the median iterations; NaN when a row is missing. {@code unranked} holds
     * the reason a ranking is refused (error too large), else null; {@code withinErrors}: the two scores' 99.9 %
     * intervals overlap, so the verdict is not significant (it is still reported).
     */
    public record Outcome(Target target, String peer, double ratio, double medianRatio, String unranked,
                          boolean withinErrors) {
        public boolean known() {
            return Double.isFinite(ratio);
        }

        public boolean ranked() {
            return known() && unranked == null;
        }

        public boolean met() {
            return ranked() && ratio <= target.limit() * (1 + 1e-9);
        }

        /** How many times too slow: ratio / limit (&gt; 1 when missed). */
        public double missFactor() {
            return ratio / target.limit();
        }

        public String describe() {
            final String peers = target.peers().size() == 1 ? target.peers().get(0)
                : "best of " + String.join("/", target.peers()) + (peer == null ? "" : " (" + peer + ")");
            final String head = String.format(Locale.ROOT, "%-19s %s / %s", target.workload(), target.subject(),
                peers);
            if (!known()) {
                return String.format(Locale.ROOT, "%-62s = n/a    (target <= %s)  not measured", head,
                    target.limitText());
            }
            final String verdict = unranked != null ? "NOT RANKED: " + unranked
                : met() ? String.format(Locale.ROOT, "met (%.2fx margin)", 1 / missFactor())
                : String.format(Locale.ROOT, "MISSED: %.2fx too slow", missFactor());
            final String median = Double.isFinite(medianRatio)
                ? String.format(Locale.ROOT, ", medians %.3f", medianRatio) : "";
            return String.format(Locale.ROOT, "%-62s = %6.3f (target <= %s%s)  %s%s", head, ratio,
                target.limitText(), median, verdict,
                unranked == null && withinErrors ? " (scores within each other's 99.9 % errors)" : "");
        }
    }

    private Targets() {
    }

    public static List<Outcome> evaluate(final List<Row> rows) {
        final List<Outcome> out = new ArrayList<>();
        for (final Target t : ALL) {
            out.add(evaluate(rows, t));
        }
        return out;
    }

    static Outcome evaluate(final List<Row> rows, final Target t) {
        final Row mine = row(rows, t.workload(), t.subject());
        final Row best = fastest(rows, t.workload(), t.peers());
        final String peer = best == null ? null : best.allocator();
        String unranked = null;
        if (t.rankedOnlyWithinError() && mine != null && best != null) {
            unranked = tooNoisy(mine);
            if (unranked == null) {
                unranked = tooNoisy(best);
            }
        }
        return new Outcome(t, peer, ratio(mine, best, Row::nsPerOp), ratio(mine, best, Row::median), unranked,
            overlap(mine, best));
    }

    /** True when both rows ran and their 99.9 % intervals (score ± error) overlap; a missing error counts as 0. */
    static boolean overlap(final Row x, final Row y) {
        if (x == null || y == null) {
            return false;
        }
        final double ex = x.error() == null ? 0 : x.error();
        final double ey = y.error() == null ? 0 : y.error();
        return Math.abs(x.nsPerOp() - y.nsPerOp()) <= ex + ey;
    }

    /** Null when the row's error is within {@value #MAX_RANKED_ERROR_PERCENT} % of its score, else why not. */
    static String tooNoisy(final Row r) {
        final double pct = r.error() == null ? Double.POSITIVE_INFINITY : 100 * r.error() / r.nsPerOp();
        return pct <= MAX_RANKED_ERROR_PERCENT ? null : String.format(Locale.ROOT,
            "%s's error is %s of its score (limit %d %%)", r.allocator(),
            Double.isFinite(pct) ? String.format(Locale.ROOT, "%.0f %%", pct) : "unknown", MAX_RANKED_ERROR_PERCENT);
    }

    /** The fastest measured row of {@code allocators} in {@code workload}, or null. */
    static Row fastest(final List<Row> rows, final String workload, final List<String> allocators) {
        Row best = null;
        for (final String name : allocators) {
            final Row r = row(rows, workload, name);
            if (r != null && (best == null || r.nsPerOp() < best.nsPerOp())) {
                best = r;
            }
        }
        return best;
    }

    private static double ratio(final Row mine, final Row peer, final Function<Row, Double> value) {
        if (mine == null || peer == null) {
            return Double.NaN;
        }
        final Double a = value.apply(mine);
        final Double b = value.apply(peer);
        return a == null || b == null || b == 0 ? Double.NaN : a / b;
    }

    static Row row(final List<Row> rows, final String workload, final String allocator) {
        for (final Row r : rows) {
            if (r.workload().equals(workload) && r.allocator().equals(allocator) && r.ran()) {
                return r;
            }
        }
        return null;
    }

    /** The target lines. */
    public static String report(final List<Row> rows) {
        final StringBuilder sb = new StringBuilder();
        for (final Outcome o : evaluate(rows)) {
            sb.append(o.describe()).append('\n');
        }
        return sb.toString();
    }

    /**
     * For every workload in the rows: each mm4j row's ns/op over the fastest of jemalloc and mimalloc, and the
     * cache-resident bump floor's; multi-thread workloads whose rows are too noisy to rank say so.
     */
    public static String bestPeerRatios(final List<Row> rows) {
        final List<String> workloads = new ArrayList<>();
        for (final Row r : rows) {
            if (!workloads.contains(r.workload())) {
                workloads.add(r.workload());
            }
        }
        final List<String> subjects = List.of("mm4j", "mm4j-segment", "mm4j-cpu-slab", "arena-bump-256k");
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-22s %-9s", "workload", "best"));
        for (final String s : subjects) {
            sb.append(String.format(Locale.ROOT, " %16s", s));
        }
        sb.append('\n');
        for (final String w : workloads) {
            final Row best = fastest(rows, w, BEST_PEERS);
            sb.append(String.format(Locale.ROOT, "%-22s %-9s", w, best == null ? "-" : best.allocator()));
            String noisy = null;
            for (final String s : subjects) {
                final Row r = row(rows, w, s);
                final double q = ratio(r, best, Row::nsPerOp);
                sb.append(String.format(Locale.ROOT, " %16s",
                    Double.isFinite(q) ? String.format(Locale.ROOT, "%.2f", q) : "-"));
                if (r != null && best != null && r.threads() > 1 && noisy == null) {
                    noisy = tooNoisy(r) != null ? tooNoisy(r) : tooNoisy(best);
                }
            }
            if (noisy != null) {
                sb.append("  (not ranked: ").append(noisy).append(')');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
