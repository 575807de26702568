package org.mm4j.vma.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * A case file in the layout of samples/vma (header lines, {@code #BEFORE} maps, {@code #OPS}, {@code #AFTER}
 * maps, {@code #END}); see that folder's README. Keeps every line with its number so a replay can write the same
 * layout back with its own results.
 */
final class TraceCase {
    /** A line of the file with its 1-based number. */
    public record Line(long no, String text) {
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
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isEmpty() && i == lines.length - 1) {
                break;
            }
            if (tc.feed(i + 1, lines[i])) {
                tc.ops.add(new Line(i + 1, lines[i]));
            }
        }
        tc.end();
        return tc;
    }

    /** An empty case to be filled line by line with {@link #feed} (streaming: the #OPS lines are not kept). */
    static TraceCase begin(final String source) {
        return new TraceCase(source);
    }

    /** The section being read: 0 headers, 1 #BEFORE, 2 #OPS, 3 #AFTER, 4 after #END. */
    int section() {
        return section;
    }

    /** The most #BEFORE, #AFTER or header lines a case may have (maps are bounded by vm.max_map_count). */
    static final int MAX_KEPT_LINES = 1 << 20;
    /** The most characters those kept lines may have together. */
    static final long MAX_KEPT_CHARS = 64L << 20;

    private int section;
    private long keptChars;

    /**
     * Reads line {@code no}: a section marker, a header, a maps line or (returned true) an #OPS line, which the
     * caller runs or keeps. Throws {@link StraceParseException} naming the line for a malformed one.
     */
    boolean feed(final long no, final String line) {
        if (line.startsWith("#BEFORE")) {
            section = 1;
            if (!line.strip().equals("#BEFORE")) {
                if (line.strip().equals("#BEFORE unknown")) {
                    beforeUnknown = true;
                } else {
                    throw new StraceParseException(source, no, "unexpected text after #BEFORE: '" + line + "'");
                }
            }
            return false;
        }
        switch (line) {
            case "#OPS" -> {
                section = 2;
                return false;
            }
            case "#AFTER" -> {
                section = 3;
                hasAfter = true;
                return false;
            }
            case "#END" -> {
                section = 4;
                ended = true;
                return false;
            }
            default -> {
            }
        }
        if (section != 2 && (headers.size() + before.size() + after.size() >= MAX_KEPT_LINES
            || (keptChars += line.length()) > MAX_KEPT_CHARS)) {
            throw new StraceParseException(source, no, "more than " + MAX_KEPT_LINES + " header and maps lines or "
                + (MAX_KEPT_CHARS >> 20) + " MiB of them (no /proc/PID/maps is that long)");
        }
        switch (section) {
            case 0 -> {
                if (!line.startsWith("#")) {
                    throw new StraceParseException(source, no, "header line does not start with '#': '"
                        + line + "'");
                }
                headers.add(new Line(no, line));
            }
            case 1 -> {
                if (line.startsWith("#") && beforeUnknown) {
                    return false;
                }
                if (MapsLine.parse(line) == null) {
                    throw new StraceParseException(source, no, "not a /proc/PID/maps line: '" + line + "'");
                }
                before.add(new Line(no, line));
            }
            case 2 -> {
                return true;
            }
            case 3 -> {
                if (MapsLine.parse(line) == null) {
                    throw new StraceParseException(source, no, "not a /proc/PID/maps line: '" + line + "'");
                }
                after.add(new Line(no, line));
            }
            default -> throw new StraceParseException(source, no, "text after #END: '" + line + "'");
        }
        return false;
    }

    /** Checks the case is complete (it had an #OPS line). */
    void end() {
        if (section < 2) {
            throw new StraceParseException(source, 0, "no #OPS line");
        }
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
