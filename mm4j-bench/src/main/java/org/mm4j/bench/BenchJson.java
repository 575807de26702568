package org.mm4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes the comparison as a JSON array of rows
 * {@code {"workload", "allocator", "threads", "ns_per_op", "error"}} (plus {@code "median"} on a measured row,
 * {@code "note"} on a skipped one or one with a failed fork, and on a row merged from forks {@code "error_over"}
 * ({@code "forks"} or {@code "iterations"}, see {@link ForkRounds}), {@code "error_iterations"} (JMH's pooled
 * error) and {@code "fork_means"} (by round, null for a failed fork)), one row a line, so that anyone can rerun
 * the comparison and diff the results. No JSON library: the format is this small.
 */
public final class BenchJson {
    private BenchJson() {
    }

    public static String toJson(final List<Row> rows) {
        final StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            final Row r = rows.get(i);
            sb.append("  {\"workload\": ").append(string(r.workload()))
                .append(", \"allocator\": ").append(string(r.allocator()))
                .append(", \"threads\": ").append(r.threads())
                .append(", \"ns_per_op\": ").append(number(r.nsPerOp()))
                .append(", \"error\": ").append(number(r.error()));
            if (r.median() != null) {
                sb.append(", \"median\": ").append(number(r.median()));
            }
            if (!r.forkMeans().isEmpty()) {
                sb.append(", \"error_over\": ").append(string(r.errorOverForks() ? "forks" : "iterations"))
                    .append(", \"error_iterations\": ").append(number(r.iterationError()))
                    .append(", \"fork_means\": [");
                for (int k = 0; k < r.forkMeans().size(); k++) {
                    sb.append(k == 0 ? "" : ", ").append(number(r.forkMeans().get(k)));
                }
                sb.append(']');
            }
            if (r.note() != null) {
                sb.append(", \"note\": ").append(string(r.note()));
            }
            sb.append(i + 1 < rows.size() ? "},\n" : "}\n");
        }
        return sb.append("]\n").toString();
    }

    public static void write(final List<Row> rows, final Path file) throws IOException {
        final Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson(rows), StandardCharsets.UTF_8);
    }

    private static String number(final Double d) {
        if (d == null || !Double.isFinite(d)) {
            return "null";
        }
        return String.format(Locale.ROOT, "%.3f", d);
    }

    static String string(final String s) {
        final StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
