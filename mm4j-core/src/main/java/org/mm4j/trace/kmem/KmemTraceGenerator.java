package org.mm4j.trace.kmem;

import java.io.IOException;
import java.io.OutputStream;
import java.util.SplittableRandom;

/**
 * Writes a synthetic ftrace capture of the six {@code kmem:*} events in the text format of {@code trace_pipe}, for
 * benchmarks and tests that need millions of events without a big file in the repository.
 *
 * <p>Realism: the caches, their object sizes ({@code bytes_req}/{@code bytes_alloc}), call sites, gfp strings and
 * the mix of event types are those of the bundled 6.18 slice (buffer_head, names_cache, vm_area_struct, ... ;
 * kmalloc call sites such as {@code ext4_find_extent}). The shape of the stream follows the real 150,000-event
 * capture in {@code samples/slab} (measured there, carried over as quantile tables): tasks run in bursts of
 * events on their own CPU ({@link #RUNS}; a task rarely migrates), timestamps advance by the deltas seen within a
 * burst and between bursts ({@link #DELTA_IN_RUN}, {@link #DELTA_AT_SWITCH}), the flags column varies as there, and
 * each object lives for a number of events drawn from the capture's lifetimes ({@link #LIFETIMES}; a share lives
 * beyond any window, {@link #LONG_LIVED_PERCENT}), after which the matching free event ({@code kfree} for kmalloc
 * objects, {@code kmem_cache_free} for cache objects, {@code mm_page_free} for pages) is written on the CPU of the
 * task then running. A free object's pointer (or an order-0 page's pfn) goes on a LIFO of its cache and CPU and is
 * handed out again by that cache's next allocation there, as SLUB's freelists and the per-CPU page lists do (about
 * two allocations in three reuse a pointer in the real capture). A small share of the frees are of objects
 * allocated "before the capture" (never seen) and of {@code kfree(NULL)}, as in real traces. The live set is
 * bounded (at most {@code maxLive} objects and pages: at the bound the object due soonest is freed first), so
 * replaying any length needs bounded memory.
 *
 * <p>Deterministic: the same seed, event count and CPU count give the same bytes. Not thread-safe.
 */
public final class KmemTraceGenerator {
    /** kmem_cache_alloc templates: name, bytes_req, bytes_alloc, call_site, gfp, weight (events in the slice). */
    private static final Object[][] CACHES = {
        {"buffer_head", 104, 104, "alloc_buffer_head+0x1d/0x90", "GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT",
            5157},
        {"names_cache", 4096, 4096, "getname_flags.part.0+0x25/0x1c0", "GFP_KERNEL", 5015},
        {"vm_area_struct", 192, 192, "vm_area_alloc+0x1f/0x80", "GFP_KERNEL", 4281},
        {"anon_vma_chain", 64, 64, "__anon_vma_prepare+0x3a/0x180", "GFP_KERNEL", 2940},
        {"maple_node", 256, 256, "mas_alloc_nodes+0x16d/0x290", "GFP_NOWAIT|__GFP_NORETRY|__GFP_NOMEMALLOC", 2633},
        {"anon_vma", 96, 104, "__anon_vma_prepare+0x10b/0x180", "GFP_KERNEL", 1239},
        {"lsm_file_cache", 24, 24, "security_file_alloc+0x2a/0xb0", "GFP_KERNEL|__GFP_ZERO", 1157},
        {"filp", 184, 192, "alloc_empty_file+0x57/0x110", "GFP_KERNEL|__GFP_ZERO", 1157},
        {"bio-184", 184, 192, "bio_alloc_bioset+0x103/0x4c0", "GFP_NOFS", 872},
        {"extent_status", 40, 40, "__es_insert_extent+0x1ad/0x480", "GFP_ATOMIC", 623},
        {"dentry", 192, 192, "__d_alloc+0x2d/0x230", "GFP_KERNEL_ACCOUNT", 338},
        {"lsm_inode_cache", 32, 32, "security_inode_alloc+0x28/0xe0", "GFP_NOFS|__GFP_ZERO", 337},
        {"ext4_inode_cache", 1120, 1128, "ext4_alloc_inode+0x1f/0x170", "GFP_NOFS", 323},
        {"radix_tree_node", 576, 584, "xas_alloc+0x9c/0xc0", "GFP_NOWAIT|__GFP_ACCOUNT", 251},
        {"pid", 184, 192, "alloc_pid+0x5b/0x3f0", "GFP_KERNEL", 169},
        {"key_jar", 256, 256, "kmem_cache_alloc_noprof+0x2c/0x40", "GFP_ATOMIC", 117},
        {"mm_struct", 1568, 1600, "dup_mm.constprop.0+0x2b/0x6a0", "GFP_KERNEL", 109},
        {"sigqueue", 80, 80, "__sigqueue_alloc+0xa3/0x160", "GFP_ATOMIC", 62},
        {"task_struct", 5824, 5824, "copy_process+0x1a5/0x1f70", "GFP_KERNEL", 58},
        {"signal_cache", 1152, 1152, "copy_process+0xd1d/0x1f70", "GFP_KERNEL|__GFP_ZERO", 58},
        {"sighand_cache", 2080, 2112, "copy_process+0xc4b/0x1f70", "GFP_KERNEL", 58},
        {"files_cache", 704, 704, "dup_fd+0x36/0x340", "GFP_KERNEL", 58},
        {"ext4_prealloc_space", 112, 112, "ext4_mb_new_blocks+0x5c5/0xf40", "GFP_NOFS", 36},
        {"ext4_allocation_context", 168, 168, "ext4_mb_new_blocks+0xb3/0xf40", "GFP_NOFS|__GFP_ZERO", 36},
        {"biovec-max", 4096, 4096, "bvec_alloc+0x8e/0xd0", "GFP_NOFS", 14},
    };

