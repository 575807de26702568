package org.mm4j.cli.shell;

import org.mm4j.base.ProcFs;
import org.mm4j.page.PhysicalMemory;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * procps-ng's {@code slabtop -o} and {@code vmstat} (procps-ng 4.0.5: src/slabtop.c, src/vmstat.c and the
 * library's slabinfo.c and meminfo.c), printing what they print from the model's {@code /proc/slabinfo},
 * {@code /proc/meminfo} and {@code /proc/vmstat}, byte for byte in their formats. The numbers are computed as
 * libproc2 computes them (cache size = slabs x pages per slab x page size, use = active/total in {@code float},
 * average object = total object bytes / objects); {@code %.2f} rounds the exact binary value half-to-even as
 * glibc does ({@code 0.125K} prints {@code 0.12K}), and 0/0 prints {@code -nan} as glibc does on x86-64.
 *
 * <p>What the model has not: no {@code /proc/stat} (no scheduler, no interrupts, no CPU time), so vmstat's
 * {@code r b in cs} are 0 and the cpu columns read as procps reads zero ticks (us 0, sy 0, id 100, wa 0, st 0,
 * gu 0); no swap device and no block I/O, so {@code swpd si so bi bo} are 0 (they read {@code pswpin},
 * {@code pswpout}, {@code pgpgin}, {@code pgpgout}, which the model never counts). There is no clock either, so
 * reports that need time to pass ({@code slabtop -d N}, {@code vmstat DELAY COUNT} with COUNT > 1) are refused;
 * uptime for vmstat's since-boot averages is the time since the shell started. Names sort bytewise (the C locale).
 * Output goes to no terminal, so {@code vmstat -m} repeats its header every 21 rows, as procps does with a
 * 24-row default when stdout is not a terminal ({@code -n}: once).
 */
final class ProcpsCommands {
    private static final long PAGE_SIZE = PhysicalMemory.PAGE_SIZE;
    /** vmstat's header repeat when stdout is no terminal: winhi() falls back to 24 rows, minus 3. */
    private static final int NO_TTY_HEIGHT = 24 - 3;
    private static final String SORT_KEYS = "abclvnopsu";

    private ProcpsCommands() {
    }

    /** When the shell (and its kernel) started: the model's uptime for vmstat's since-boot averages. */
    private record Boot(long nanos, long epochSeconds) {
    }

    static void register(final Shell sh) {
        sh.state(Boot.class, () -> new Boot(System.nanoTime(), System.currentTimeMillis() / 1000));
        sh.register(new Cmd("slabtop", "slabtop [-o] [-s KEY]", "the slab caches, as procps-ng's slabtop -o",
            """
            Prints the statistics header and one line per cache of /proc/slabinfo, as 'slabtop -o' does
            (procps-ng 4.0.5), largest first by the sort key:
              -s, --sort=KEY   a: active objects   b: objects per slab   c: cache size   l: slabs
                               v: active slabs     n: name (ascending)   o: objects (the default)
                               p: pages per slab   s: object size        u: utilization
              -o, --once       print once (the shell always does: it has no full-screen mode)
            Columns: OBJS, ACTIVE objects, USE (active/total %), OBJ SIZE, SLABS, OBJ/SLAB, CACHE SIZE
            (slabs x pages per slab x 4 KiB), NAME. An unknown KEY is an error (procps falls back to 'o').""",
            ProcpsCommands::slabtop));
        sh.register(new Cmd("vmstat", "vmstat [-a] [-s] [-m] [-n] [-w] [-S UNIT] [DELAY [1]]",
            "virtual memory statistics, as procps-ng's vmstat",
            """
            vmstat          one report: procs r b, memory swpd free buff cache, swap si so, io bi bo,
                            system in cs, cpu us sy id wa st gu (from /proc/meminfo and /proc/vmstat)
            vmstat -a       inact and active instead of buff and cache
            vmstat -s       the event counters and memory totals, one a line
            vmstat -m       the slab caches (/proc/slabinfo): Cache Num Total Size Pages, by name
            -w wide columns, -n one header, -S k|K|m|M|b units (default K = KiB)
            Always 0 here: r b in cs (the model has no scheduler, interrupts or /proc/stat), swpd si so bi bo
            (no swap device, no block I/O); the cpu columns read no ticks (id 100). The model has no clock, so
            'vmstat DELAY' with a COUNT above 1 is refused; 'vmstat DELAY 1' is one report.""",
            ProcpsCommands::vmstat));
    }

