package org.mm4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Prints the rows as a table: one line per allocator, one column per workload; rows that are information only
 * ({@link Allocators#INFORMATION_ONLY}) say so, and multi-thread cells too noisy to rank get a note.
 */
public final class ResultTable {
    private ResultTable() {
    }

    /** JMH scores, "mean ± error" per cell, and the notes of skipped rows. */
    public static String render(final List<Row> rows) {
        return render(rows, "ns per alloc+free", ResultTable::cell, true);
    }

    /** The median iteration per cell. */
    public static String renderMedians(final List<Row> rows) {
        return render(rows, "median iteration, ns", r -> r == null ? "-" : r.median() == null ? "skipped"
            : String.format(Locale.ROOT, "%.1f", r.median()), false);
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
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s", title));
        for (final String w : workloads) {
            sb.append(String.format(Locale.ROOT, " %22s", w));
        }
        sb.append('\n');
        final Map<String, String> notes = new LinkedHashMap<>();
        for (final Map.Entry<String, Map<String, Row>> e : byAllocator.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-24s", e.getKey()
                + (Allocators.INFORMATION_ONLY.contains(e.getKey()) ? " (info only)" : "")));
            for (final String w : workloads) {
                final Row r = e.getValue().get(w);
                sb.append(String.format(Locale.ROOT, " %22s", cell.apply(r)));
                if (withNotes && r != null && r.note() != null) {
                    notes.putIfAbsent(e.getKey() + ": " + r.note(), "");
                }
                if (withNotes && r != null && r.ran() && r.threads() > 1 && Targets.tooNoisy(r) != null) {
                    notes.putIfAbsent(w + ": not ranked: " + Targets.tooNoisy(r), "");
                }
            }
            sb.append('\n');
        }
        for (final String n : notes.keySet()) {
            sb.append("  note: ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static String cell(final Row r) {
        if (r == null) {
            return "-";
        }
        if (!r.ran()) {
            return "skipped";
        }
        return r.error() == null
            ? String.format(Locale.ROOT, "%.1f", r.nsPerOp())
            : String.format(Locale.ROOT, "%.1f ± %.1f", r.nsPerOp(), r.error());
    }
}
