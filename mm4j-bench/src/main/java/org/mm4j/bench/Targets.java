package org.mm4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The speed targets as ratios within one run (the fast-path issue), and the rule that ranks two rows.
 *
 * <p>Targets: on each of the workloads with written memory, {@code mm4j} ({@code kmalloc}/{@code kfree}) at most
 * the best of jemalloc and mimalloc, {@code mm4j-segment} ({@code allocate}/{@code free(MemorySegment)}) within
 * 1.3x of {@code mm4j}, and in the producer/consumer workload {@code mm4j} ahead of jemalloc.
 *
 * <p>Ranking rule ({@link #rank}): two rows rank when their 99.9 % confidence intervals (score ± error, the
 * second scaled by the target's limit) are disjoint, whatever the errors' size; when they overlap the comparison
 * is "within the errors", neither met nor missed; a row whose error is unknown never ranks. A target with several
 * peers is met when its subject ranks below every peer, missed when it ranks above any. An error above
 * {@value #NOISY_ERROR_PERCENT} % of its score is reported as a warning ("noisy"), not a veto: a wide interval
 * already makes a ranking harder to reach. The plain {@code glibc-malloc} row is in no target
 * ({@link Allocators#INFORMATION_ONLY}).
 */
public final class Targets {
    /** Above this error (99.9 % half-width, percent of the score) a row is flagged noisy (a warning only). */
    public static final int NOISY_ERROR_PERCENT = 20;

    /** The workloads of the fast-path targets (every object written). */
    public static final List<String> FAST_PATH_WORKLOADS = List.of(
        "alloc-free-64", "ring-64", "ring-mixed-16-4096", "batch-1024x64");

    /** The best native peers, the bar of the fast-path targets. */
    public static final List<String> BEST_PEERS = List.of("jemalloc", "mimalloc");

    /** One target: on {@code workload}, subject &lt;= limit x every one of {@code peers}. */
    public record Target(String workload, String subject, List<String> peers, double limit, String limitText) {
    }

    public static final List<Target> ALL = all();

    private static List<Target> all() {
        final List<Target> t = new ArrayList<>();
        for (final String w : FAST_PATH_WORKLOADS) {
            t.add(new Target(w, "mm4j", BEST_PEERS, 1.0, "1"));
        }
        for (final String w : FAST_PATH_WORKLOADS) {
            t.add(new Target(w, "mm4j-segment", List.of("mm4j"), 1.3, "1.3"));
        }
        t.add(new Target("remote-free-2t-64", "mm4j", List.of("jemalloc"), 1.0, "1"));
        return List.copyOf(t);
    }

    /** Where row x lies against row y (y's interval scaled by a limit). */
    public enum Rank {
        /** x's interval lies wholly below y's: x is faster beyond both errors. */
        BELOW,
        /** x's interval lies wholly above y's. */
        ABOVE,
        /** The intervals overlap, or an error is unknown: no ranking. */
        WITHIN_ERRORS
    }

    /** A target's verdict under the ranking rule. */
    public enum Verdict { MET, MISSED, WITHIN_ERRORS, NOT_MEASURED }

    /**
     * The outcome of one target: {@code peer} is the peer with the lowest mean, {@code ratio} subject / that peer
     * (means), {@code medianRatio} of the median iterations, {@code pairedRatio} the median of the per-round ratios
     * (NaN with fewer than two rounds to pair); {@code decidedBy} the peer that decided a miss or left the verdict
     * within the errors (null when met or not measured); {@code warning} the noisy rows, or null.
     */
    public record Outcome(Target target, String peer, double ratio, double medianRatio, double pairedRatio,
                          Verdict verdict, String decidedBy, String warning) {
        public boolean known() {
            return verdict != Verdict.NOT_MEASURED;
        }

        public boolean met() {
            return verdict == Verdict.MET;
        }

        public boolean withinErrors() {
            return verdict == Verdict.WITHIN_ERRORS;
        }

        /** How many times too slow against the peer with the lowest mean: ratio / limit. */
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
            final String verdictText = switch (verdict) {
                case MET -> "met (intervals apart)";
                case MISSED -> "MISSED (intervals apart" + (decidedBy.equals(peer) ? ""
                    : ", against " + decidedBy) + ")";
                default -> "within the errors" + (target.peers().size() > 1 ? " (of " + decidedBy + ")" : "");
            };
            final StringBuilder extra = new StringBuilder();
            if (Double.isFinite(medianRatio)) {
                extra.append(String.format(Locale.ROOT, ", medians %.3f", medianRatio));
            }
            if (Double.isFinite(pairedRatio)) {
                extra.append(String.format(Locale.ROOT, ", paired %.3f", pairedRatio));
            }
            return String.format(Locale.ROOT, "%-62s = %6.3f (target <= %s%s)  %s%s", head, ratio,
                target.limitText(), extra, verdictText, warning == null ? "" : "  [warning: " + warning + "]");
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
        if (mine == null || best == null) {
            return new Outcome(t, best == null ? null : best.allocator(), Double.NaN, Double.NaN, Double.NaN,
                Verdict.NOT_MEASURED, null, null);
        }
        Row above = null;
        Row overlapping = null;
        final List<Row> involved = new ArrayList<>(List.of(mine));
        for (final String name : t.peers()) {
            final Row p = row(rows, t.workload(), name);
            if (p == null) {
                continue;
            }
            involved.add(p);
            final Rank k = rank(mine, p, t.limit());
            if (k == Rank.ABOVE && (above == null || p.nsPerOp() < above.nsPerOp())) {
                above = p;
            } else if (k == Rank.WITHIN_ERRORS && (overlapping == null || p.nsPerOp() < overlapping.nsPerOp())) {
                overlapping = p;
            }
        }
        final Verdict v = above != null ? Verdict.MISSED : overlapping != null ? Verdict.WITHIN_ERRORS : Verdict.MET;
        final String decidedBy = above != null ? above.allocator() : overlapping != null ? overlapping.allocator()
            : null;
        final List<String> noisy = involved.stream().map(Targets::noisy).filter(x -> x != null).toList();
        final double[] paired = pairedRatios(mine, best);
        return new Outcome(t, best.allocator(), ratio(mine, best, Row::nsPerOp), ratio(mine, best, Row::median),
            paired.length >= 2 ? median(paired) : Double.NaN, v, decidedBy, noisy.isEmpty() ? null
                : "noisy (error > " + NOISY_ERROR_PERCENT + " % of the score): " + String.join(", ", noisy));
    }

    /**
     * The ranking rule: x against {@code limit} x y, by their 99.9 % intervals. BELOW when x's upper end lies
     * under y's scaled lower end, ABOVE when x's lower end lies over y's scaled upper end, else (or when an error
     * is unknown) WITHIN_ERRORS.
     */
    public static Rank rank(final Row x, final Row y, final double limit) {
        if (x.error() == null || y.error() == null) {
            return Rank.WITHIN_ERRORS;
        }
        final double xLow = x.nsPerOp() - x.error();
        final double xHigh = x.nsPerOp() + x.error();
        final double yLow = limit * (y.nsPerOp() - y.error());
        final double yHigh = limit * (y.nsPerOp() + y.error());
        return xHigh < yLow ? Rank.BELOW : xLow > yHigh ? Rank.ABOVE : Rank.WITHIN_ERRORS;
    }

    /**
     * Null when the row's error is within {@value #NOISY_ERROR_PERCENT} % of its score, else the row and its error
     * in percent ("jemalloc 45 %", "mm4j error unknown").
     */
    static String noisy(final Row r) {
        final double pct = r.error() == null ? Double.POSITIVE_INFINITY : 100 * r.error() / r.nsPerOp();
        return pct <= NOISY_ERROR_PERCENT ? null : Double.isFinite(pct)
            ? String.format(Locale.ROOT, "%s %.0f %%", r.allocator(), pct) : r.allocator() + " error unknown";
    }

    /** The fastest (lowest mean) measured row of {@code allocators} in {@code workload}, or null. */
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

    /**
     * Per round, x's fork mean over y's fork mean (forks of one round ran within a minute or so of each other, so
     * a slow machine minute slows both); rounds where either fork failed are left out.
     */
    public static double[] pairedRatios(final Row x, final Row y) {
        final int n = Math.min(x.forkMeans().size(), y.forkMeans().size());
        final double[] out = new double[n];
        int k = 0;
        for (int r = 0; r < n; r++) {
            final double a = x.forkMeans().get(r);
            final double b = y.forkMeans().get(r);
            if (Double.isFinite(a) && Double.isFinite(b) && b != 0) {
                out[k++] = a / b;
            }
        }
        return Arrays.copyOf(out, k);
    }

    /**
     * The 99.9 % Student-t interval of the paired ratio, taken over the per-round log ratios (ratios multiply, so
     * their logarithms are what averages), as {low, high}; null with fewer than
     * {@value ForkRounds#MIN_FORKS_FOR_FORK_ERROR} rounds. Information only: the targets rank rows, not pairs.
     */
    static double[] pairedInterval(final double[] ratios) {
        if (ratios.length < ForkRounds.MIN_FORKS_FOR_FORK_ERROR) {
            return null;
        }
        final org.openjdk.jmh.util.ListStatistics logs = new org.openjdk.jmh.util.ListStatistics();
        for (final double q : ratios) {
            logs.addValue(Math.log(q));
        }
        final double e = logs.getMeanErrorAt(ForkRounds.CONFIDENCE);
        return new double[] {Math.exp(logs.getMean() - e), Math.exp(logs.getMean() + e)};
    }

    /** The median (mean of the middle two for an even count), NaN when empty. */
    static double median(final double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        final double[] v = values.clone();
        Arrays.sort(v);
        final int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
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

    private static List<String> workloads(final List<Row> rows) {
        final List<String> workloads = new ArrayList<>();
        for (final Row r : rows) {
            if (!workloads.contains(r.workload())) {
                workloads.add(r.workload());
            }
        }
        return workloads;
    }

    /**
     * For every workload in the rows: each mm4j row's ns/op over the fastest of jemalloc and mimalloc, and the
     * cache-resident bump floor's, each marked by the ranking rule against that peer.
     */
    public static String bestPeerRatios(final List<Row> rows) {
        final List<String> subjects = List.of("mm4j", "mm4j-segment", "mm4j-cpu-slab", "arena-bump-256k");
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-22s %-9s", "workload", "best"));
        for (final String s : subjects) {
            sb.append(String.format(Locale.ROOT, " %16s", s));
        }
        sb.append('\n');
        for (final String w : workloads(rows)) {
            final Row best = fastest(rows, w, BEST_PEERS);
            sb.append(String.format(Locale.ROOT, "%-22s %-9s", w, best == null ? "-" : best.allocator()));
            for (final String s : subjects) {
                final Row r = row(rows, w, s);
                final double q = ratio(r, best, Row::nsPerOp);
                sb.append(String.format(Locale.ROOT, " %16s", !Double.isFinite(q) ? "-"
                    : String.format(Locale.ROOT, "%.2f %s", q, mark(rank(r, best, 1.0)))));
            }
            sb.append('\n');
        }
        sb.append("  < ahead of the best peer beyond both 99.9 % errors, > behind it beyond them, ~ within the "
            + "errors\n");
        return sb.toString();
    }

    private static String mark(final Rank k) {
        return switch (k) {
            case BELOW -> "<";
            case ABOVE -> ">";
            case WITHIN_ERRORS -> "~";
        };
    }

    /** The pairs of the paired view: subject, peer. */
    static final List<List<String>> PAIRS = List.of(List.of("mm4j", "jemalloc"), List.of("mm4j", "mimalloc"),
        List.of("mm4j-segment", "mm4j"));

    /**
     * The paired view: per workload and pair (mm4j over jemalloc and over mimalloc, mm4j-segment over mm4j), the
     * ratio of the two forks of each round, their median and ({@link #pairedInterval}) the 99.9 % interval. Only pairs with at least two rounds (one round is the
     * ratio of the means); empty when there are none.
     */
    public static String pairedRatios(final List<Row> rows) {
        final StringBuilder sb = new StringBuilder();
        for (final String w : workloads(rows)) {
            for (final List<String> pair : PAIRS) {
                final Row x = row(rows, w, pair.get(0));
                final Row y = row(rows, w, pair.get(1));
                if (x == null || y == null) {
                    continue;
                }
                final double[] q = pairedRatios(x, y);
                if (q.length < 2) {
                    continue;
                }
                final StringBuilder each = new StringBuilder();
                for (final double v : q) {
                    each.append(String.format(Locale.ROOT, " %.2f", v));
                }
                final double[] ci = pairedInterval(q);
                sb.append(String.format(Locale.ROOT, "%-22s %-24s median %5.2f  %-22s rounds:%s%n", w,
                    pair.get(0) + " / " + pair.get(1), median(q), ci == null ? ""
                        : String.format(Locale.ROOT, "99.9 %%: %.2f-%.2f", ci[0], ci[1]), each));
            }
        }
        return sb.toString();
    }
}
