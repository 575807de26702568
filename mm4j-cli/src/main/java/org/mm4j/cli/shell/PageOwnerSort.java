package org.mm4j.cli.shell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's {@code tools/mm/page_owner_sort} over the text of {@code /sys/kernel/debug/page_owner}: reads the
 * blocks (one per allocation, ended by an empty line; the {@code PFN} line is set aside), culls equal ones into
 * groups and prints each group as {@code "N times, M pages, allocated by OTHERS :"} and the block, most frequent
 * first. Options, as the tool's: {@code -a} (by allocation time), {@code -m} (by total pages), {@code -n} (by
 * command name), {@code -p} (by pid), {@code -P} (by tgid), {@code -s} (by stack), {@code -t} (by times, the
 * default); {@code --pid}, {@code --tgid}, {@code --name} lists select blocks; {@code --cull} rules
 * ({@code pid,tgid,comm|name,stacktrace|st,allocator}) group by those fields only; {@code --sort}
 * {@code [+|-]key[,...]}.
 *
 * <p>Departures, named: the input is a model file (default {@code /sys/kernel/debug/page_owner}) and the result
 * goes to standard output, where the tool writes an output file and prints its progress ("loaded N", "sorting
 * ....", "culling") on standard output; groups of equal rank are ordered by their text (the tool's qsort
 * promises no order). Stateless.
 */
final class PageOwnerSort {
    private static final Pattern ORDER = Pattern.compile("order\\s*([0-9]*),");
    private static final Pattern PID = Pattern.compile("pid\\s*([0-9]*),");
    private static final Pattern TGID = Pattern.compile("tgid\\s*([0-9]*) ");
    private static final Pattern COMM = Pattern.compile("tgid\\s*[0-9]*\\s*\\((.*)\\),\\s*ts");
    private static final Pattern TS = Pattern.compile("ts\\s*([0-9]*)\\s*ns");
    private static final int ALLOCATOR_CMA = 1 << 1;
    private static final int ALLOCATOR_SLAB = 1 << 2;
    private static final int ALLOCATOR_VMALLOC = 1 << 3;
    private static final int ALLOCATOR_OTHERS = 1 << 4;

    /** One block, then one group of blocks ({@code struct block_list}). */
    private static final class Block {
        String txt;
        String stacktrace;
        String comm;
        long tsNsec;
        int num = 1;
        long pageNum;
        int pid;
        int tgid;
        int allocator;
    }

