package org.mm4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Prints the rows as tables: one line per allocator, one column per workload; rows that are information only
 * ({@link Allocators#INFORMATION_ONLY}) say so, noisy cells (error above {@value Targets#NOISY_ERROR_PERCENT} % of
 * the score, a warning) are marked {@code !}, and what the errors are computed over is said under the table.
 */
public final class ResultTable {
    private ResultTable() {
    }

    /** Mean ± 99.9 % error per cell, the notes of skipped rows, and what the errors are over. */
    public static String render(final List<Row> rows) {
        final StringBuilder sb = new StringBuilder(render(rows, "ns per alloc+free", ResultTable::cell, true));
        final Set<String> basis = new LinkedHashSet<>();
        boolean noisy = false;
        for (final Row r : rows) {
            if (r.ran() && r.error() != null) {
                basis.add(r.errorOverForks()
                    ? "error: 99.9 % Student-t half-width over the fork means (" + r.forks() + " forks)"
                    : "error: 99.9 % half-width over the iterations of all forks pooled (fewer than "
                        + ForkRounds.MIN_FORKS_FOR_FORK_ERROR + " forks: no interval over fork means)");
            }
            noisy |= r.ran() && Targets.noisy(r) != null;
        }
        for (final String b : basis) {
            sb.append("  ").append(b).append('\n');
        }
        if (noisy) {
            sb.append("  ! noisy: error above ").append(Targets.NOISY_ERROR_PERCENT)
                .append(" % of the score (a warning: rows still rank where their intervals are disjoint)\n");
        }
        return sb.toString();
    }

    /** The median iteration per cell. */
    public static String renderMedians(final List<Row> rows) {
        return render(rows, "median iteration, ns", r -> r == null ? "-" : r.median() == null ? "skipped"
            : String.format(Locale.ROOT, "%.1f", r.median()), false);
    }

    /** Each round's fork mean per cell ("x" for a round whose fork failed); empty when no row has two rounds. */
    public static String renderForkMeans(final List<Row> rows) {
        if (rows.stream().allMatch(r -> r.forkMeans().size() < 2)) {
            return "";
        }
        return render(rows, "fork means by round, ns", ResultTable::forks, false);
    }

    private static String forks(final Row r) {
        if (r == null) {
            return "-";
        }
        if (!r.ran()) {
            return "skipped";
        }
        final List<String> each = new ArrayList<>();
        for (final double m : r.forkMeans()) {
            each.add(Double.isFinite(m) ? String.format(Locale.ROOT, "%.1f", m) : "x");
        }
        return String.join(" ", each);
    }

    private static String render(final List<Row> rows, final String title, final Function<Row, String> cell,
                                 final boolean withNotes) {
        final List<String> workloads = new ArrayList<>();
        final Map<String, Map<String, Row>> byAllocator = new LinkedHashMap<>();
        for (final Row r : rows) {
            if (!workloads.contains(r.workload())) {
                workloads.add(r.workload());
            }
            byAllocator.computeIfAbsent(r.allocator(), k -> new LinkedHashMap<>()).put(r.workload(), r);
        }
        final int[] width = new int[workloads.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = Math.max(14, workloads.get(i).length());
            for (final Map<String, Row> m : byAllocator.values()) {
                width[i] = Math.max(width[i], cell.apply(m.get(workloads.get(i))).length());
            }
        }
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s", title));
        for (int i = 0; i < width.length; i++) {
            sb.append("  ").append(pad(workloads.get(i), width[i]));
        }
        sb.append('\n');
        final Map<String, String> notes = new LinkedHashMap<>();
        for (final Map.Entry<String, Map<String, Row>> e : byAllocator.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-24s", e.getKey()
                + (Allocators.INFORMATION_ONLY.contains(e.getKey()) ? " (info only)" : "")));
            for (int i = 0; i < width.length; i++) {
                final Row r = e.getValue().get(workloads.get(i));
                sb.append("  ").append(pad(cell.apply(r), width[i]));
                if (withNotes && r != null && r.note() != null) {
                    notes.putIfAbsent(e.getKey() + (r.ran() ? " (" + r.workload() + ")" : "") + ": " + r.note(), "");
                }
            }
            sb.append('\n');
        }
        for (final String n : notes.keySet()) {
            sb.append("  note: ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static String pad(final String s, final int width) {
        return " ".repeat(Math.max(0, width - s.length())) + s;
    }

    private static String cell(final Row r) {
        if (r == null) {
            return "-";
        }
        if (!r.ran()) {
            return "skipped";
        }
        final String noisy = Targets.noisy(r) != null ? " !" : "  ";
        return r.error() == null
            ? String.format(Locale.ROOT, "%.1f%s", r.nsPerOp(), noisy)
            : String.format(Locale.ROOT, "%.1f ± %.1f%s", r.nsPerOp(), r.error(), noisy);
    }
}
