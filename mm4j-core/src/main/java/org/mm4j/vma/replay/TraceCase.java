package org.mm4j.vma.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * A case file in the layout of samples/vma (header lines, {@code #BEFORE} maps, {@code #OPS}, {@code #AFTER}
 * maps, {@code #END}); see that folder's README. Keeps every line with its number so a replay can write the same
 * layout back with its own results.
 */
public final class TraceCase {
    /** A line of the file with its 1-based number. */
    public record Line(int no, String text) {
    }

    public final String source;
    public final List<Line> headers = new ArrayList<>();
    public final List<Line> before = new ArrayList<>();
    public boolean beforeUnknown;
    public final List<Line> ops = new ArrayList<>();
    public final List<Line> after = new ArrayList<>();
    public boolean hasAfter;
    public boolean ended;

    private TraceCase(final String source) {
        this.source = source;
    }

    /** True when {@code text} is in this layout (it starts with a {@code #} header and has {@code #OPS}). */
    public static boolean looksLikeCase(final String text) {
        return text.startsWith("#") && (text.contains("\n#OPS\n") || text.startsWith("#OPS\n"));
    }

    /** Parses the layout; throws {@link StraceParseException} naming the line for a malformed file. */
    public static TraceCase parse(final String source, final String text) {
        final TraceCase tc = new TraceCase(source);
        final String[] lines = text.split("\n", -1);
        int section = 0; // 0 header, 1 before, 2 ops, 3 after, 4 end
        for (int i = 0; i < lines.length; i++) {
            final String line = lines[i];
            final int no = i + 1;
            if (line.isEmpty() && i == lines.length - 1) {
                break;
            }
            if (line.startsWith("#BEFORE")) {
                section = 1;
                if (!line.strip().equals("#BEFORE")) {
                    if (line.strip().equals("#BEFORE unknown")) {
                        tc.beforeUnknown = true;
                    } else {
                        throw new StraceParseException(source, no, "unexpected text after #BEFORE: '" + line + "'");
                    }
                }
                continue;
            }
            switch (line) {
                case "#OPS" -> {
                    section = 2;
                    continue;
                }
                case "#AFTER" -> {
                    section = 3;
                    tc.hasAfter = true;
                    continue;
                }
                case "#END" -> {
                    section = 4;
                    tc.ended = true;
                    continue;
                }
                default -> {
                }
            }
            switch (section) {
                case 0 -> {
                    if (!line.startsWith("#")) {
                        throw new StraceParseException(source, no, "header line does not start with '#': '"
                            + line + "'");
                    }
                    tc.headers.add(new Line(no, line));
                }
                case 1 -> {
                    if (line.startsWith("#") && tc.beforeUnknown) {
                        continue;
                    }
                    if (MapsLine.parse(line) == null) {
                        throw new StraceParseException(source, no, "not a /proc/PID/maps line: '" + line + "'");
                    }
                    tc.before.add(new Line(no, line));
                }
                case 2 -> tc.ops.add(new Line(no, line));
                case 3 -> {
                    if (MapsLine.parse(line) == null) {
                        throw new StraceParseException(source, no, "not a /proc/PID/maps line: '" + line + "'");
                    }
                    tc.after.add(new Line(no, line));
                }
                default -> throw new StraceParseException(source, no, "text after #END: '" + line + "'");
            }
        }
        if (section < 2) {
            throw new StraceParseException(source, 0, "no #OPS line");
        }
        return tc;
    }

    /** The values of header {@code #key} (without the key). */
    public List<String> header(final String key) {
        final List<String> out = new ArrayList<>();
        for (final Line l : headers) {
            final String t = l.text().substring(1);
            final int sp = t.indexOf(' ');
            final String k = sp < 0 ? t : t.substring(0, sp);
            if (k.equals(key)) {
                out.add(sp < 0 ? "" : t.substring(sp + 1).strip());
            }
        }
        return out;
    }

    public String headerOr(final String key, final String dflt) {
        final List<String> v = header(key);
        return v.isEmpty() ? dflt : v.get(0);
    }
}