    private PageOwnerSort() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("page_owner_sort", USAGE, "summarize /sys/kernel/debug/page_owner by stack",
            """
            tools/mm/page_owner_sort over the model's page_owner file (boot with page_owner=on): blocks with the
            same text (first line without its ts value, and stack) are counted together and printed most frequent
            first as 'N times, M pages, allocated by OTHERS :' followed by the block.
              -a -m -n -p -P -s -t   sort by allocation time, total pages, comm, pid, tgid, stack, times (default)
              --pid L --tgid L --name L   only blocks of these pids / tgids / command names (comma lists)
              --cull RULES   group by fields only: pid,tgid,comm,stacktrace,allocator (e.g. --cull st)
              --sort KEYS    [+|-]key[,...] with keys pid, tgid, name, stacktrace, txt, alloc_ts, allocator
            Example:  page_owner_sort -m""",
            (shell, a, out) -> out.append(run(a.rest(), shell))));
    }

    static final String USAGE = "page_owner_sort [-a|-m|-n|-p|-P|-s|-t] [--pid LIST] [--tgid LIST] [--name LIST]"
        + " [--cull RULES] [--sort KEYS] [INPUT]";

    /** Runs the tool with {@code args} over {@code input}; returns what it writes. */
    static String run(final List<String> args, final Shell sh) {
        final List<Comparator<Block>> sort = new ArrayList<>();
        final Set<String> cull = new LinkedHashSet<>();
        List<Integer> pids = null;
        List<Integer> tgids = null;
        List<String> names = null;
        String single = null;
        String input = "/sys/kernel/debug/page_owner";
        for (int i = 0; i < args.size(); i++) {
            final String a = args.get(i);
            switch (a) {
                case "-a", "-m", "-n", "-p", "-P", "-s", "-t" -> {
                    if (single != null && !single.equals(a)) {
                        throw new ShellException("page_owner_sort: " + single + " and " + a
                            + " (expected: one sort option); usage: " + USAGE);
                    }
                    single = a;
                }
                case "--pid", "--tgid", "--name", "--cull", "--sort" -> {
                    if (i + 1 >= args.size()) {
                        throw new ShellException("page_owner_sort: " + a + " needs a value; usage: " + USAGE);
                    }
                    final String v = args.get(++i);
                    switch (a) {
                        case "--pid" -> pids = nums(a, v);
                        case "--tgid" -> tgids = nums(a, v);
                        case "--name" -> names = List.of(v.split(","));
                        case "--cull" -> {
                            for (final String r : v.split(",")) {
                                final String k = key(r);
                                if (!Set.of("pid", "tgid", "comm", "stacktrace", "allocator").contains(k)) {
                                    throw new ShellException("page_owner_sort: wrong argument after --cull option:"
                                        + v);
                                }
                                cull.add(k);
                            }
                        }
                        default -> {
                            sort.clear();
                            for (final String r : v.split(",")) {
                                final boolean desc = r.startsWith("-");
                                final String k = key(r.startsWith("-") || r.startsWith("+") ? r.substring(1) : r);
                                final Comparator<Block> c = comparator(k);
                                if (c == null) {
                                    throw new ShellException("page_owner_sort: wrong argument after --sort option:"
                                        + v);
                                }
                                sort.add(desc ? c.reversed() : c);
                            }
                        }
                    }
                }
                default -> {
                    if (a.startsWith("-")) {
                        throw new ShellException("page_owner_sort: unknown option " + a + "; usage: " + USAGE);
                    }
                    input = a;
                }
            }
        }
        if (single != null || sort.isEmpty()) {
            sort.clear();
            sort.add(switch (single == null ? "-t" : single) {
                case "-a" -> comparator("alloc_ts");
                case "-m" -> Comparator.<Block>comparingLong(b -> b.pageNum).reversed();
                case "-n" -> comparator("comm");
                case "-p" -> comparator("pid");
                case "-P" -> comparator("tgid");
                case "-s" -> comparator("stacktrace");
                default -> Comparator.<Block>comparingInt(b -> b.num).reversed();
            });
        }
        final boolean keepTs = "-a".equals(single);
        final String text;
        try {
            text = sh.kernel().procfs().read(input);
        } catch (final RuntimeException e) {
            throw new ShellException("page_owner_sort: " + e.getMessage()
                + (input.equals("/sys/kernel/debug/page_owner") ? " (boot with page_owner=on)" : ""));
        }
        final List<Block> list = new ArrayList<>();
        for (final String raw : text.split("\n\n")) {
            if (raw.isBlank()) {
                continue;
            }
            final Block b = parse(raw, keepTs);
            if ((pids == null || pids.contains(b.pid)) && (tgids == null || tgids.contains(b.tgid))
                && (names == null || names.contains(b.comm))) {
                list.add(b);
            }
        }
        final Comparator<Block> cullCmp = cullComparator(cull);
        list.sort(cullCmp);
        final List<Block> groups = new ArrayList<>();
        for (final Block b : list) {
            final Block last = groups.isEmpty() ? null : groups.getLast();
            if (last != null && cullCmp.compare(last, b) == 0) {
                last.num += b.num;
                last.pageNum += b.pageNum;
            } else {
                groups.add(b);
            }
        }
        Comparator<Block> order = sort.getFirst();
        for (int i = 1; i < sort.size(); i++) {
            order = order.thenComparing(sort.get(i));
        }
        groups.sort(order);
        final StringBuilder out = new StringBuilder();
        for (final Block b : groups) {
            if (cull.isEmpty()) {
                out.append(b.num).append(" times, ").append(b.pageNum).append(" pages, ");
                allocator(out, b.allocator);
                out.append(":\n").append(b.txt).append('\n');
                continue;
            }
            out.append(b.num).append(" times, ").append(b.pageNum).append(" pages");
            if (cull.contains("pid") || pids != null) {
                out.append(", PID ").append(b.pid);
            }
            if (cull.contains("tgid") || tgids != null) {
                out.append(", TGID ").append(b.tgid);
            }
            if (cull.contains("comm") || names != null) {
                out.append(", task_comm_name: ").append(b.comm);
            }
            if (cull.contains("allocator")) {
                out.append(", ");
                allocator(out, b.allocator);
            }
            if (cull.contains("stacktrace")) {
                out.append(":\n").append(b.stacktrace);
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** {@code read_block} and {@code add_list}: the block's text without its PFN line (and ts value). */
    private static Block parse(final String raw, final boolean keepTs) {
        final StringBuilder txt = new StringBuilder();
        String pfnLine = "";
        for (final String line : raw.split("\n")) {
            if (line.startsWith("PFN")) {
                pfnLine = line;
            } else {
                txt.append(line).append('\n');
            }
        }
        final String full = txt.toString();
        final Block b = new Block();
        b.pid = (int) num(PID, full, -1);
        b.tgid = (int) num(TGID, full, -1);
        final Matcher cm = COMM.matcher(full);
        b.comm = cm.find() ? cm.group(1) : "";
        final long order = num(ORDER, full, -1);
        b.pageNum = order < 0 || order > 64 ? 0 : 1L << order;
        b.tsNsec = num(TS, full, -1);
        String t = full;
        if (!keepTs) {
            final Matcher m = TS.matcher(t);
            if (m.find()) {
                t = t.substring(0, m.start(1)) + t.substring(m.end(1));
            }
        }
        b.txt = t;
        final int nl = t.indexOf('\n');
        b.stacktrace = nl < 0 ? "" : t.substring(nl + 1);
        int alloc = 0;
        if (pfnLine.contains("CMA")) {
            alloc |= ALLOCATOR_CMA;
        }
        if (pfnLine.contains("slab")) {
            alloc |= ALLOCATOR_SLAB;
        }
        if (full.contains("__vmalloc_node_range")) {
            alloc |= ALLOCATOR_VMALLOC;
        }
        b.allocator = alloc == 0 ? ALLOCATOR_OTHERS : alloc;
        return b;
    }

    private static long num(final Pattern p, final String s, final long missing) {
        final Matcher m = p.matcher(s);
        if (!m.find() || m.group(1).isEmpty()) {
            return missing;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (final NumberFormatException e) {
            return missing;
        }
    }

    private static void allocator(final StringBuilder out, final int allocator) {
        out.append("allocated by ");
        if ((allocator & ALLOCATOR_CMA) != 0) {
            out.append("CMA ");
        }
        if ((allocator & ALLOCATOR_SLAB) != 0) {
            out.append("SLAB ");
        }
        if ((allocator & ALLOCATOR_VMALLOC) != 0) {
            out.append("VMALLOC ");
        }
        if ((allocator & ALLOCATOR_OTHERS) != 0) {
            out.append("OTHERS ");
        }
    }

    /** {@code get_arg_type}: the tool's key names and their short forms. */
    private static String key(final String arg) {
        return switch (arg) {
            case "pid", "p" -> "pid";
            case "tgid", "tg" -> "tgid";
            case "name", "n", "comm" -> "comm";
            case "stacktrace", "st" -> "stacktrace";
            case "txt", "T" -> "txt";
            case "alloc_ts", "at" -> "alloc_ts";
            case "allocator", "ator" -> "allocator";
            default -> arg;
        };
    }

    private static Comparator<Block> comparator(final String key) {
        return switch (key) {
            case "pid" -> Comparator.comparingInt(b -> b.pid);
            case "tgid" -> Comparator.comparingInt(b -> b.tgid);
            case "comm" -> Comparator.comparing(b -> b.comm);
            case "stacktrace" -> Comparator.comparing(b -> b.stacktrace);
            case "txt" -> Comparator.comparing(b -> b.txt);
            case "alloc_ts" -> Comparator.comparingLong(b -> b.tsNsec);
            case "allocator" -> Comparator.comparingInt(b -> b.allocator);
            default -> null;
        };
    }

    /** {@code compare_cull_condition}: the whole text without culling rules, else the chosen fields. */
    private static Comparator<Block> cullComparator(final Set<String> cull) {
        if (cull.isEmpty()) {
            return comparator("txt");
        }
        Comparator<Block> c = (unusedA, unusedB) -> 0;
        for (final String k : List.of("stacktrace", "pid", "tgid", "comm", "allocator")) {
            if (cull.contains(k)) {
                c = c.thenComparing(comparator(k));
            }
        }
        return c;
    }

    private static List<Integer> nums(final String opt, final String v) {
        final List<Integer> out = new ArrayList<>();
        for (final String s : v.split(",")) {
            try {
                out.add(Integer.parseInt(s.strip()));
            } catch (final NumberFormatException e) {
                throw new ShellException("page_owner_sort: wrong/invalid " + opt.substring(2)
                    + " in from the command line:" + v);
            }
        }
        return out;
    }
}
