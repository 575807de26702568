package org.mm4j.vma.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One parsed /proc/PID/maps line: {@code start-end perms offset dev inode [name]}. */
record MapsLine(long start, long end, String perms, long offset, int devMajor, int devMinor, long inode,
                       String name) {
    private static final Pattern RE = Pattern.compile(
        "^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) ([0-9]+)(?: +(.*))?$");

    /** Parses a maps line, or returns null when it is not one (numbers out of range included). */
    public static MapsLine parse(final String line) {
        final Matcher m = RE.matcher(line);
        if (!m.matches()) {
            return null;
        }
        try {
            return new MapsLine(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                m.group(3), Long.parseUnsignedLong(m.group(4), 16), Integer.parseInt(m.group(5), 16),
                Integer.parseInt(m.group(6), 16), Long.parseLong(m.group(7)), m.group(8) == null ? "" : m.group(8));
        } catch (final NumberFormatException e) {
            return null; // a number out of range (found by StraceFuzzTest#straceReplay): not a maps line
        }
    }

    /** Every maps line of {@code text}, in order (other lines ignored). */
    public static List<MapsLine> parseAll(final String text) {
        final List<MapsLine> out = new ArrayList<>();
        for (final String l : text.split("\n")) {
            final MapsLine m = parse(l);
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    /** The fields check.py compares: start, end, perms, offset, name. */
    public String key() {
        return String.format("%08x-%08x %s %08x %s", start, end, perms, offset, name).strip();
    }

    /**
     * The differences between expected and actual maps as check.py judges them (start, end, perms, offset and
     * name; dev and inode ignored): an empty list means a match.
     */
    public static List<String> diff(final List<MapsLine> expected, final List<MapsLine> actual) {
        final List<String> out = new ArrayList<>();
        final List<String> e = expected.stream().map(MapsLine::key).toList();
        final List<String> a = actual.stream().map(MapsLine::key).toList();
        int i = 0;
        int j = 0;
        while (i < e.size() || j < a.size()) {
            if (i < e.size() && j < a.size() && e.get(i).equals(a.get(j))) {
                i++;
                j++;
            } else if (j < a.size() && (i >= e.size() || !e.subList(i, e.size()).contains(a.get(j)))) {
                out.add("+ model    " + a.get(j++));
            } else {
                out.add("- expected " + e.get(i++));
            }
        }
        return out;
    }
}
