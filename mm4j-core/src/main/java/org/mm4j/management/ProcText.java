package org.mm4j.management;

import java.util.LinkedHashMap;
import java.util.Map;

/** Numbers out of the /proc and /sys texts the MBeans show (the files are the model's single source). */
final class ProcText {
    private ProcText() {
    }

    /** The leading number of a sysfs file ({@code "12 N0=12\n"} gives 12). */
    static long firstNumber(final String text) {
        final String t = text.strip();
        int end = 0;
        while (end < t.length() && (Character.isDigit(t.charAt(end)) || end == 0 && t.charAt(0) == '-')) {
            end++;
        }
        if (end == 0 || end == 1 && t.charAt(0) == '-') {
            throw new IllegalStateException("no number at the start of '" + t + "'");
        }
        return Long.parseLong(t.substring(0, end));
    }

    /** {@code name value} or {@code Name: value kB} lines (/proc/vmstat, /proc/meminfo) by name. */
    static Map<String, Long> keyValues(final String text) {
        final Map<String, Long> m = new LinkedHashMap<>();
        for (final String line : text.split("\n")) {
            final String[] f = line.strip().split("\\s+");
            if (f.length >= 2) {
                final String key = f[0].endsWith(":") ? f[0].substring(0, f[0].length() - 1) : f[0];
                try {
                    m.put(key, Long.parseLong(f[1]));
                } catch (final NumberFormatException e) {
                    // not a counter line
                }
            }
        }
        return m;
    }

    /** {@code Node 0, zone   Normal  n0 n1 ... n10} lines by {@code "Node 0, zone Normal"}. */
    static Map<String, long[]> buddyinfo(final String text) {
        final Map<String, long[]> m = new LinkedHashMap<>();
        for (final String line : text.split("\n")) {
            final String[] f = line.strip().split("\\s+");
            if (f.length < 5 || !f[0].equals("Node")) {
                continue;
            }
            final long[] counts = new long[f.length - 4];
            for (int i = 4; i < f.length; i++) {
                counts[i - 4] = Long.parseLong(f[i]);
            }
            m.put(zoneKey(f), counts);
        }
        return m;
    }

    /** The {@code min low high promo} lines after each {@code Node N, zone NAME} of /proc/zoneinfo. */
    static Map<String, long[]> watermarks(final String text) {
        final Map<String, long[]> m = new LinkedHashMap<>();
        long[] cur = null;
        for (final String line : text.split("\n")) {
            final String[] f = line.strip().split("\\s+");
            if (f.length >= 4 && f[0].equals("Node")) {
                cur = new long[4];
                m.put(zoneKey(f), cur);
                continue;
            }
            if (cur == null || f.length != 2) {
                continue;
            }
            final int i = switch (f[0]) {
                case "min" -> 0;
                case "low" -> 1;
                case "high" -> 2;
                case "promo" -> 3;
                default -> -1;
            };
            if (i >= 0) {
                cur[i] = Long.parseLong(f[1]);
            }
        }
        return m;
    }

    private static String zoneKey(final String[] f) {
        return "Node " + f[1] + " zone " + f[3];
    }
}
