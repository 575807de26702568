package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code slabtop} and {@code vmstat} against procps-ng's text formats (procps-ng 4.0.5, src/slabtop.c
 * {@code print_summary}/{@code print_headings}/{@code print_details}, src/vmstat.c {@code new_header},
 * {@code output_line}, {@code sum_format}, {@code slabheader}/{@code slabformat}; library/slabinfo.c
 * {@code parse_slabinfo20} and library/meminfo.c for the derived values). Every number is checked against the
 * model's own /proc/slabinfo, /proc/meminfo and /proc/vmstat printed in the same run.
 */
class ProcpsShellTest {
    /** The setup every test runs: caches of known layout, a partial slab (use below 100 %), kmalloc objects. */
    private static final String SETUP = """
        kmem_cache_create foo 100 flags=SLAB_NO_MERGE
        kmem_cache_create bar 600 flags=SLAB_NO_MERGE
        """ + allocFree() + """
        kmem_cache_shrink foo
        kmalloc 100
        kmalloc 700
        kmalloc 3000
        m = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
        touch $m w
        """;

    /** 80 objects of foo (three slabs of 39), then 10 of the first ones freed: a partial slab with free objects. */
    private static String allocFree() {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 80; i++) {
            sb.append("o").append(i).append(" = kmem_cache_alloc foo\n");
        }
        for (int i = 0; i < 10; i++) {
            sb.append("kmem_cache_free foo $o").append(i).append('\n');
        }
        for (int i = 0; i < 5; i++) {
            sb.append("b").append(i).append(" = kmem_cache_alloc bar\n");
        }
        return sb.toString();
    }

    /** A /proc/slabinfo cache line: the fields procps reads. */
    private record Slab(String name, long active, long objs, long size, long perSlab, long pages, long aslabs,
                        long slabs) {
        long cacheBytes() {
            return slabs * pages * 4096;
        }
    }

    private static List<Slab> parseSlabinfo(final String text) {
        final List<Slab> out = new ArrayList<>();
        for (final String l : text.split("\n")) {
            if (l.startsWith("slabinfo") || l.startsWith("#")) {
                continue;
            }
            final String[] f = l.strip().split("\\s+");
            out.add(new Slab(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[13]), Long.parseLong(f[14])));
        }
        return out;
    }

    /** Runs SETUP, then {@code cat FILE} and the commands; returns [cat output, command output] split at a marker. */
    private static String[] runAfter(final String cat, final String commands) {
        final ShellRun r = ShellRun.run("mem=64M nr_cpus=1", SETUP + "cat " + cat + "\necho @@@\n" + commands);
        assertEquals("", r.err());
        final String out = r.out();
        final int at = out.indexOf("@@@\n");
        final int start = out.indexOf(cat.equals("/proc/slabinfo") ? "slabinfo - version" : cat.equals(
            "/proc/meminfo") ? "MemTotal:" : "nr_free_pages ");
        return new String[] {out.substring(start, at), out.substring(at + 4)};
    }

    // slabtop.c print_details: "%6u %6u %3u%% %7.2fK %6u %8u %9luK %-23s\n"
    private static final Pattern ROW = Pattern.compile(
        "([ \\d]{5}\\d) ([ \\d]{5}\\d) ([ \\d]{2}\\d)% ([ \\d]{3}\\d\\.\\d\\d)K ([ \\d]{5}\\d) ([ \\d]{7}\\d) "
            + "([ \\d]{8}\\d)K (\\S.{22,})");

    @Test
    void slabtopPrintsProcpsSummaryAndRowsFromSlabinfo() {
        final String[] r = runAfter("/proc/slabinfo", "slabtop -o\n");
        final List<Slab> slabs = parseSlabinfo(r[0]);
        final String[] lines = r[1].split("\n", -1);
        // print_summary: " %-35s: %u / %u (%.1f%%)" x3, sizes "%.2fK", then "Minimum / Average / Maximum Object"
        long objs = 0;
        long active = 0;
        long nslabs = 0;
        long activeCaches = 0;
        long totalSize = 0;
        long activeSize = 0;
        long min = Long.MAX_VALUE;
        long max = 0;
        for (final Slab s : slabs) {
            objs += s.objs();
            active += s.active();
            nslabs += s.slabs();
            activeCaches += s.objs() > 0 ? 1 : 0;
            totalSize += s.objs() * s.size();
            activeSize += s.active() * s.size();
            min = Math.min(min, s.size());
            max = Math.max(max, s.size());
        }
        assertTrue(active < objs, "the partial slab's free objects are not active: " + active + "/" + objs);
        assertEquals(String.format(" Active / Total Objects (%% used)    : %d / %d (%s%%)", active, objs,
            ProcpsCommands.cFixed(100.0 * active / objs, 1)), lines[0]);
        assertEquals(String.format(" Active / Total Slabs (%% used)      : %d / %d (100.0%%)", nslabs, nslabs),
            lines[1], "SLUB reports every slab as active");
        assertEquals(String.format(" Active / Total Caches (%% used)     : %d / %d (%s%%)", activeCaches,
            slabs.size(), ProcpsCommands.cFixed(100.0 * activeCaches / slabs.size(), 1)), lines[2]);
        assertEquals(String.format(" Active / Total Size (%% used)       : %sK / %sK (%s%%)",
            ProcpsCommands.cFixed(activeSize / 1024.0, 2), ProcpsCommands.cFixed(totalSize / 1024.0, 2),
            ProcpsCommands.cFixed(100.0 * activeSize / totalSize, 1)), lines[3]);
        assertEquals(String.format(" Minimum / Average / Maximum Object : %sK / %sK / %sK",
            ProcpsCommands.cFixed(min / 1024.0, 2), ProcpsCommands.cFixed(totalSize / objs / 1024.0, 2),
            ProcpsCommands.cFixed(max / 1024.0, 2)), lines[4]);
        assertEquals("", lines[5]);
        // print_headings: "%-78s\n"
        assertEquals(78, lines[6].length(), "'%-78s': " + lines[6]);
        assertEquals("  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME", lines[6].stripTrailing());
        final Map<String, Slab> byName = new HashMap<>();
        slabs.forEach(s -> byName.put(s.name(), s));
        int rows = 0;
        boolean partial = false;
        for (int i = 7; i < lines.length - 1; i++) {
            final Matcher m = ROW.matcher(lines[i]);
            assertTrue(m.matches(), "procps row format: '" + lines[i] + "'");
            final Slab s = byName.get(m.group(8).strip());
            assertEquals(Math.max(23, s.name().length()), m.group(8).length(), "%-23s: " + lines[i]);
            assertEquals(s.objs(), Long.parseLong(m.group(1).strip()), lines[i]);
            assertEquals(s.active(), Long.parseLong(m.group(2).strip()), lines[i]);
            final long use = s.objs() == 0 ? 0 : 100 * s.active() / s.objs();
            assertTrue(Math.abs(use - Long.parseLong(m.group(3).strip())) <= 1, "USE " + lines[i]);
            partial |= Long.parseLong(m.group(3).strip()) < 100 && s.objs() > 0;
            assertEquals(s.size() / 1024.0, Double.parseDouble(m.group(4).strip()), 0.005 + 1e-9, lines[i]);
            assertEquals(s.slabs(), Long.parseLong(m.group(5).strip()), lines[i]);
            assertEquals(s.perSlab(), Long.parseLong(m.group(6).strip()), lines[i]);
            assertEquals(s.cacheBytes() / 1024, Long.parseLong(m.group(7).strip()), "CACHE SIZE " + lines[i]);
            rows++;
        }
        assertEquals(slabs.size(), rows, "one row per cache");
        assertEquals("", lines[lines.length - 1]);
        assertTrue(partial, "a row with USE below 100%");
        // glibc's %.2f rounds the exact binary value half to even: 128 / 1024 = 0.125 prints 0.12 (real slabtop too)
        assertTrue(r[1].contains("    0.12K ") && !r[1].contains("0.13K"), r[1]);
        // foo: 104-byte objects (100 + free pointer alignment), 39 a 4 KiB slab; three slabs
        final Slab foo = byName.get("foo");
        assertEquals(String.format("%6d %6d %3d%% %7sK %6d %8d %9dK %-23s", foo.objs(), foo.active(),
            (long) (100 * ((float) foo.active() / foo.objs())), "0.10", 3, 39, 12, "foo"),
            lines[7 + rowsBefore(lines, "foo")]);
    }

    private static int rowsBefore(final String[] lines, final String name) {
        for (int i = 7; i < lines.length; i++) {
            if (lines[i].length() > 55 && lines[i].substring(55).strip().equals(name)) {
                return i - 7;
            }
        }
        throw new AssertionError("no row for " + name);
    }

    @Test
    void slabtopSortKeysAsProcps() {
        final Map<Character, Comparator<Slab>> keys = new LinkedHashMap<>();
        keys.put('o', Comparator.comparingLong(Slab::objs).reversed());
        keys.put('a', Comparator.comparingLong(Slab::active).reversed());
        keys.put('b', Comparator.comparingLong(Slab::perSlab).reversed());
        keys.put('c', Comparator.comparingLong(Slab::cacheBytes).reversed());
        keys.put('l', Comparator.comparingLong(Slab::slabs).reversed());
        keys.put('v', Comparator.comparingLong(Slab::aslabs).reversed());
        keys.put('n', Comparator.comparing(Slab::name));
        keys.put('p', Comparator.comparingLong(Slab::pages).reversed());
        keys.put('s', Comparator.comparingLong(Slab::size).reversed());
        keys.put('u', Comparator.comparingLong((Slab s) -> s.objs() == 0 ? 0
            : (long) (100 * ((float) s.active() / s.objs()))).reversed());
        final StringBuilder cmds = new StringBuilder();
        for (final char k : keys.keySet()) {
            cmds.append("slabtop -o -s ").append(k).append("\necho @@\n");
        }
        cmds.append("slabtop --sort=C --once\n");
        final String[] r = runAfter("/proc/slabinfo", cmds.toString());
        final List<Slab> slabs = parseSlabinfo(r[0]);
        final Map<String, Slab> byName = new HashMap<>();
        slabs.forEach(s -> byName.put(s.name(), s));
        final String[] outs = r[1].split("@@\n");
        int i = 0;
        for (final Map.Entry<Character, Comparator<Slab>> e : keys.entrySet()) {
            final List<Slab> listed = new ArrayList<>();
            for (final String n : names(outs[i++])) {
                listed.add(java.util.Objects.requireNonNull(byName.get(n), () -> "no cache '" + n + "'"));
            }
            assertEquals(slabs.size(), listed.size());
            for (int j = 1; j < listed.size(); j++) {
                assertTrue(e.getValue().compare(listed.get(j - 1), listed.get(j)) <= 0,
                    "-s " + e.getKey() + ": " + listed.get(j - 1) + " before " + listed.get(j));
            }
        }
        assertEquals(names(outs[keys.size()]), names(outs[3]), "-s C sorts as -s c (tolower)");
        // the 3000-byte kmalloc: kmalloc-4k is among the largest caches by size (beside pid 1's order-3 slabs of
        // task_struct, mm_struct, signal_cache and sighand_cache, which take as much)
        assertEquals(byName.get("kmalloc-4k").cacheBytes(), byName.get(names(outs[3]).get(0)).cacheBytes(),
            "the 3000-byte kmalloc: kmalloc-4k is the largest cache by size, or as large");
    }

    private static List<String> names(final String slabtop) {
        final List<String> out = new ArrayList<>();
        boolean table = false;
        for (final String l : slabtop.split("\n")) {
            if (table && !l.isBlank()) {
                out.add(l.substring(55).strip()); // NAME starts at column 55
            }
            table |= l.startsWith("  OBJS ACTIVE");
        }
        return out;
    }

    @Test
    void slabtopRefusesWhatNeedsAClockOrAKey() {
        final ShellRun r = ShellRun.run("""
            slabtop -d 3
            slabtop -o -d 3
            slabtop -s
            slabtop -s x
            slabtop -q
            slabtop extra
            """);
        assertEquals("""
            mm4j: 1: slabtop: -d 3: the model has no clock to wait on; slabtop prints once
            mm4j: 2: slabtop: Cannot combine -d and -o options
            mm4j: 3: slabtop: option requires an argument -- 's'
            mm4j: 4: slabtop: unknown sort key 'x' (expected one of: a b c l v n o p s u; help slabtop)
            mm4j: 5: slabtop: invalid option -- 'q' (try: help slabtop)
            mm4j: 6: slabtop: unexpected argument 'extra'; usage: slabtop [-o] [-s KEY]
            """, r.err());
        assertEquals("", r.out());
    }

    private static Map<String, Long> keyValues(final String text) {
        final Map<String, Long> m = new HashMap<>();
        for (final String l : text.split("\n")) {
            final String[] f = l.replace(":", " ").strip().split("\\s+");
            m.put(f[0], Long.parseLong(f[1]));
        }
        return m;
    }

    // vmstat.c new_header(): the group line, then each field right-aligned in its width, one blank between
    private static final String HEADER =
        "procs -----------memory---------- ---swap-- -----io---- -system-- -------cpu-------\n"
            + " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st gu\n";

    @Test
    void vmstatReportReadsMeminfo() {
        final String[] r = runAfter("/proc/meminfo", "vmstat\nvmstat 1 1\nvmstat -a\nvmstat -w\nvmstat -S M\n"
            + "vmstat -a -S k -n\n");
        final Map<String, Long> mi = keyValues(r[0]);
        final String[] reports = r[1].split("(?=procs -|--procs--)");
        assertEquals(6, reports.length, r[1]);
        assertTrue(reports[0].startsWith(HEADER), reports[0]);
        assertEquals(reports[0], reports[1], "vmstat 1 1 is the one report");
        final String[] v = reports[0].substring(HEADER.length()).strip().split("\\s+");
        assertEquals(18, v.length, reports[0]);
        assertEquals(mi.get("SwapTotal") - mi.get("SwapFree"), Long.parseLong(v[2]), "swpd");
        assertEquals(mi.get("MemFree"), Long.parseLong(v[3]), "free");
        assertEquals(mi.get("Buffers"), Long.parseLong(v[4]), "buff");
        assertEquals(mi.get("Cached") + mi.get("SReclaimable"), Long.parseLong(v[5]), "cache");
        for (final int z : new int[] {0, 1, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17}) {
            assertEquals("0", v[z], "always 0 in the model: column " + z + " of " + reports[0]);
        }
        assertEquals("100", v[14], "no cpu ticks read as idle 100, as procps reads Div = 0");
        // output_line: id's third digit is paid back by wa's padding ("100 0", not "100  0")
        assertTrue(reports[0].endsWith("  0  0 100 0  0  0\n"), reports[0]);
        assertTrue(reports[2].contains("\n r  b   swpd   free  inact active   si"), reports[2]);
        final String[] a = reports[2].split("\n")[2].strip().split("\\s+");
        assertEquals(mi.get("Inactive"), Long.parseLong(a[4]), "inact");
        assertEquals(mi.get("Active"), Long.parseLong(a[5]), "active");
        assertTrue(reports[3].startsWith("--procs-- -----------------------memory---------------------- ---swap-- "
            + "-----io---- -system-- ----------cpu----------\n   r    b         swpd         free         buff"
            + "        cache   si   so    bi    bo   in   cs  us  sy  id  wa  st  gu\n"), reports[3]);
        assertEquals(String.format("%4d %4d %12d %12d", 0, 0, 0, mi.get("MemFree")),
            reports[3].split("\n")[2].substring(0, 35), "-w: 4- and 12-wide columns");
        final String[] mb = reports[4].split("\n")[2].strip().split("\\s+");
        assertEquals((long) (mi.get("MemFree") / 1048576.0 * 1024), Long.parseLong(mb[3]), "-S M: MiB, truncated");
        final String[] k = reports[5].split("\n")[2].strip().split("\\s+");
        assertEquals((long) (mi.get("Inactive") / 1000.0 * 1024), Long.parseLong(k[4]), "-S k: 1000 bytes");
    }

    @Test
    void vmstatStatsReadMeminfoAndVmstat() {
        final ShellRun run = ShellRun.run("mem=64M nr_cpus=1", SETUP + "cat /proc/meminfo\necho @@@\n"
            + "cat /proc/vmstat\necho @@@\nvmstat -s\necho @@@\nvmstat -s -S M\n");
        assertEquals("", run.err());
        final String[] parts = run.out().split("@@@\n");
        final Map<String, Long> mi = keyValues(parts[0].substring(parts[0].indexOf("MemTotal:")));
        final Map<String, Long> vm = keyValues(parts[1]);
        final String[] s = parts[2].split("\n");
        // sum_format: "%13lu %s total memory" ... "%13lld non-nice user cpu ticks" ... "%13lu forks"
        final String[] expect = {
            "K total memory", "K used memory", "K active memory", "K inactive memory", "K free memory",
            "K buffer memory", "K swap cache", "K total swap", "K used swap", "K free swap",
            "non-nice user cpu ticks", "nice user cpu ticks", "system cpu ticks", "idle cpu ticks",
            "IO-wait cpu ticks", "IRQ cpu ticks", "softirq cpu ticks", "stolen cpu ticks",
            "non-nice guest cpu ticks", "nice guest cpu ticks", "K paged in", "K paged out", "pages swapped in",
            "pages swapped out", "pages alloc in dma", "pages alloc in dma32", "pages alloc in high",
            "pages alloc in movable", "pages alloc in normal", "pages free", "interrupts", "CPU context switches",
            "boot time", "forks"};
        assertEquals(expect.length, s.length, parts[2]);
        final long[] values = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            assertTrue(s[i].matches("[ \\d]{12}\\d " + Pattern.quote(expect[i])), "'" + s[i] + "'");
            values[i] = Long.parseLong(s[i].substring(0, 13).strip());
        }
        final long total = mi.get("MemTotal");
        assertEquals(total, values[0]);
        assertEquals(total - mi.get("MemAvailable"), values[1], "used = MemTotal - MemAvailable (libproc2 4.x)");
        assertEquals(mi.get("Active"), values[2]);
        assertEquals(mi.get("Inactive"), values[3]);
        assertEquals(mi.get("MemFree"), values[4]);
        assertEquals(mi.get("Buffers"), values[5]);
        assertEquals(mi.get("Cached") + mi.get("SReclaimable"), values[6], "'swap cache' is Cached + SReclaimable");
        assertEquals(mi.get("SwapTotal"), values[7]);
        assertEquals(mi.get("SwapFree"), values[9]);
        assertEquals(vm.get("pgpgin"), values[20]);
        assertEquals(vm.get("pgalloc_dma"), values[24]);
        assertEquals(vm.get("pgalloc_dma32"), values[25]);
        assertEquals(0, values[26], "x86-64 has no highmem");
        assertEquals(vm.get("pgalloc_normal"), values[28]);
        // mem=64M: DMA below 16 MiB, DMA32 above, no Normal zone; the allocations go to DMA32 first
        assertTrue(values[25] > 0, "the model's page allocations are counted");
        assertEquals(0, values[28], "no ZONE_NORMAL below 4 GiB");
        assertEquals(vm.get("pgfree"), values[29]);
        assertTrue(values[32] > 1_700_000_000L, "boot time: seconds since the epoch");
        assertEquals((long) (total / 1048576.0 * 1024) + " M total memory",
            parts[3].split("\n")[0].strip(), "-S M");
    }

    @Test
    void vmstatSlabsByNameWithTheHeaderEvery21Rows() {
        final String[] r = runAfter("/proc/slabinfo", "vmstat -m\necho @@\nvmstat -m -n\n");
        final List<Slab> slabs = parseSlabinfo(r[0]);
        final String[] outs = r[1].split("@@\n");
        // slabheader: "%-24s %6s %6s %6s %6s\n"; slabformat: "%-24.24s %6u %6u %6u %6u\n"
        final String header = "Cache                       Num  Total   Size  Pages";
        final String[] lines = outs[0].split("\n");
        final List<String> rows = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (rows.size() % 21 == 0 && (i == 0 || !lines[i - 1].equals(header))) {
                assertEquals(header, lines[i], "the header before row " + rows.size());
                continue;
            }
            rows.add(lines[i]);
        }
        assertEquals(slabs.size(), rows.size());
        final List<Slab> byName = new ArrayList<>(slabs);
        byName.sort(Comparator.comparing(Slab::name));
        for (int i = 0; i < rows.size(); i++) {
            final Slab s = byName.get(i);
            assertEquals(String.format("%-24s %6d %6d %6d %6d", s.name(), s.active(), s.objs(), s.size(),
                s.perSlab()), rows.get(i));
        }
        final String[] once = outs[1].split("\n");
        assertEquals(header, once[0]);
        assertEquals(rows, List.of(once).subList(1, once.length), "-n: one header, same rows");
    }

    @Test
    void vmstatRefusesWhatTheModelHasNot() {
        final ShellRun r = ShellRun.run("""
            vmstat 1
            vmstat 1 3
            vmstat 0
            vmstat x
            vmstat -d
            vmstat -S q
            vmstat -s -m
            vmstat -t
            """);
        assertEquals("""
            mm4j: 1: vmstat: DELAY without COUNT repeats forever; the model has no clock (vmstat DELAY 1, or vmstat, prints one report)
            mm4j: 2: vmstat: COUNT 3 reports need time to pass; the model has no clock (vmstat DELAY 1, or vmstat, prints one report)
            mm4j: 3: vmstat: delay must be positive integer
            mm4j: 4: vmstat: failed to parse argument: 'x'
            mm4j: 5: vmstat: -d: the model has no disks (no /proc/diskstats)
            mm4j: 6: vmstat: -S requires k, K, m or M (default is KiB)
            mm4j: 7: vmstat: -s and -m cannot be combined; usage: vmstat [-a] [-s] [-m] [-n] [-w] [-S UNIT] [DELAY [1]]
            mm4j: 8: vmstat: -t: the model has no clock to stamp reports with
            """, r.err());
    }

    @Test
    void outputLineOverflowIsPaidBackByLaterPadding() {
        final StringBuilder sb = new StringBuilder();
        // free = 1234567 is one digit too wide for 6: buff's padding gives the column back
        ProcpsCommands.outputLine(new long[] {0, 1234567, 5, 100, 0}, new int[] {2, 6, 6, 2, 2}, sb);
        assertEquals(" 0 1234567     5 100 0\n", sb.toString());
    }

    @Test
    void printfRoundingIsGlibcs() {
        assertEquals("0.12", ProcpsCommands.cFixed(128 / 1024.0, 2), "0.125: the tie goes to even");
        assertEquals("0.38", ProcpsCommands.cFixed(384 / 1024.0, 2), "0.375: the tie goes to even");
        assertEquals("0.10", ProcpsCommands.cFixed(104 / 1024.0, 2));
        assertEquals("5.7", ProcpsCommands.cFixed(100.0 * 3 / 53, 1));
        assertEquals("-nan", ProcpsCommands.cFixed(100.0 * 0 / 0, 1), "0/0 on x86-64 glibc");
    }
}