    /** kmalloc templates: call_site, bytes_req, bytes_alloc, gfp, weight. */
    private static final Object[][] KMALLOCS = {
        {"ext4_find_extent+0x30c/0x350", 96, 96, "GFP_NOFS", 353},
        {"iter_file_splice_write+0xc9/0x5d0", 256, 256, "GFP_KERNEL", 179},
        {"lsm_blob_alloc+0x3b/0x60", 11, 16, "GFP_KERNEL|__GFP_ZERO", 111},
        {"alloc_fdtable+0xd0/0x140", 72, 96, "GFP_KERNEL_ACCOUNT", 58},
        {"alloc_fdtable+0x84/0x140", 2048, 2048, "GFP_KERNEL_ACCOUNT", 58},
        {"alloc_fdtable+0x55/0x140", 56, 64, "GFP_KERNEL_ACCOUNT", 58},
        {"load_elf_phdrs+0x49/0xc0", 504, 512, "GFP_KERNEL", 53},
        {"load_elf_binary+0xf6/0x1870", 28, 32, "GFP_KERNEL", 53},
        {"ext4_dir_open+0x1f/0x50", 64, 64, "GFP_KERNEL|__GFP_ZERO", 53},
        {"alloc_bprm+0x45/0x220", 408, 512, "GFP_KERNEL|__GFP_ZERO", 52},
        {"alloc_slab_obj_exts+0x58/0x110", 312, 512, "GFP_NOWAIT|__GFP_ZERO", 40},
        {"ext4_htree_store_dirent+0x34/0x120", 58, 64, "GFP_KERNEL", 150},
        {"alloc_pipe_info+0xd7/0x230", 640, 1024, "GFP_KERNEL_ACCOUNT|__GFP_ZERO", 14},
        {"virtblk_prep_rq.isra.0+0x239/0x3e0", 16, 16, "GFP_ATOMIC", 12},
    };

