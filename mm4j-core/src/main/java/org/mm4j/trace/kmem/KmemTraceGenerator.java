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
 * kmalloc call sites such as {@code ext4_find_extent}); each allocation gets a fresh hashed pointer, stays alive for
 * a random number of events and is freed later by the matching free event ({@code kfree} for kmalloc objects,
 * {@code kmem_cache_free} for cache objects, {@code mm_page_free} for pages), on a random CPU. A small share of the
 * frees are of objects allocated "before the capture" (never seen) and of {@code kfree(NULL)}, as in real traces.
 * The live set is bounded (at most {@code maxLive} objects and pages), so replaying any length needs bounded memory.
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
    private static final String[] TASKS = {"cat-6063", "kworker/u8:2-412", "systemd-journal-301", "make-7120",
        "gcc-7311", "<idle>-0", "bash-5590", "jbd2/vda1-8-211"};

    private final SplittableRandom rnd;
    private final int nrCpus;
    private final int maxLive;
    private final byte[] out = new byte[1 << 16];
    private int outPos;
    private final int[] cacheCum;
    private final int[] kmallocCum;
    // the live set: kind (0 kmalloc, 1 cache object, 2 page), template index, pointer or pfn, order
    private final int[] liveKind;
    private final int[] liveTemplate;
    private final long[] liveId;
    private final int[] liveOrder;
    private int live;
    private long nextPtr;
    private long nextPfn = 0x100000;
    private long micros = 3_743_525_636L;

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
        this.liveKind = new int[maxLive];
        this.liveTemplate = new int[maxLive];
        this.liveId = new long[maxLive];
        this.liveOrder = new int[maxLive];
    }

    private static int[] cumulative(final Object[][] table, final int weightColumn) {
        final int[] cum = new int[table.length];
        int s = 0;
        for (int i = 0; i < table.length; i++) {
            s += (Integer) table[i][weightColumn];
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

    private void event() {
        micros += rnd.nextInt(3);
        // roughly as many frees as allocations once the live set has filled; more allocations before
        final boolean free = live > 0 && (live >= maxLive || rnd.nextInt(maxLive) < live + maxLive / 8);
        if (free) {
            freeOne();
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
        } else if (r < 26) {
            final long pfn = nextPfn;
            final int order = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(3) : 0;
            nextPfn += 1L << order;
            if (nextPfn > 0x400000) {
                nextPfn = 0x100000;
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
            add(2, 0, pfn, order);
        } else if (r < 31) {
            final int k = pick(kmallocCum);
            final Object[] t = KMALLOCS[k];
            final long ptr = newPtr();
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
            add(0, k, ptr, 0);
        } else {
            final int c = pick(cacheCum);
            final Object[] t = CACHES[c];
            final long ptr = newPtr();
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
            add(1, c, ptr, 0);
        }
    }

    private long newPtr() {
        return hash(++nextPtr);
    }

    private static long hash(final long x) {
        long z = x * 0x9e3779b97f4a7c15L;
        z = (z ^ z >>> 29) * 0xbf58476d1ce4e5b9L;
        return (z ^ z >>> 32) & 0xffffffffL;
    }

    private void add(final int kind, final int template, final long id, final int order) {
        liveKind[live] = kind;
        liveTemplate[live] = template;
        liveId[live] = id;
        liveOrder[live] = order;
        live++;
    }

    private void freeOne() {
        final int i = rnd.nextInt(live);
        final int kind = liveKind[i];
        final int t = liveTemplate[i];
        final long id = liveId[i];
        final int order = liveOrder[i];
        live--;
        liveKind[i] = liveKind[live];
        liveTemplate[i] = liveTemplate[live];
        liveId[i] = liveId[live];
        liveOrder[i] = liveOrder[live];
        switch (kind) {
            case 0 -> {
                header("kfree");
                ascii("call_site=");
                final String site = (String) KMALLOCS[t][0];
                ascii(site, site.indexOf('+'));
                ascii("+0x1c/0x40 ptr=");
                hex16(id);
                nl();
            }
            case 1 -> {
                header("kmem_cache_free");
                ascii("call_site=");
                final String site = (String) CACHES[t][3];
                ascii(site, site.indexOf('+'));
                ascii("+0x2e/0x60 ptr=");
                hex16(id);
                ascii(" name=");
                ascii((String) CACHES[t][0]);
                nl();
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
            }
        }
    }

    // ---- bytes -------------------------------------------------------------------------------------------------

    private void header(final String event) {
        final String task = TASKS[rnd.nextInt(TASKS.length)];
        for (int i = task.length(); i < 16; i++) {
            out[outPos++] = ' ';
        }
        ascii(task);
        ascii("    [");
        final int cpu = rnd.nextInt(nrCpus);
        if (cpu < 100) {
            out[outPos++] = '0';
        }
        if (cpu < 10) {
            out[outPos++] = '0';
        }
        dec(cpu);
        ascii("] .....  ");
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
