package org.mm4j.boot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel command line, parsed the way Linux's {@code parse_args} / {@code early_param} handlers read it.
 *
 * <p>Known parameters are validated and stored; unknown ones are kept (in order) and reported, as Linux prints
 * "Unknown kernel command line parameters ...". A malformed value of a known parameter is a
 * {@link CmdlineException} naming the parameter and value. Instances are immutable and safe to share.
 *
 * <p>Parameters: {@code mem=} (a {@code memparse} size: K/M/G/T suffix in either case or 0x hex, default 256M;
 * rounded down to whole 4 MiB blocks per node), {@code nr_cpus=} (default: available processors, at most
 * {@link #MAX_CPUS}), {@code numa=fake=N} or {@code numa=off}, {@code slub_debug=}/{@code slab_debug=} (stored
 * verbatim, parsed by the slab layer), {@code slub_max_order=}, {@code slub_min_order=}, {@code slub_min_objects=}
 * (also spelled {@code slab_*}), {@code init_on_alloc=}, {@code init_on_free=} ({@code kstrtobool}: 1/y/t/on or
 * 0/n/f/off), {@code slab_nomerge}, {@code slab_merge}, and mm4j's own {@code mm4j.sheaves=} (sheaf capacity the
 * JVM-facing allocator gives caches that do not ask for one), {@code mm4j.double_free=refuse|kernel},
 * {@code mm4j.random_seed=N}, {@code mm4j.aslr_seed=N}, {@code mm4j.vma_store=maple|rbtree}, {@code mm4j.thp=always|never|host},
 * {@code mm4j.leak_detection=disabled|simple|advanced|paranoid}, {@code page_owner=on}, {@code kmemleak=on|off},
 * {@code failslab=} and {@code fail_page_alloc=}
 * ({@code <interval>,<probability>,<space>,<times>}, parsed by the capability), {@code mm4j.config.NAME=y|n|value}
 * (overrides
 * one symbol of the build configuration, {@link #config()}; see {@link KernelConfig}). {@code init_on_alloc} and
 * {@code init_on_free} default to {@code CONFIG_INIT_ON_ALLOC_DEFAULT_ON} / {@code CONFIG_INIT_ON_FREE_DEFAULT_ON}.
 */
public final class BootParams {
    public static final long DEFAULT_MEM = 256L << 20;
    public static final long MIN_MEM = 4L << 20;
    /**
     * The largest {@code mem=}: 1 TiB, where the per-CPU {freelist, tid} word of the slab allocator still keeps a
     * 27-bit tid (see {@code KmemCache}). Memory is reserved lazily, so the limit in practice is what the host can
     * reserve; a host that cannot is a boot error naming {@code mem=}.
     */
    public static final long MAX_MEM = 1L << 40;
    public static final int MAX_CPUS = 256;

    private final String cmdline;
    private final long memBytes;
    private final int nrCpus;
    private final int numaNodes;
    private final String slubDebug;
    private final int slubMaxOrder;
    private final int slubMinOrder;
    private final int slubMinObjects;
    private final boolean initOnAlloc;
    private final boolean initOnFree;
    private final boolean slabNomerge;
    private final int sheafCapacity;
    private final KernelConfig config;
    private final Map<String, String> all;
    private final List<String> unknown;

    private BootParams(final String cmdline, final Map<String, String> all, final List<String> unknown,
                       final long memBytes, final int nrCpus, final int numaNodes, final String slubDebug,
                       final int slubMaxOrder, final int slubMinOrder, final int slubMinObjects,
                       final boolean initOnAlloc, final boolean initOnFree, final boolean slabNomerge,
                       final int sheafCapacity, final KernelConfig config) {
        this.cmdline = cmdline;
        this.all = Collections.unmodifiableMap(all);
        this.unknown = List.copyOf(unknown);
        this.memBytes = memBytes;
        this.nrCpus = nrCpus;
        this.numaNodes = numaNodes;
        this.slubDebug = slubDebug;
        this.slubMaxOrder = slubMaxOrder;
        this.slubMinOrder = slubMinOrder;
        this.slubMinObjects = slubMinObjects;
        this.initOnAlloc = initOnAlloc;
        this.initOnFree = initOnFree;
        this.slabNomerge = slabNomerge;
        this.sheafCapacity = sheafCapacity;
        this.config = config;
    }

    /** Parses {@code cmdline} ({@code null} or blank gives the defaults). */
    public static BootParams parse(final String cmdline) {
        final String line = cmdline == null ? "" : cmdline.strip();
        final Map<String, String> all = new LinkedHashMap<>();
        final List<String> unknown = new ArrayList<>();
        long mem = DEFAULT_MEM;
        int cpus = Math.min(MAX_CPUS, Runtime.getRuntime().availableProcessors());
        int nodes = 1;
        String slubDebug = null;
        int maxOrder = -1;
        int minOrder = 0;
        int minObjects = 0;
        Boolean initAlloc = null;
        Boolean initFree = null;
        final Map<String, String> configOverrides = new LinkedHashMap<>();
        boolean nomerge = false;
        int sheaves = 0;
        for (final String word : tokenize(line)) {
            final int eq = word.indexOf('=');
            final String key = eq < 0 ? word : word.substring(0, eq);
            final String value = eq < 0 ? null : word.substring(eq + 1);
            all.put(key, value);
            if (key.startsWith(KernelConfig.PARAM_PREFIX)) {
                configOverrides.put(key.substring(KernelConfig.PARAM_PREFIX.length()), value);
                continue;
            }
            switch (key.replace('-', '_')) {
                case "mem" -> mem = parseMem(key, value);
                case "nr_cpus" -> cpus = parseInt(key, value, 1, MAX_CPUS);
                case "numa" -> nodes = parseNuma(value);
                case "slub_debug", "slab_debug" -> slubDebug = value == null ? "" : value;
                case "slub_max_order", "slab_max_order" -> maxOrder = parseInt(key, value, 0, 10);
                case "slub_min_order", "slab_min_order" -> minOrder = parseInt(key, value, 0, 10);
                case "slub_min_objects", "slab_min_objects" -> minObjects = parseInt(key, value, 0, 32767);
                case "init_on_alloc" -> initAlloc = parseBool(key, value);
                case "init_on_free" -> initFree = parseBool(key, value);
                case "slab_nomerge", "slub_nomerge" -> nomerge = true;
                case "slab_merge", "slub_merge" -> nomerge = false;
                case "mm4j.sheaves" -> sheaves = parseInt(key, value, 0, 4096);
                case "mm4j.double_free" -> parseDoubleFree(key, value);
                case "mm4j.random_seed", "mm4j.aslr_seed" -> parseSeed(key, value);
                case "mm4j.vma_store" -> parseVmaStore(key, value);
                case "mm4j.thp" -> parseThp(key, value);
                case "mm4j.leak_detection" -> parseLeakDetection(key, value);
                case "mm4j.jmx" -> parseBool(key, value);
                case "page_owner" -> parseBool(key, value);  // early_param: kstrtobool
                case "kmemleak" -> parseKmemleak(key, value);
                case "failslab", "fail_page_alloc" -> {
                    // __setup(setup_fault_attr): parsed by the capability, which logs a malformed value
                }
                case "norandmaps" -> {
                    // __setup("norandmaps", ...) in mm/memory.c: known; Processes reads it from all()
                }
                default -> unknown.add(word);
            }
        }
        if (maxOrder >= 0 && minOrder > maxOrder) {
            throw new CmdlineException("slub_min_order=" + minOrder + " is above slub_max_order=" + maxOrder);
        }
        if (mem / nodes < MIN_MEM) {
            throw new CmdlineException("mem=" + all.getOrDefault("mem", "256M") + " gives " + (mem / nodes >> 20)
                + "M per node with numa=fake=" + nodes + " (expected: at least " + (MIN_MEM >> 20) + "M per node)");
        }
        final KernelConfig config = KernelConfig.withOverrides(configOverrides);
        // a parameter whose facility the config leaves out has no handler: unknown, passed to user space
        for (final String[] p : new String[][] {{"page_owner", "PAGE_OWNER"}, {"failslab", "FAILSLAB"},
            {"fail_page_alloc", "FAIL_PAGE_ALLOC"}, {"kmemleak", "DEBUG_KMEMLEAK"}}) {
            if (all.containsKey(p[0]) && !config.isEnabled(p[1])) {
                final String v = all.get(p[0]);
                unknown.add(v == null ? p[0] : p[0] + "=" + v);
            }
        }
        // every fake node gets the same whole number of MAX_PAGE_ORDER blocks, as numa_emulation splits evenly
        mem -= mem % ((long) nodes * MIN_MEM);
        return new BootParams(line, all, unknown, mem, cpus, nodes, slubDebug, maxOrder < 0 ? 3 : maxOrder,
            minOrder, minObjects,
            initAlloc != null ? initAlloc : config.isEnabled("INIT_ON_ALLOC_DEFAULT_ON"),
            initFree != null ? initFree : config.isEnabled("INIT_ON_FREE_DEFAULT_ON"), nomerge, sheaves, config);
    }

    private static List<String> tokenize(final String line) {
        final List<String> words = new ArrayList<>();
        final StringBuilder sb = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            final char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (!sb.isEmpty()) {
                    words.add(sb.toString());
                    sb.setLength(0);
                }
            } else {
                sb.append(c);
            }
        }
        if (quoted) {
            throw new CmdlineException("unterminated quote in kernel command line: " + line);
        }
        if (!sb.isEmpty()) {
            words.add(sb.toString());
        }
        return words;
    }

    /** Parses a size with an optional K/M/G/T suffix, as {@code memparse()}. */
    public static long parseSize(final String key, final String value) {
        if (value == null || value.isEmpty()) {
            throw new CmdlineException(key + "= needs a value (expected: a size such as 256M)");
        }
        final char last = Character.toUpperCase(value.charAt(value.length() - 1));
        int shift = 0;
        String digits = value;
        switch (last) {
            case 'K' -> shift = 10;
            case 'M' -> shift = 20;
            case 'G' -> shift = 30;
            case 'T' -> shift = 40;
            case 'P' -> shift = 50;
            case 'E' -> shift = 60;
            default -> { }
        }
        if (shift != 0) {
            digits = value.substring(0, value.length() - 1);
        }
        try {
            final long n = digits.startsWith("0x") ? Long.parseUnsignedLong(digits.substring(2), 16)
                : Long.parseLong(digits);
            if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >>> shift))) {
                throw new CmdlineException(key + "=" + value + " is out of range");
            }
            return n << shift;
        } catch (final NumberFormatException e) {
            throw new CmdlineException(key + "=" + value + " is not a size (expected: a number with an optional"
                + " K, M or G suffix)");
        }
    }

    private static long parseMem(final String key, final String value) {
        final long n = parseSize(key, value);
        if (n < MIN_MEM || n > MAX_MEM) {
            throw new CmdlineException(key + "=" + value + " is out of range (expected: " + (MIN_MEM >> 20)
                + "M to " + (MAX_MEM >> 40) + "T)");
        }
        return n & ~((1L << 22) - 1);  // whole MAX_PAGE_ORDER blocks, as memblock trims
    }

    private static int parseInt(final String key, final String value, final int min, final int max) {
        if (value == null || value.isEmpty()) {
            throw new CmdlineException(key + "= needs a value (expected: " + min + " to " + max + ")");
        }
        try {
            final int n = Integer.parseInt(value);
            if (n < min || n > max) {
                throw new CmdlineException(key + "=" + value + " is out of range (expected: " + min + " to "
                    + max + ")");
            }
            return n;
        } catch (final NumberFormatException e) {
            throw new CmdlineException(key + "=" + value + " is not a number (expected: " + min + " to " + max
                + ")");
        }
    }

    /** {@code kstrtobool}: y/Y/t/T/1 or "on" is true, n/N/f/F/0 or "off" is false; a bare flag is true. */
    static boolean parseBool(final String key, final String value) {
        if (value == null) {
            return true;
        }
        if (!value.isEmpty()) {
            switch (value.charAt(0)) {
                case 'y', 'Y', 't', 'T', '1' -> {
                    return true;
                }
                case 'n', 'N', 'f', 'F', '0' -> {
                    return false;
                }
                case 'o', 'O' -> {
                    if (value.length() > 1 && (value.charAt(1) == 'n' || value.charAt(1) == 'N')) {
                        return true;
                    }
                    if (value.length() > 1 && (value.charAt(1) == 'f' || value.charAt(1) == 'F')) {
                        return false;
                    }
                }
                default -> {
                }
            }
        }
        throw new CmdlineException(key + "=" + value + " is not a boolean (expected: 0 or 1, y or n, on or off)");
    }

    private static int parseNuma(final String value) {
        if ("off".equals(value)) {
            return 1;
        }
        if (value == null || !value.startsWith("fake=")) {
            throw new CmdlineException("numa=" + value + " is not supported (expected: numa=fake=N or numa=off)");
        }
        return parseInt("numa=fake", value.substring(5), 1, 64);
    }

    public String cmdline() {
        return cmdline;
    }

    public long memBytes() {
        return memBytes;
    }

    public int nrCpus() {
        return nrCpus;
    }

    public int numaNodes() {
        return numaNodes;
    }

    /** The {@code slub_debug=} value, "" when given bare, {@code null} when absent. */
    public String slubDebug() {
        return slubDebug;
    }

    public int slubMaxOrder() {
        return slubMaxOrder;
    }

    public int slubMinOrder() {
        return slubMinOrder;
    }

    /** 0 when not given (the slab layer then derives it from {@link #nrCpus()}). */
    public int slubMinObjects() {
        return slubMinObjects;
    }

    public boolean initOnAlloc() {
        return initOnAlloc;
    }

    public boolean initOnFree() {
        return initOnFree;
    }

    public boolean slabNomerge() {
        return slabNomerge;
    }

    /** mm4j.sheaves=N: sheaf capacity for caches that did not ask for one; 0 = Linux 6.18's default (none). */
    public int sheafCapacity() {
        return sheafCapacity;
    }

    /**
     * {@code mm4j.double_free=}: {@code refuse} (default: every double and invalid free is refused, reported and
     * thrown) or {@code kernel} (what Linux 6.18 with the reference config does: only the naive check of
     * {@code CONFIG_SLAB_FREELIST_HARDENED}, otherwise silent corruption).
     */
    public boolean doubleFreeKernel() {
        return "kernel".equals(all.get("mm4j.double_free"));
    }

    /** {@code mm4j.aslr_seed=N}: the seed of the address-space randomization ({@code norandmaps} turns it off); 1. */
    public long aslrSeed() {
        final String v = all.get("mm4j.aslr_seed");
        return v == null ? 1 : parseSeed("mm4j.aslr_seed", v);
    }

    /**
     * {@code mm4j.random_seed=N}: the seed of the model's {@code get_random_*} (per-cache {@code s->random},
     * {@code random_seq}, shuffle positions, the double-free key), so runs are reproducible; default 0.
     */
    public long randomSeed() {
        final String v = all.get("mm4j.random_seed");
        return v == null ? 0 : parseSeed("mm4j.random_seed", v);
    }

    /**
     * {@code mm4j.vma_store=}: where address spaces keep their VMAs, {@code maple} (Linux 6.1+'s maple tree, the
     * default) or {@code rbtree} (the 5.x augmented rbtree with the per-thread vmacache); null when not given.
     */
    public String vmaStore() {
        return all.get("mm4j.vma_store");
    }

    /**
     * {@code mm4j.leak_detection=}: the JVM users' leak detector's level, {@code disabled} (the default),
     * {@code simple}, {@code advanced} or {@code paranoid} (any case); null when not given.
     */
    public String leakDetection() {
        return all.get("mm4j.leak_detection");
    }

    /**
     * {@code mm4j.thp=}: transparent huge pages for the model's memory, {@code always} (advised
     * {@code MADV_HUGEPAGE}), {@code never} ({@code MADV_NOHUGEPAGE}) or {@code host} (no advice, the default: the
     * host's THP mode decides).
     */
    public String thp() {
        return all.getOrDefault("mm4j.thp", "host");
    }

    private static void parseThp(final String key, final String value) {
        if (!"always".equals(value) && !"never".equals(value) && !"host".equals(value)) {
            throw new CmdlineException(key + "=" + value + " (expected: always, never or host)");
        }
    }

    private static void parseLeakDetection(final String key, final String value) {
        if (value == null || !List.of("disabled", "simple", "advanced", "paranoid")
            .contains(value.toLowerCase(java.util.Locale.ROOT))) {
            throw new CmdlineException(key + "=" + value + " (expected: disabled, simple, advanced or paranoid)");
        }
    }

    private static void parseVmaStore(final String key, final String value) {
        if (!"maple".equals(value) && !"rbtree".equals(value)) {
            throw new CmdlineException(key + "=" + value + " (expected: maple or rbtree)");
        }
    }

    private static void parseDoubleFree(final String key, final String value) {
        if (!"kernel".equals(value) && !"refuse".equals(value)) {
            throw new CmdlineException(key + "=" + value + " (expected: refuse or kernel)");
        }
    }

    private static long parseSeed(final String key, final String value) {
        try {
            return value != null && value.startsWith("0x") ? Long.parseUnsignedLong(value.substring(2), 16)
                : Long.parseLong(value == null ? "" : value);
        } catch (final NumberFormatException ex) {
            throw new CmdlineException(key + "=" + value + " is not a number (expected: a decimal or 0x hex"
                + " integer)");
        }
    }

    /**
     * {@code page_owner=on} (any {@code kstrtobool} true value; mm/page_owner.c's early_param) with
     * {@code CONFIG_PAGE_OWNER}: page_owner records every page allocation.
     */
    public boolean pageOwner() {
        return all.containsKey("page_owner") && config.isEnabled("PAGE_OWNER")
            && parseBool("page_owner", all.get("page_owner"));
    }

    /**
     * Whether kmemleak runs ({@code CONFIG_DEBUG_KMEMLEAK}, mm/kmemleak.c's early_param {@code kmemleak=on|off}):
     * with {@code CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF} (mm4j's default) only when booted with {@code kmemleak=on},
     * without it unless booted with {@code kmemleak=off}.
     */
    public boolean kmemleak() {
        if (!config.isEnabled("DEBUG_KMEMLEAK")) {
            return false;
        }
        final String v = all.get("kmemleak");
        return v == null ? !config.isEnabled("DEBUG_KMEMLEAK_DEFAULT_OFF") : v.equals("on");
    }

    private static void parseKmemleak(final String key, final String value) {
        if (!"on".equals(value) && !"off".equals(value)) {
            throw new CmdlineException(key + "=" + value + " (expected: kmemleak=on or kmemleak=off)");
        }
    }

    /**
     * {@code mm4j.jmx=on} (any {@code kstrtobool} true value): register the kernel's MBeans at boot, as
     * {@code Kernel.registerMBeans()} does; default off.
     */
    public boolean jmx() {
        return all.containsKey("mm4j.jmx") && parseBool("mm4j.jmx", all.get("mm4j.jmx"));
    }

    /** The build configuration: the reference kernel's, with the {@code mm4j.config.NAME=} overrides. */
    public KernelConfig config() {
        return config;
    }

    /** Every parameter given, in order, with its value ({@code null} for a bare word). */
    public Map<String, String> all() {
        return all;
    }

    /** Parameters no handler claimed, as Linux reports them at boot. */
    public List<String> unknown() {
        return unknown;
    }

    @Override
    public String toString() {
        return cmdline;
    }
}