    private static final String[] PAGE_GFPS = {
        "GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP", "GFP_HIGHUSER_MOVABLE|__GFP_COMP",
        "GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP", "GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP"};
    /** Task names (comm-pid) and their weights: the busiest tasks of the real capture. */
    private static final String[] TASKS = {"rm-6075", "cp-6070", "cat-6063", "ksoftirqd/1-22", "bash-6074",
        "tar-6072", "python3-6078", "cat-6231", "cc1-6226", "cat-6140", "bash-6188", "bash-6212", "bash-6172",
        "ld-6239", "ksoftirqd/0-14", "find-6066", "as-6235", "kworker/u8:3-4532", "gcc-6222", "gzip-6085",
        "readlink-6204", "systemd-journal-301", "jbd2/vda1-8-211", "<idle>-0"};
    private static final int[] TASK_WEIGHTS = {23365, 23161, 12309, 11132, 6945, 6686, 5684, 4795, 2855, 2691, 2273,
        1986, 1748, 1583, 1360, 1288, 1106, 939, 879, 802, 761, 700, 600, 500};
    /** The flags column ({@code irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable}). */
    private static final String[] FLAGS = {".....", "..s..", "...1.", ".Ns..", ".N...", "d..1."};
    private static final int[] FLAG_WEIGHTS = {118779, 14536, 10363, 2058, 1402, 941};
    /**
     * Percentiles (0, 1, ..., 99, then 99.9) of the real capture's bursts: events in a row from one task (median 3,
     * mean 15).
     */
    static final int[] RUNS = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 22, 24, 27, 30, 34, 38, 41, 46,
        52, 67, 94, 143, 218, 674};
    /** Percentiles of the events from an allocation to its free, for objects freed inside the real capture. */
    static final int[] LIFETIMES = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
        7, 7, 8, 9, 10, 12, 16, 19, 25, 31, 38, 46, 51, 61, 70, 81, 95, 110, 122, 132, 141, 153, 168, 186, 205, 222,
        237, 254, 275, 297, 330, 358, 407, 444, 464, 487, 528, 567, 612, 645, 697, 740, 816, 904, 972, 1041, 1112,
        1212, 1310, 1429, 1535, 1687, 1850, 2013, 2146, 2299, 2503, 2728, 3000, 3243, 3500, 3748, 4441, 4705, 5362,
        6290, 7186, 8507, 12325, 13691, 16050, 18844, 24467, 34630};
    /** Percentiles of the microseconds between two events of one burst (mean 6.2). */
    static final int[] DELTA_IN_RUN = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 9, 11, 13, 16, 22, 37,
        50, 57, 66, 105, 361};
    /** Percentiles of the microseconds from a burst's last event to the next task's first (mean 29). */
    static final int[] DELTA_AT_SWITCH = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7,
        7, 8, 9, 10, 10, 11, 12, 13, 15, 17, 18, 20, 22, 23, 26, 28, 30, 33, 35, 38, 41, 44, 47, 50, 52, 55, 58, 62,
        67, 71, 76, 83, 92, 104, 117, 132, 150, 209, 332, 1335};
    /**
     * Allocations that outlive the capture window of the real sample (41 % of its allocations were still live at
     * its end; part of those are the short-lived ones allocated near the end): these are freed only when the live
     * set is full.
     */
    static final int LONG_LIVED_PERCENT = 30;
    /** Depth of each (cache, CPU) LIFO of freed pointers. */
    private static final int REUSE_DEPTH = 64;

    private static final int KMALLOC = 0;
    private static final int CACHE = 1;
    private static final int PAGE = 2;

    private final SplittableRandom rnd;
    private final int nrCpus;
    private final int maxLive;
    private final byte[] out = new byte[1 << 16];
    private int outPos;
    private final int[] cacheCum;
    private final int[] kmallocCum;
    private final int[] taskCum;
    private final int[] flagCum;
    /** Each task's CPU (it migrates rarely: {@link #startRun}). */
    private final int[] taskCpu;
    // the live set, by slot: kind (KMALLOC, CACHE, PAGE), template index, pointer or pfn, order; free slots stacked
    private final int[] liveKind;
    private final int[] liveTemplate;
    private final long[] liveId;
    private final int[] liveOrder;
    private final int[] freeSlots;
    private int nrFreeSlots;
    private int live;
    // the frees to come: a binary min-heap of (event number due, slot)
    private final long[] heapDue;
    private final int[] heapSlot;
    private int heapSize;
    /**
     * Freed pointers for reuse, by {@code (kind, template) * nrCpus + cpu}: a LIFO of {@value #REUSE_DEPTH} (the
     * oldest dropped when full), made on first use. Pages: order 0 only, one LIFO per CPU (template 0).
     */
    private final long[][] reuse;
    private final int[] reuseTop;
    private final int[] reuseSize;
    private long nextPtr;
    private long nextPfn = 0x100000;
    private long micros = 3_743_525_636L;
    private long eventNo;
    private int task;
    private int cpu;
    private int runLeft;
    private String flags = FLAGS[0];
    /** The template of the burst's last allocation by kind: a task tends to repeat what it does. */
    private final int[] lastTemplate = {-1, -1, -1};

    /**
     * A generator for {@code nrCpus} CPUs whose live set holds at most {@code maxLive} objects and pages.
     */
    public KmemTraceGenerator(final long seed, final int nrCpus, final int maxLive) {
        if (nrCpus < 1 || nrCpus > 8192) {
            throw new IllegalArgumentException("nrCpus=" + nrCpus + " (expected: 1 to 8192)");
        }
        if (maxLive < 16) {
            throw new IllegalArgumentException("maxLive=" + maxLive + " (expected: >= 16)");
        }
        this.rnd = new SplittableRandom(seed);
        this.nrCpus = nrCpus;
        this.maxLive = maxLive;
        this.nextPtr = rnd.nextLong() >>> 4;
        this.cacheCum = cumulative(CACHES, 5);
        this.kmallocCum = cumulative(KMALLOCS, 4);
        this.taskCum = cumulative(TASK_WEIGHTS);
        this.flagCum = cumulative(FLAG_WEIGHTS);
        this.taskCpu = new int[TASKS.length];
        for (int t = 0; t < TASKS.length; t++) {
            taskCpu[t] = rnd.nextInt(nrCpus);
        }
        this.liveKind = new int[maxLive];
        this.liveTemplate = new int[maxLive];
        this.liveId = new long[maxLive];
        this.liveOrder = new int[maxLive];
        this.freeSlots = new int[maxLive];
        for (int i = 0; i < maxLive; i++) {
            freeSlots[i] = maxLive - 1 - i;
        }
        this.nrFreeSlots = maxLive;
        this.heapDue = new long[maxLive];
        this.heapSlot = new int[maxLive];
        final int lifos = (KMALLOCS.length + CACHES.length + 1) * nrCpus;
        this.reuse = new long[lifos][];
        this.reuseTop = new int[lifos];
        this.reuseSize = new int[lifos];
    }

    private static int[] cumulative(final Object[][] table, final int weightColumn) {
        final int[] w = new int[table.length];
        for (int i = 0; i < table.length; i++) {
            w[i] = (Integer) table[i][weightColumn];
        }
        return cumulative(w);
    }

    private static int[] cumulative(final int[] weights) {
        final int[] cum = new int[weights.length];
        int s = 0;
        for (int i = 0; i < weights.length; i++) {
            s += weights[i];
            cum[i] = s;
        }
        return cum;
    }

    private int pick(final int[] cum) {
        final int r = rnd.nextInt(cum[cum.length - 1]);
        int i = 0;
        while (cum[i] <= r) {
            i++;
        }
        return i;
    }

    /**
     * A value drawn from a percentile table (0 to 99 %, then 99.9 %): linear between neighbouring percentiles,
     * geometric in the top one (so the tail's mean stays that of the capture).
     */
    private long quantile(final int[] q) {
        final double u = rnd.nextDouble() * (q.length - 1);
        final int i = Math.min((int) u, q.length - 2);
        final double f = u - i;
        final int a = q[i];
        final int b = q[i + 1];
        if (i == q.length - 2 && a > 0) {
            return Math.round(a * Math.pow((double) b / a, f));
        }
        return Math.round(a + f * (b - a));
    }

    /** Writes {@code events} event lines to {@code os} (which it does not close). */
    public void write(final OutputStream os, final long events) throws IOException {
        for (long n = 0; n < events; n++) {
            event();
            if (outPos > out.length - 1024) {
                os.write(out, 0, outPos);
                outPos = 0;
            }
        }
        os.write(out, 0, outPos);
        outPos = 0;
    }

    /** The next task's burst: who runs, on which CPU, for how many events, and the time since the last burst. */
    private void startRun() {
        task = pick(taskCum);
        if (rnd.nextInt(1000) < 3) {
            taskCpu[task] = rnd.nextInt(nrCpus);  // a migration (about 3 bursts in 1,000 in the real capture)
        }
        cpu = taskCpu[task];
        runLeft = (int) Math.max(1, quantile(RUNS));
        micros += quantile(DELTA_AT_SWITCH);
        lastTemplate[KMALLOC] = lastTemplate[CACHE] = lastTemplate[PAGE] = -1;
    }

    private void event() {
        if (runLeft == 0) {
            startRun();
        } else {
            micros += quantile(DELTA_IN_RUN);
        }
        runLeft--;
        flags = FLAGS[pick(flagCum)];
        eventNo++;
        if (heapSize > 0 && (heapDue[0] <= eventNo || live >= maxLive)) {
            freeOne(popDue());
            return;
        }
        final int r = rnd.nextInt(100);
        if (r < 2) {
            // the odd free of an object allocated before the capture, and kfree(NULL)
            final boolean isNull = rnd.nextBoolean();
            header("kfree");
            ascii("call_site=kvfree+0x31/0x40 ptr=");
            hex16(isNull ? 0 : hash(++nextPtr) | 1L << 40);
            nl();
        } else if (r < 31) {
            final int order = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(3) : 0;
            long pfn = order == 0 ? reused(PAGE, 0) : -1;
            if (pfn < 0) {
                pfn = nextPfn;
                nextPfn += 1L << order;
                if (nextPfn > 0x400000) {
                    nextPfn = 0x100000;
                }
            }
            header("mm_page_alloc");
            ascii("page=");
            hex16(hash(pfn));
            ascii(" pfn=0x");
            hex(pfn);
            ascii(" order=");
            dec(order);
            ascii(" migratetype=1 gfp_flags=");
            ascii(PAGE_GFPS[rnd.nextInt(PAGE_GFPS.length)]);
            nl();
            add(PAGE, 0, pfn, order);
        } else if (r < 38) {
            final int k = template(KMALLOC, kmallocCum);
            final Object[] t = KMALLOCS[k];
            final long ptr = newPtr(KMALLOC, k);
            header("kmalloc");
            ascii("call_site=");
            ascii((String) t[0]);
            ascii(" ptr=");
            hex16(ptr);
            ascii(" bytes_req=");
            dec((Integer) t[1]);
            ascii(" bytes_alloc=");
            dec((Integer) t[2]);
            ascii(" gfp_flags=");
            ascii((String) t[3]);
            ascii(" node=-1 accounted=false");
            nl();
            add(KMALLOC, k, ptr, 0);
        } else {
            final int c = template(CACHE, cacheCum);
            final Object[] t = CACHES[c];
            final long ptr = newPtr(CACHE, c);
            header("kmem_cache_alloc");
            ascii("call_site=");
            ascii((String) t[3]);
            ascii(" ptr=");
            hex16(ptr);
            ascii(" name=");
            ascii((String) t[0]);
            ascii(" bytes_req=");
            dec((Integer) t[1]);
            ascii(" bytes_alloc=");
            dec((Integer) t[2]);
            ascii(" gfp_flags=");
            ascii((String) t[4]);
            ascii(" node=-1 accounted=");
            ascii(((String) t[4]).contains("ACCOUNT") ? "true" : "false");
            nl();
            add(CACHE, c, ptr, 0);
        }
    }

    /** The template of an allocation of {@code kind}: half the time the burst's last one again. */
    private int template(final int kind, final int[] cum) {
        final int last = lastTemplate[kind];
        final int t = last >= 0 && rnd.nextBoolean() ? last : pick(cum);
        lastTemplate[kind] = t;
        return t;
    }

    /** A pointer for an object of {@code (kind, template)} on this CPU: a freed one of its cache, else a new one. */
    private long newPtr(final int kind, final int template) {
        final long p = reused(kind, template);
        return p >= 0 ? p : mix32(++nextPtr);
    }

    private int lifo(final int kind, final int template) {
        final int base = kind == KMALLOC ? 0 : kind == CACHE ? KMALLOCS.length : KMALLOCS.length + CACHES.length;
        return (base + template) * nrCpus + cpu;
    }

    /** The last pointer (or pfn) freed on this CPU for {@code (kind, template)}, taken; -1 if none. */
    private long reused(final int kind, final int template) {
        final int l = lifo(kind, template);
        if (reuseSize[l] == 0) {
            return -1;
        }
        reuseSize[l]--;
        reuseTop[l] = (reuseTop[l] + REUSE_DEPTH - 1) % REUSE_DEPTH;
        return reuse[l][reuseTop[l]];
    }

    private void recycle(final int kind, final int template, final long id) {
        final int l = lifo(kind, template);
        if (reuse[l] == null) {
            reuse[l] = new long[REUSE_DEPTH];
        }
        reuse[l][reuseTop[l]] = id;
        reuseTop[l] = (reuseTop[l] + 1) % REUSE_DEPTH;
        reuseSize[l] = Math.min(REUSE_DEPTH, reuseSize[l] + 1);
    }

    /** A bijection of the low 32 bits (distinct counters give distinct pointers until 2^32 of them). */
    private static long mix32(final long x) {
        int h = (int) x;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h & 0xffffffffL;
    }

    private static long hash(final long x) {
        long z = x * 0x9e3779b97f4a7c15L;
        z = (z ^ z >>> 29) * 0xbf58476d1ce4e5b9L;
        return (z ^ z >>> 32) & 0xffffffffL;
    }

    private void add(final int kind, final int template, final long id, final int order) {
        final int slot = freeSlots[--nrFreeSlots];
        liveKind[slot] = kind;
        liveTemplate[slot] = template;
        liveId[slot] = id;
        liveOrder[slot] = order;
        live++;
        final long due = rnd.nextInt(100) < LONG_LIVED_PERCENT ? (1L << 62) + eventNo
            : eventNo + Math.max(1, quantile(LIFETIMES));
        // sift up
        int i = heapSize++;
        while (i > 0) {
            final int parent = (i - 1) >>> 1;
            if (heapDue[parent] <= due) {
                break;
            }
            heapPut(i, heapDue[parent], heapSlot[parent]);
            i = parent;
        }
        heapPut(i, due, slot);
    }

    private void heapPut(final int i, final long due, final int slot) {
        heapDue[i] = due;
        heapSlot[i] = slot;
    }

    /** Removes the free due soonest from the heap; returns its slot. */
    private int popDue() {
        final int top = heapSlot[0];
        final long due = heapDue[--heapSize];
        final int slot = heapSlot[heapSize];
        int i = 0;
        for (;;) {
            int c = 2 * i + 1;
            if (c >= heapSize) {
                break;
            }
            if (c + 1 < heapSize && heapDue[c + 1] < heapDue[c]) {
                c++;
            }
            if (heapDue[c] >= due) {
                break;
            }
            heapPut(i, heapDue[c], heapSlot[c]);
            i = c;
        }
        heapPut(i, due, slot);
        return top;
    }

    private void freeOne(final int slot) {
        final int kind = liveKind[slot];
        final int t = liveTemplate[slot];
        final long id = liveId[slot];
        final int order = liveOrder[slot];
        live--;
        freeSlots[nrFreeSlots++] = slot;
        switch (kind) {
            case KMALLOC -> {
                header("kfree");
                ascii("call_site=");
                final String site = (String) KMALLOCS[t][0];
                ascii(site, site.indexOf('+'));
                ascii("+0x1c/0x40 ptr=");
                hex16(id);
                nl();
                recycle(KMALLOC, t, id);
            }
            case CACHE -> {
                header("kmem_cache_free");
                ascii("call_site=");
                final String site = (String) CACHES[t][3];
                ascii(site, site.indexOf('+'));
                ascii("+0x2e/0x60 ptr=");
                hex16(id);
                ascii(" name=");
                ascii((String) CACHES[t][0]);
                nl();
                recycle(CACHE, t, id);
            }
            default -> {
                header("mm_page_free");
                ascii("page=");
                hex16(hash(id));
                ascii(" pfn=0x");
                hex(id);
                ascii(" order=");
                dec(order);
                nl();
                if (order == 0) {
                    recycle(PAGE, 0, id);
                }
            }
        }
    }

    // ---- bytes -------------------------------------------------------------------------------------------------

    private void header(final String event) {
        final String name = TASKS[task];
        for (int i = name.length(); i < 16; i++) {
            out[outPos++] = ' ';
        }
        ascii(name);
        ascii("    [");
        if (cpu < 100) {
            out[outPos++] = '0';
        }
        if (cpu < 10) {
            out[outPos++] = '0';
        }
        dec(cpu);
        ascii("] ");
        ascii(flags);
        ascii("  ");
        dec(micros / 1_000_000);
        out[outPos++] = '.';
        final long frac = micros % 1_000_000;
        for (long d = 100_000; d > 0; d /= 10) {
            out[outPos++] = (byte) ('0' + frac / d % 10);
        }
        ascii(": ");
        ascii(event);
        ascii(": ");
    }

    private void nl() {
        out[outPos++] = '\n';
    }

    private void ascii(final String s) {
        ascii(s, s.length());
    }

    private void ascii(final String s, final int len) {
        for (int i = 0; i < len; i++) {
            out[outPos++] = (byte) s.charAt(i);
        }
    }

    private void dec(final long v) {
        if (v >= 10) {
            dec(v / 10);
        }
        out[outPos++] = (byte) ('0' + v % 10);
    }

    private void hex(final long v) {
        if ((v >>> 4) != 0) {
            hex(v >>> 4);
        }
        out[outPos++] = (byte) Character.forDigit((int) (v & 0xf), 16);
    }

    private void hex16(final long v) {
        for (int s = 60; s >= 0; s -= 4) {
            out[outPos++] = (byte) Character.forDigit((int) (v >>> s & 0xf), 16);
        }
    }

    /** The bytes of {@code events} events from a fresh generator (small traces for tests). */
    public static byte[] generate(final long seed, final int nrCpus, final int maxLive, final long events) {
        final java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try {
            new KmemTraceGenerator(seed, nrCpus, maxLive).write(bos, events);
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bos.toByteArray();
    }
}