    // ---- getopt ----------------------------------------------------------------------------------------------

    /** Options as GNU getopt_long reads them: clustered short options, {@code -sX}/{@code -s X}, {@code --x=y}. */
    private record Opts(Map<Character, String> given, List<String> operands) {
    }

    private static Opts getopt(final String cmd, final List<String> words, final String withArg,
                               final String noArg, final Map<String, Character> longs) {
        final Map<Character, String> given = new HashMap<>();
        final List<String> operands = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            final String w = words.get(i);
            if (w.equals("--")) {
                operands.addAll(words.subList(i + 1, words.size()));
                break;
            }
            if (w.startsWith("--")) {
                final int eq = w.indexOf('=');
                final String name = w.substring(2, eq < 0 ? w.length() : eq);
                final Character c = longs.get(name);
                if (c == null) {
                    throw new ShellException(cmd + ": unrecognized option '" + w + "' (try: help " + cmd + ")");
                }
                if (withArg.indexOf(c) >= 0) {
                    if (eq >= 0) {
                        given.put(c, w.substring(eq + 1));
                    } else if (i + 1 < words.size()) {
                        given.put(c, words.get(++i));
                    } else {
                        throw new ShellException(cmd + ": option '--" + name + "' requires an argument");
                    }
                } else if (eq >= 0) {
                    throw new ShellException(cmd + ": option '--" + name + "' doesn't allow an argument");
                } else {
                    given.put(c, "");
                }
            } else if (w.startsWith("-") && w.length() > 1) {
                for (int j = 1; j < w.length(); j++) {
                    final char c = w.charAt(j);
                    if (withArg.indexOf(c) >= 0) {
                        if (j + 1 < w.length()) {
                            given.put(c, w.substring(j + 1));
                        } else if (i + 1 < words.size()) {
                            given.put(c, words.get(++i));
                        } else {
                            throw new ShellException(cmd + ": option requires an argument -- '" + c + "'");
                        }
                        break;
                    }
                    if (noArg.indexOf(c) < 0) {
                        throw new ShellException(cmd + ": invalid option -- '" + c + "' (try: help " + cmd + ")");
                    }
                    given.put(c, "");
                }
            } else {
                operands.add(w);
            }
        }
        return new Opts(given, operands);
    }

    // ---- /proc/slabinfo as libproc2 reads it --------------------------------------------------------------------

    /** One cache line of /proc/slabinfo 2.1, with libproc2's derived cache size and use. */
    record SlabLine(String name, long activeObjs, long numObjs, long objSize, long objPerSlab, long pagesPerSlab,
                    long activeSlabs, long numSlabs) {
        long cacheSize() {
            return numSlabs * pagesPerSlab * PAGE_SIZE;
        }

        /** Percent of objects in use, truncated, computed in {@code float} as libproc2 does; 0 for an empty cache. */
        long use() {
            return numObjs == 0 ? 0 : (long) (100 * ((float) activeObjs / numObjs));
        }
    }

    static List<SlabLine> slabinfo(final Shell sh) {
        final String text = read(sh, "/proc/slabinfo");
        final List<SlabLine> out = new ArrayList<>();
        final String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].startsWith("slabinfo - version: 2.")) {
            throw new ShellException("/proc/slabinfo: not slabinfo version 2.x");
        }
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].startsWith("#") || lines[i].isBlank()) {
                continue;
            }
            final String[] f = lines[i].strip().split("\\s+");
            // name a n size perslab pages : tunables x y z : slabdata active num avail
            if (f.length < 16 || !f[6].equals(":") || !f[11].equals(":")) {
                throw new ShellException("/proc/slabinfo:" + (i + 1) + ": not a cache line: " + lines[i]);
            }
            out.add(new SlabLine(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[13]), Long.parseLong(f[14])));
        }
        return out;
    }

    private static String read(final Shell sh, final String path) {
        try {
            return sh.kernel().procfs().read(path);
        } catch (final ProcFs.ProcFsException e) {
            throw new ShellException(e.getMessage());
        }
    }

    // ---- slabtop -------------------------------------------------------------------------------------------------

    private static void slabtop(final Shell sh, final ArgReader a, final StringBuilder out) {
        final Opts o = getopt("slabtop", a.rest(), "ds", "ohV",
            Map.of("delay", 'd', "sort", 's', "once", 'o', "help", 'h', "version", 'V'));
        if (!o.operands().isEmpty()) {
            throw new ShellException("slabtop: unexpected argument '" + o.operands().get(0) + "'; usage: "
                + a.usage());
        }
        if (o.given().containsKey('h')) {
            out.append(sh.execute("help slabtop"));
            return;
        }
        if (o.given().containsKey('d')) {
            throw new ShellException(o.given().containsKey('o') ? "slabtop: Cannot combine -d and -o options"
                : "slabtop: -d " + o.given().get('d') + ": the model has no clock to wait on; slabtop prints once");
        }
        final char key = o.given().containsKey('s') ? sortKey(o.given().get('s')) : 'o';
        final List<SlabLine> caches = slabinfo(sh);
        summary(caches, out);
        out.append(String.format("%-78s%n", "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME"));
        final List<SlabLine> sorted = new ArrayList<>(caches);
        sorted.sort(slabtopOrder(key)); // stable: ties keep /proc/slabinfo's order
        for (final SlabLine c : sorted) {
            out.append(String.format("%6d %6d %3d%% %7sK %6d %8d %9dK %-23s%n", c.numObjs(), c.activeObjs(), c.use(),
                cFixed(c.objSize() / 1024.0, 2), c.numSlabs(), c.objPerSlab(), c.cacheSize() / 1024, c.name()));
        }
    }

    private static char sortKey(final String arg) {
        final char k = arg.isEmpty() ? 0 : Character.toLowerCase(arg.charAt(0));
        if (arg.isEmpty() || SORT_KEYS.indexOf(k) < 0) {
            throw new ShellException("slabtop: unknown sort key '" + arg + "' (expected one of: a b c l v n o p s u;"
                + " help slabtop)");
        }
        return k;
    }

    /** The order slabtop lists caches in for {@code key}: descending, except by name (ascending). */
    static Comparator<SlabLine> slabtopOrder(final char key) {
        return switch (key) {
            case 'n' -> Comparator.comparing(SlabLine::name);
            case 'a' -> Comparator.comparingLong(SlabLine::activeObjs).reversed();
            case 's' -> Comparator.comparingLong(SlabLine::objSize).reversed();
            case 'b' -> Comparator.comparingLong(SlabLine::objPerSlab).reversed();
            case 'p' -> Comparator.comparingLong(SlabLine::pagesPerSlab).reversed();
            case 'l' -> Comparator.comparingLong(SlabLine::numSlabs).reversed();
            case 'v' -> Comparator.comparingLong(SlabLine::activeSlabs).reversed();
            case 'c' -> Comparator.comparingLong(SlabLine::cacheSize).reversed();
            case 'u' -> Comparator.comparingLong(SlabLine::use).reversed();
            default -> Comparator.comparingLong(SlabLine::numObjs).reversed();
        };
    }

    /** slabtop's five header lines and the blank line after them. */
    private static void summary(final List<SlabLine> caches, final StringBuilder out) {
        long objs = 0;
        long active = 0;
        long slabs = 0;
        long activeSlabs = 0;
        long activeCaches = 0;
        long totalSize = 0;
        long activeSize = 0;
        long min = Integer.MAX_VALUE;
        long max = 0;
        for (final SlabLine c : caches) {
            min = Math.min(min, c.objSize());
            max = Math.max(max, c.objSize());
            if (c.numObjs() > 0) {
                activeCaches++;
            }
            objs += c.numObjs();
            active += c.activeObjs();
            totalSize += c.numObjs() * c.objSize();
            activeSize += c.activeObjs() * c.objSize();
            slabs += c.numSlabs();
            activeSlabs += c.activeSlabs();
        }
        final long avg = objs == 0 ? 0 : totalSize / objs;
        out.append(String.format(" %-35s: %d / %d (%s%%)%n", "Active / Total Objects (% used)", active, objs,
            percent(active, objs)));
        out.append(String.format(" %-35s: %d / %d (%s%%)%n", "Active / Total Slabs (% used)", activeSlabs, slabs,
            percent(activeSlabs, slabs)));
        out.append(String.format(" %-35s: %d / %d (%s%%)%n", "Active / Total Caches (% used)", activeCaches,
            caches.size(), percent(activeCaches, caches.size())));
        out.append(String.format(" %-35s: %sK / %sK (%s%%)%n", "Active / Total Size (% used)",
            cFixed(activeSize / 1024.0, 2), cFixed(totalSize / 1024.0, 2), percent(activeSize, totalSize)));
        out.append(String.format(" %-35s: %sK / %sK / %sK%n%n", "Minimum / Average / Maximum Object",
            cFixed(min / 1024.0, 2), cFixed(avg / 1024.0, 2), cFixed(max / 1024.0, 2)));
    }

    /** {@code 100.0 * part / whole} as {@code %.1f} prints it (0/0 is NaN: "-nan" on x86-64 glibc). */
    private static String percent(final long part, final long whole) {
        return cFixed(100.0 * part / whole, 1);
    }

    /**
     * {@code printf("%.Nf", v)} as glibc prints it: the exact binary value rounded half-to-even (Java's
     * {@code %f} rounds the decimal expansion half-up: 0.125 would print 0.13 where C prints 0.12).
     */
    static String cFixed(final double v, final int decimals) {
        if (Double.isNaN(v)) {
            return "-nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return new BigDecimal(v).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    // ---- vmstat --------------------------------------------------------------------------------------------------

    private static final String[] FIELDS = {
        "r", "b", "swpd", "free", "buff", "cache", "si", "so", "bi", "bo", "in", "cs", "us", "sy", "id", "wa", "st",
        "gu"};
    private static final int[] WIDTH = {2, 2, 6, 6, 6, 6, 4, 4, 5, 5, 4, 4, 2, 2, 2, 2, 2, 2};
    private static final int[] WIDE_WIDTH = {4, 4, 12, 12, 12, 12, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3};
    private static final String HEADER =
        "procs -----------memory---------- ---swap-- -----io---- -system-- -------cpu-------";
    private static final String WIDE_HEADER = "--procs-- -----------------------memory---------------------- ---swap--"
        + " -----io---- -system-- ----------cpu----------";

    private static void vmstat(final Shell sh, final ArgReader a, final StringBuilder out) {
        final Map<String, Character> longs = new HashMap<>();
        for (final String[] l : new String[][] {{"active", "a"}, {"forks", "f"}, {"slabs", "m"}, {"one-header", "n"},
            {"stats", "s"}, {"disk", "d"}, {"disk-sum", "D"}, {"partition", "p"}, {"unit", "S"}, {"wide", "w"},
            {"timestamp", "t"}, {"help", "h"}, {"version", "V"}, {"no-first", "y"}}) {
            longs.put(l[0], l[1].charAt(0));
        }
        final Opts o = getopt("vmstat", a.rest(), "pS", "afmnsdDwthVy", longs);
        final Map<Character, String> g = o.given();
        if (g.containsKey('h')) {
            out.append(sh.execute("help vmstat"));
            return;
        }
        for (final char c : new char[] {'d', 'D', 'p'}) {
            if (g.containsKey(c)) {
                throw new ShellException("vmstat: -" + c + ": the model has no disks (no /proc/diskstats)");
            }
        }
        if (g.containsKey('f')) {
            throw new ShellException("vmstat: -f: the model keeps no fork count (no /proc/stat)");
        }
        if (g.containsKey('t')) {
            throw new ShellException("vmstat: -t: the model has no clock to stamp reports with");
        }
        long unit = 1024;
        String unitName = "K";
        if (g.containsKey('S')) {
            final String u = g.get('S');
            final char c = u.isEmpty() ? 0 : u.charAt(0);
            unit = switch (c) {
                case 'b', 'B' -> 1;
                case 'k' -> 1000;
                case 'K' -> 1024;
                case 'm' -> 1_000_000;
                case 'M' -> 1_048_576;
                default -> throw new ShellException("vmstat: -S requires k, K, m or M (default is KiB)");
            };
            unitName = String.valueOf(c);
        }
        if (o.operands().size() > 2) {
            throw new ShellException("vmstat: unexpected argument '" + o.operands().get(2) + "'; usage: "
                + a.usage());
        }
        if (!o.operands().isEmpty()) {
            final long delay = number(o.operands().get(0));
            if (delay < 1) {
                throw new ShellException("vmstat: delay must be positive integer");
            }
            final long count = o.operands().size() == 2 ? number(o.operands().get(1)) : -1;
            if (count != 1) {
                throw new ShellException("vmstat: " + (count < 0 ? "DELAY without COUNT repeats forever"
                    : "COUNT " + count + " reports need time to pass")
                    + "; the model has no clock (vmstat DELAY 1, or vmstat, prints one report)");
            }
        }
        if (g.containsKey('y')) {
            throw new ShellException("vmstat: -y skips the first report; the model has no clock for a second one");
        }
        final int modes = (g.containsKey('s') ? 1 : 0) + (g.containsKey('m') ? 1 : 0);
        if (modes > 1) {
            throw new ShellException("vmstat: -s and -m cannot be combined; usage: " + a.usage());
        }
        if (g.containsKey('m')) {
            slabs(sh, g.containsKey('n'), out);
        } else if (g.containsKey('s')) {
            sums(sh, unit, unitName, out);
        } else {
            report(sh, unit, g.containsKey('a'), g.containsKey('w'), out);
        }
    }

    private static long number(final String s) {
        try {
            return Long.parseLong(s);
        } catch (final NumberFormatException e) {
            throw new ShellException("vmstat: failed to parse argument: '" + s + "'");
        }
    }

    /** The "Name: N kB" lines of /proc/meminfo, in kB. */
    private static Map<String, Long> meminfo(final Shell sh) {
        final Map<String, Long> m = new HashMap<>();
        for (final String line : read(sh, "/proc/meminfo").split("\n")) {
            final int colon = line.indexOf(':');
            if (colon > 0) {
                final String[] v = line.substring(colon + 1).strip().split("\\s+");
                m.put(line.substring(0, colon), Long.parseLong(v[0]));
            }
        }
        return m;
    }

    /** The "name value" lines of /proc/vmstat. */
    private static Map<String, Long> vmstatCounters(final Shell sh) {
        final Map<String, Long> m = new HashMap<>();
        for (final String line : read(sh, "/proc/vmstat").split("\n")) {
            final String[] f = line.strip().split("\\s+");
            if (f.length == 2) {
                m.put(f[0], Long.parseLong(f[1]));
            }
        }
        return m;
    }

    /** libproc2's derived memory values (kB) from /proc/meminfo. */
    private record Mem(long total, long free, long used, long active, long inactive, long buffers, long cachedAll,
                       long swapTotal, long swapFree, long swapUsed) {
        static Mem of(final Map<String, Long> m) {
            final long total = m.getOrDefault("MemTotal", 0L);
            final long free = m.getOrDefault("MemFree", 0L);
            long avail = m.getOrDefault("MemAvailable", 0L);
            if (avail == 0 || avail > total) {
                avail = free;
            }
            long used = total - avail;
            if (used < 0) {
                used = total - free;
            }
            final long swapTotal = m.getOrDefault("SwapTotal", 0L);
            final long swapFree = m.getOrDefault("SwapFree", 0L);
            return new Mem(total, free, used, m.getOrDefault("Active", 0L), m.getOrDefault("Inactive", 0L),
                m.getOrDefault("Buffers", 0L), m.getOrDefault("Cached", 0L) + m.getOrDefault("SReclaimable", 0L),
                swapTotal, swapFree, swapFree < swapTotal ? swapTotal - swapFree : 0);
        }
    }

    private static double uptime(final Shell sh) {
        final double s = (System.nanoTime() - sh.state(Boot.class, () -> new Boot(System.nanoTime(), 0)).nanos())
            / 1e9;
        return s == 0 ? 1.0 : s;
    }

    /** The one-line report (vmstat's first line: averages since boot for the rates). */
    private static void report(final Shell sh, final long unit, final boolean active, final boolean wide,
                               final StringBuilder out) {
        final Mem mem = Mem.of(meminfo(sh));
        final Map<String, Long> vm = vmstatCounters(sh);
        final double uptime = uptime(sh);
        final long kbPerPage = PAGE_SIZE / 1024;
        // no /proc/stat: no interrupts, no context switches and zero cpu ticks, which procps reads as Div = 1 with
        // idle = 1: us sy wa st gu = (100 * 0 + Div / 2) / Div = 0, id = (100 * 1 + Div / 2) / Div = 100
        final long[] v = {
            0, 0,
            convert(mem.swapUsed(), unit), convert(mem.free(), unit),
            convert(active ? mem.inactive() : mem.buffers(), unit),
            convert(active ? mem.active() : mem.cachedAll(), unit),
            (long) (convert(vm.getOrDefault("pswpin", 0L) * kbPerPage, unit) / uptime),
            (long) (convert(vm.getOrDefault("pswpout", 0L) * kbPerPage, unit) / uptime),
            (long) (vm.getOrDefault("pgpgin", 0L) / uptime),
            (long) (vm.getOrDefault("pgpgout", 0L) / uptime),
            0, 0,
            0, 0, 100, 0, 0, 0};
        final int[] widths = wide ? WIDE_WIDTH : WIDTH;
        out.append(wide ? WIDE_HEADER : HEADER).append('\n');
        for (int i = 0; i < FIELDS.length; i++) {
            final String name = active && i == 4 ? "inact" : active && i == 5 ? "active" : FIELDS[i];
            out.append(String.format("%" + widths[i] + "s", name)).append(i + 1 < FIELDS.length ? " " : "\n");
        }
        outputLine(v, widths, out);
    }

    /** procps's output_line: a column that overflows its width is paid back by the next columns' padding. */
    static void outputLine(final long[] values, final int[] widths, final StringBuilder out) {
        int skew = 0;
        for (int i = 0; i < values.length; i++) {
            final int digits = Long.toUnsignedString(values[i]).length();
            int width = widths[i];
            while (skew > 0 && digits < width) {
                width--;
                skew--;
            }
            out.append(String.format("%" + width + "s", Long.toUnsignedString(values[i])));
            if (digits > width) {
                skew += digits - width;
            }
            out.append(i + 1 < values.length ? " " : "\n");
        }
    }

    /** unitConvert: a kB value of /proc/meminfo in the chosen unit, truncated. */
    private static long convert(final long kb, final long unit) {
        return (long) ((double) kb / unit * 1024);
    }

    /** vmstat -s. */
    private static void sums(final Shell sh, final long unit, final String unitName, final StringBuilder out) {
        final Mem mem = Mem.of(meminfo(sh));
        final Map<String, Long> vm = vmstatCounters(sh);
        final Object[][] memLines = {
            {mem.total(), "total memory"}, {mem.used(), "used memory"}, {mem.active(), "active memory"},
            {mem.inactive(), "inactive memory"}, {mem.free(), "free memory"}, {mem.buffers(), "buffer memory"},
            {mem.cachedAll(), "swap cache"}, {mem.swapTotal(), "total swap"}, {mem.swapUsed(), "used swap"},
            {mem.swapFree(), "free swap"}};
        for (final Object[] l : memLines) {
            out.append(String.format("%13d %s %s%n", convert((Long) l[0], unit), unitName, l[1]));
        }
        for (final String t : new String[] {"non-nice user", "nice user", "system", "idle", "IO-wait", "IRQ",
            "softirq", "stolen", "non-nice guest", "nice guest"}) {
            out.append(String.format("%13d %s cpu ticks%n", 0, t));
        }
        final String[][] counters = {
            {"pgpgin", "K paged in"}, {"pgpgout", "K paged out"}, {"pswpin", "pages swapped in"},
            {"pswpout", "pages swapped out"}, {"pgalloc_dma", "pages alloc in dma"},
            {"pgalloc_dma32", "pages alloc in dma32"}, {"pgalloc_high", "pages alloc in high"},
            {"pgalloc_movable", "pages alloc in movable"}, {"pgalloc_normal", "pages alloc in normal"},
            {"pgfree", "pages free"}};
        for (final String[] c : counters) {
            out.append(String.format("%13d %s%n", vm.getOrDefault(c[0], 0L), c[1]));
        }
        out.append(String.format("%13d interrupts%n", 0));
        out.append(String.format("%13d CPU context switches%n", 0));
        out.append(String.format("%13d boot time%n",
            sh.state(Boot.class, () -> new Boot(System.nanoTime(), 0)).epochSeconds()));
        out.append(String.format("%13d forks%n", 0));
    }

    /** vmstat -m: the caches by name; the header again every 21 rows unless {@code oneHeader}. */
    private static void slabs(final Shell sh, final boolean oneHeader, final StringBuilder out) {
        final List<SlabLine> caches = new ArrayList<>(slabinfo(sh));
        caches.sort(Comparator.comparing(SlabLine::name));
        final String header = String.format("%-24s %6s %6s %6s %6s%n", "Cache", "Num", "Total", "Size", "Pages");
        if (oneHeader) {
            out.append(header);
        }
        for (int j = 0; j < caches.size(); j++) {
            if (!oneHeader && j % NO_TTY_HEIGHT == 0) {
                out.append(header);
            }
            final SlabLine c = caches.get(j);
            final String name = c.name().length() > 24 ? c.name().substring(0, 24) : c.name();
            out.append(String.format("%-24s %6d %6d %6d %6d%n", name, c.activeObjs(), c.numObjs(), c.objSize(),
                c.objPerSlab()));
        }
    }
}
