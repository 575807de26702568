package org.mm4j.page;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.DumpStack;
import org.mm4j.base.KernelLog;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The buddy page allocator of Linux 6.18's {@code mm/page_alloc.c} over {@link PhysicalMemory} and {@link MemMap}:
 * zones per node, per-migratetype free areas with pageblock fallback and claiming, watermarks, per-CPU page lists.
 *
 * <p>Allocation ({@code alloc_pages} / {@link #allocPagesNode}): the zonelist of the preferred node (the caller's
 * CPU slot's node unless given) is walked from the highest zone the gfp allows down to DMA32, then the other nodes
 * (never with {@link Gfp#THISNODE}). The fast pass checks the low watermark ({@code get_page_from_freelist} with
 * ALLOC_WMARK_LOW); the slow pass checks min, where {@link Gfp#HIGH} may dip to half of it and non-blocking
 * requests (no {@link Gfp#DIRECT_RECLAIM}, i.e. GFP_ATOMIC) further (ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, the
 * {@code __zone_watermark_ok} rules), and {@link Gfp#MEMALLOC} ignores watermarks. The model's only "reclaim" is
 * what direct reclaim does last in Linux: unreserve high-atomic pageblocks and drain every CPU's lists, then retry
 * once. Orders 0..3 go through the CPU slot's {@link Pcp} lists (refilled by {@code rmqueue_bulk}, drained by
 * {@code free_pcppages_bulk} when {@code count >= high}); larger orders and a busy pcp lock go to the zone lists
 * ({@code __rmqueue}: preferred migratetype, then claim whole pageblocks of a fallback type, then steal).
 *
 * <p>Free ({@code __free_pages} / {@link #freePages}): the refcount of the head page is dropped (put_page
 * semantics); at zero the block goes to the pcp list (orders 0..3) or merges with its buddy
 * ({@code pfn ^ (1 << order)}) up to MAX_PAGE_ORDER ({@code __free_one_page}).
 *
 * <p>Invariants: see {@link #validate()}. Concurrency: lock order is pcp lock, then zone lock; never two zone
 * locks or two pcp locks at once (drains take one pcp at a time). The hot path (pcp hit) takes one pcp CAS and no
 * zone lock, and allocates nothing on the Java heap. Misuse is reported as "BUG: Bad page state" in the kernel log
 * and refused before any state changes, so the free lists stay intact. Failure returns -1, never throws.
 */
public final class BuddyAllocator {
    // ALLOC_* of mm/internal.h
    static final int ALLOC_WMARK_MIN = Zone.WMARK_MIN;
    static final int ALLOC_WMARK_LOW = Zone.WMARK_LOW;
    static final int ALLOC_WMARK_HIGH = Zone.WMARK_HIGH;
    static final int ALLOC_NO_WATERMARKS = 0x04;
    static final int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
    static final int ALLOC_OOM = 0x08;
    static final int ALLOC_NON_BLOCK = 0x10;
    static final int ALLOC_MIN_RESERVE = 0x20;
    static final int ALLOC_CPUSET = 0x40;
    static final int ALLOC_CMA = 0x80;
    static final int ALLOC_NOFRAGMENT = 0x100;
    static final int ALLOC_HIGHATOMIC = 0x200;
    static final int ALLOC_KSWAPD = 0x800;
    static final int ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

    private static final int RMQUEUE_NORMAL = 0;
    private static final int RMQUEUE_CLAIM = 2;
    private static final int RMQUEUE_STEAL = 3;
    private static final int WATERMARK_SCALE_FACTOR_DEFAULT = 10;
    private static final int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

    /** Boot-time options of the allocator. {@code dma32LimitPfn}: memory below it is ZONE_DMA32 when more exists. */
    public record Options(boolean initOnAlloc, boolean initOnFree, long dma32LimitPfn) {
        public static final Options DEFAULT = new Options(false, false, (4L << 30) >>> PhysicalMemory.PAGE_SHIFT);

        public Options {
            if (dma32LimitPfn <= 0 || (dma32LimitPfn & (Zone.PAGEBLOCK_NR_PAGES - 1)) != 0) {
                throw new IllegalArgumentException("dma32LimitPfn=" + dma32LimitPfn
                    + " (expected: a positive multiple of " + Zone.PAGEBLOCK_NR_PAGES + ")");
            }
        }
    }

    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final KernelLog log;
    private final CpuSlots cpus;
    private final VmStat vmstat;
    private final Options opts;
    private final Zone[] zones;
    private final Zone[][] zonelist;
    /** Zones by node and zone type (null where a node has no such zone). */
    private final Zone[][] byNodeType;
    /** Index into {@code zones} of every pageblock's zone ({@code page_zone} without the flags bits). */
    private final short[] zoneOfBlock;
    /** One bit per pageblock: some page of it was handed out since boot ({@link #markHandedOut}). */
    private final long[] handedOut;
    private static final VarHandle HANDED_OUT = MethodHandles.arrayElementVarHandle(long[].class);
    private final int nrNodes;
    private final int nrCpus;
    private final AtomicLong badPages = new AtomicLong();
    /**
     * pcp try-locks that found the lock held (another thread of the slot, or a drain) and fell back to the zone
     * lists: a model event with no vmstat item, counted only on that fallback path (stress tests read it).
     */
    private final AtomicLong pcpTrylockFailures = new AtomicLong();
    private volatile String lastBadPageReason;
    private final long reservedPages;
    private volatile boolean mobilityDisabled;
    private int minFreeKbytes;
    private int userMinFreeKbytes = -1;
    private int watermarkScaleFactor = WATERMARK_SCALE_FACTOR_DEFAULT;
    private int percpuPagelistHighFraction;
    private static final long WARN_INTERVAL_NANOS = 10_000_000_000L;
    private static final long VMSTAT_INTERVAL_NANOS = 1_000_000_000L;
    private long warnBegin;
    private volatile OomHandler oomHandler;
    /** Debugging hooks (issue 16), set at boot: null = compiled out or off, and then one null test per call. */
    private FailPageAlloc failPageAlloc;
    private PageOwner pageOwner;
    private int warnMissed;
    private long totalreservePages;

    /** An allocator on one CPU slot with default options and its own counters (tests and tools). */
    public BuddyAllocator(final PhysicalMemory mem, final MemMap memMap, final KernelLog log) {
        this(mem, memMap, log, new CpuSlots(1), null, Options.DEFAULT);
    }

    public BuddyAllocator(final PhysicalMemory mem, final MemMap memMap, final KernelLog log, final CpuSlots cpus,
                          final VmStat vmstat, final Options opts) {
        this.mem = mem;
        this.memMap = memMap;
        this.log = log;
        this.cpus = cpus;
        this.vmstat = vmstat != null ? vmstat : new VmStat(cpus);
        this.opts = opts;
        this.nrNodes = mem.nrNodes();
        this.nrCpus = cpus.nrCpus();
        final List<Zone> zs = new ArrayList<>();
        final boolean split = mem.totalPages() > opts.dma32LimitPfn();
        for (int nid = 0; nid < nrNodes; nid++) {
            final long start = mem.nodeStartPfn(nid);
            final long end = start + mem.nodePages();
            if (split) {
                final long dmaEnd = Math.min(end, opts.dma32LimitPfn());
                if (start < dmaEnd) {
                    zs.add(new Zone(nid, Zone.ZONE_DMA32, start, dmaEnd));
                }
                final long normalStart = Math.max(start, opts.dma32LimitPfn());
                if (normalStart < end) {
                    zs.add(new Zone(nid, Zone.ZONE_NORMAL, normalStart, end));
                }
            } else {
                zs.add(new Zone(nid, Zone.ZONE_NORMAL, start, end));
            }
        }
        this.zones = zs.toArray(new Zone[0]);
        this.byNodeType = new Zone[nrNodes][Zone.MAX_NR_ZONES];
        this.zoneOfBlock = new short[(int) (mem.totalPages() >>> Zone.PAGEBLOCK_ORDER)];
        this.handedOut = new long[(zoneOfBlock.length + 63) >>> 6];
        for (short i = 0; i < zones.length; i++) {
            final Zone z = zones[i];
            byNodeType[z.nid][z.type] = z;
            Arrays.fill(zoneOfBlock, (int) (z.startPfn >>> Zone.PAGEBLOCK_ORDER),
                (int) (z.endPfn >>> Zone.PAGEBLOCK_ORDER), i);
        }
        this.zonelist = buildZonelists();
        // pfn 0 stays reserved (as low memory is on x86): a physical address of 0 then never names an object
        memMap.setFlag(0, MemMap.PG_RESERVED);
        memMap.setRefcount(0, 1);
        this.reservedPages = 1;
        for (final Zone z : zones) {
            z.presentPages = z.spannedPages();
            z.managedPages = z.presentPages - (z.contains(0) ? 1 : 0);
            z.pcp = new Pcp[nrCpus];
            for (int c = 0; c < nrCpus; c++) {
                z.pcp[c] = new Pcp();
            }
        }
        calculateMinFreeKbytes();
        setupPerZoneWmarks();
        long vmTotal = 0;
        for (final Zone z : zones) {
            vmTotal += Math.max(0, z.managedPages - z.watermark[Zone.WMARK_HIGH]);
        }
        mobilityDisabled = vmTotal < (long) Zone.PAGEBLOCK_NR_PAGES * MigrateType.TYPES;
        final int initialMt = mobilityDisabled ? MigrateType.UNMOVABLE : MigrateType.MOVABLE;
        for (final Zone z : zones) {
            Arrays.fill(z.pageblockMt, (byte) initialMt);
            z.lock.lock();
            try {
                // deferred struct page init: write the first section's struct pages now, the rest when used
                final long maxBlock = 1L << Zone.MAX_PAGE_ORDER;
                final long eagerEnd = Math.min(z.endPfn, (z.startPfn + DEFERRED_EAGER_PAGES + maxBlock - 1)
                    & -maxBlock);
                final long deferredEnd = z.endPfn & -maxBlock;
                long pfn = Math.max(z.startPfn, 1);
                while (pfn < z.endPfn) {
                    if (pfn == eagerEnd && eagerEnd < deferredEnd) {
                        deferBlocks(z, eagerEnd, deferredEnd, initialMt);
                        pfn = deferredEnd;
                        continue;
                    }
                    int order = Math.min(Long.numberOfTrailingZeros(pfn), Zone.MAX_PAGE_ORDER);
                    while (pfn + (1L << order) > z.endPfn) {
                        order--;
                    }
                    splitLargeBuddy(z, pfn, order, true);
                    pfn += 1L << order;
                }
                if (z.deferredPfn < z.deferredEnd && z.freeHead[Zone.MAX_PAGE_ORDER][initialMt] < 0) {
                    initDeferredBlock(z);
                }
                // memblock_free_all frees through __free_pages_ok, which counts pgfree
                z.events[Zone.EV_PGFREE] += z.managedPages;
            } finally {
                z.lock.unlock();
            }
        }
        this.vmstat.addFolder(this::foldVmstat);
        log.printk("Built %d zonelists, mobility grouping %s.  Total pages: %d", nrNodes,
            mobilityDisabled ? "off" : "on", vmTotal);
        for (final Zone z : zones) {
            log.printk("  node %d zone %s: %d pages, LIFO batch:%d", z.nid, z.name, z.presentPages, z.pcpBatch);
        }
    }

    private Zone[][] buildZonelists() {
        final Zone[][] lists = new Zone[nrNodes][];
        for (int nid = 0; nid < nrNodes; nid++) {
            final List<Zone> l = new ArrayList<>();
            for (int i = 0; i < nrNodes; i++) {
                final int n = (nid + i) % nrNodes;
                for (int t = Zone.MAX_NR_ZONES - 1; t >= 0; t--) {
                    final Zone z = zoneAt(n, t);
                    if (z != null) {
                        l.add(z);
                    }
                }
            }
            lists[nid] = l.toArray(new Zone[0]);
        }
        return lists;
    }

    private Zone zoneAt(final int nid, final int type) {
        return byNodeType[nid][type];
    }

    // ------------------------------------------------------------------ setup: watermarks and pcp sizes

    /** {@code calculate_min_free_kbytes}: {@code int_sqrt(lowmem_kbytes * 16)} clamped to [128, 262144]. */
    private void calculateMinFreeKbytes() {
        long lowmemKbytes = 0;
        for (final Zone z : zones) {
            if (z.type <= Zone.ZONE_NORMAL) {
                lowmemKbytes += Math.max(0, z.managedPages - z.watermark[Zone.WMARK_HIGH])
                    * (PhysicalMemory.PAGE_SIZE >> 10);
            }
        }
        final int v = (int) intSqrt(lowmemKbytes * 16);
        if (v > userMinFreeKbytes) {
            minFreeKbytes = clamp(v, 128, 262144);
        }
    }

    /** The kernel's {@code clamp()}: {@code min(max(v, lo), hi)} (hi wins when lo > hi). */
    static int clamp(final long v, final int lo, final int hi) {
        return (int) Math.min(Math.max(v, lo), hi);
    }

    static long intSqrt(final long x) {
        long r = (long) Math.sqrt((double) x);
        while (r * r > x) {
            r--;
        }
        while ((r + 1) * (r + 1) <= x) {
            r++;
        }
        return r;
    }

    /** {@code __setup_per_zone_wmarks}, then lowmem reserves, totalreserve and pcp batch/high. */
    private synchronized void setupPerZoneWmarks() {
        final long pagesMin = minFreeKbytes >> (PhysicalMemory.PAGE_SHIFT - 10);
        long lowmemPages = 0;
        for (final Zone z : zones) {
            if (z.type != Zone.ZONE_MOVABLE) {
                lowmemPages += z.managedPages;
            }
        }
        for (final Zone z : zones) {
            z.lock.lock();
            try {
                long tmp = lowmemPages == 0 ? 0 : pagesMin * z.managedPages / lowmemPages;
                z.watermark[Zone.WMARK_MIN] = tmp;
                tmp = Math.max(tmp >> 2, z.managedPages * watermarkScaleFactor / 10000);
                z.watermark[Zone.WMARK_LOW] = z.watermark[Zone.WMARK_MIN] + tmp;
                z.watermark[Zone.WMARK_HIGH] = z.watermark[Zone.WMARK_LOW] + tmp;
                z.watermark[Zone.WMARK_PROMO] = z.watermark[Zone.WMARK_HIGH] + tmp;
            } finally {
                z.lock.unlock();
            }
        }
        setupPerZoneLowmemReserve();
        for (final Zone z : zones) {
            zoneSetPagesetHighAndBatch(z);
        }
    }

    /** {@code setup_per_zone_lowmem_reserve} and {@code calculate_totalreserve_pages}. */
    private void setupPerZoneLowmemReserve() {
        for (int nid = 0; nid < nrNodes; nid++) {
            for (int i = 0; i < Zone.MAX_NR_ZONES - 1; i++) {
                final Zone z = zoneAt(nid, i);
                if (z == null) {
                    continue;
                }
                final int ratio = Zone.LOWMEM_RESERVE_RATIO[i];
                final boolean clear = ratio == 0 || z.managedPages == 0;
                long managed = 0;
                for (int j = i + 1; j < Zone.MAX_NR_ZONES; j++) {
                    final Zone upper = zoneAt(nid, j);
                    managed += upper == null ? 0 : upper.managedPages;
                    z.lowmemReserve[j] = clear ? 0 : managed / ratio;
                }
            }
        }
        long reserve = 0;
        for (final Zone z : zones) {
            long max = 0;
            for (int j = Zone.MAX_NR_ZONES - 1; j > z.type; j--) {
                if (z.lowmemReserve[j] != 0) {
                    max = z.lowmemReserve[j];
                    break;
                }
            }
            max += z.watermark[Zone.WMARK_HIGH];
            reserve += Math.min(max, z.managedPages);
        }
        totalreservePages = reserve;
    }

    /** {@code zone_batchsize}: ~0.025 % of the zone or 256 KiB, then {@code 2^n - 1}. */
    static int zoneBatchsize(final long managedPages) {
        final int batch = (int) Math.min(managedPages >> 12, (256 << 10) / PhysicalMemory.PAGE_SIZE);
        if (batch <= 1) {
            return 1;
        }
        return Integer.highestOneBit(batch + batch / 2) - 1;
    }

    /** {@code zone_highsize}: the low watermark (or managed / fraction) split over the node's CPUs. */
    private int zoneHighsize(final Zone z, final int batch, final int highFraction) {
        final long total = highFraction == 0 ? z.watermark[Zone.WMARK_LOW] : z.managedPages / highFraction;
        int nrSplitCpus = 0;
        for (int c = 0; c < nrCpus; c++) {
            if (cpuToNode(c) == z.nid) {
                nrSplitCpus++;
            }
        }
        if (nrSplitCpus == 0) {
            nrSplitCpus = nrCpus;
        }
        return (int) Math.max(total / nrSplitCpus, (long) batch << 2);
    }

    private void zoneSetPagesetHighAndBatch(final Zone z) {
        final int batch = zoneBatchsize(z.managedPages);
        final int highMin;
        final int highMax;
        if (percpuPagelistHighFraction != 0) {
            // tuned by hand: no auto-tuning, high_min = high_max
            highMin = zoneHighsize(z, batch, percpuPagelistHighFraction);
            highMax = highMin;
        } else {
            highMin = zoneHighsize(z, batch, 0);
            highMax = zoneHighsize(z, batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
        }
        z.pcpBatch = batch;
        z.pcpHighMin = highMin;
        z.pcpHighMax = highMax;
        for (final Pcp p : z.pcp) {
            p.lock();
            try {
                p.batch = batch;
                p.highMin = highMin;
                p.highMax = highMax;
                p.high = clamp(p.high, highMin, highMax);
                // PCPF_FREE_HIGH_BATCH: a CPU's share of the last-level cache holds more than 3 batches (typical x86)
                p.flags |= Pcp.PCPF_FREE_HIGH_BATCH;
            } finally {
                p.unlock();
            }
        }
    }

    /** The node a CPU slot belongs to (CPUs are spread round-robin over the nodes, as numa=fake does). */
    public int cpuToNode(final int cpu) {
        return cpu % nrNodes;
    }

    // ------------------------------------------------------------------ accessors

    public PhysicalMemory memory() {
        return mem;
    }

    public MemMap memMap() {
        return memMap;
    }

    public VmStat vmstat() {
        return vmstat;
    }

    public CpuSlots cpus() {
        return cpus;
    }

    public KernelLog log() {
        return log;
    }

    /** The populated zones, by node then zone type (the order /proc/buddyinfo prints them). */
    public List<Zone> zones() {
        return Collections.unmodifiableList(Arrays.asList(zones));
    }

    /** The zone holding {@code pfn}, or null. */
    public Zone zoneOf(final long pfn) {
        return mem.validPfn(pfn) ? zones[zoneOfBlock[(int) (pfn >>> Zone.PAGEBLOCK_ORDER)]] : null;
    }

    /** NR_FREE_PAGES: pages in the buddy free lists of every zone (per-CPU list pages excluded, as in Linux). */
    public long freePages() {
        long n = 0;
        for (final Zone z : zones) {
            n += z.freePages;
        }
        return n;
    }

    /** Pages on every per-CPU list (racy sum). */
    public long pcpPages() {
        long n = 0;
        for (final Zone z : zones) {
            for (final Pcp p : z.pcp) {
                n += p.count;
            }
        }
        return n;
    }

    public long totalPages() {
        return mem.totalPages();
    }

    /** totalram_pages: the sum of managed pages. */
    public long totalramPages() {
        long n = 0;
        for (final Zone z : zones) {
            n += z.managedPages;
        }
        return n;
    }

    public long reservedPages() {
        return reservedPages;
    }

    public long totalreservePages() {
        return totalreservePages;
    }

    public int minFreeKbytes() {
        return minFreeKbytes;
    }

    public int watermarkScaleFactor() {
        return watermarkScaleFactor;
    }

    /** Whether grouping by mobility is off ({@code page_group_by_mobility_disabled}, tiny memory). */
    public boolean mobilityDisabled() {
        return mobilityDisabled;
    }

    /** The "page dumped because" text of the latest "Bad page state" report (null before the first). */
    public String lastBadPageReason() {
        return lastBadPageReason;
    }

    /** Number of "Bad page state" reports so far (TAINT_BAD_PAGE count). */
    public long badPageReports() {
        return badPages.get();
    }

    /** {@code vm.min_free_kbytes} written by the user: recomputes every watermark and pcp size. */
    public void setMinFreeKbytes(final int kbytes) {
        if (kbytes < 0) {
            throw new IllegalArgumentException("min_free_kbytes=" + kbytes + " (expected: >= 0)");
        }
        synchronized (this) {
            minFreeKbytes = kbytes;
            userMinFreeKbytes = kbytes;
            setupPerZoneWmarks();
        }
    }

    /** {@code vm.watermark_scale_factor} (1 to 3000, in 1/10000 of managed pages). */
    public void setWatermarkScaleFactor(final int factor) {
        if (factor < 1 || factor > 3000) {
            throw new IllegalArgumentException("watermark_scale_factor=" + factor + " (expected: 1 to 3000)");
        }
        synchronized (this) {
            watermarkScaleFactor = factor;
            setupPerZoneWmarks();
        }
    }

    public int percpuPagelistHighFraction() {
        return percpuPagelistHighFraction;
    }

    /**
     * {@code vm.percpu_pagelist_high_fraction}: 0 (auto-tuned pcp high between high_min and high_max) or at least
     * 8, the fraction of a zone's managed pages each node's CPUs may keep on their lists together.
     */
    public void setPercpuPagelistHighFraction(final int fraction) {
        if (fraction != 0 && fraction < MIN_PERCPU_PAGELIST_HIGH_FRACTION) {
            throw new IllegalArgumentException("percpu_pagelist_high_fraction=" + fraction + " (expected: 0 or >= "
                + MIN_PERCPU_PAGELIST_HIGH_FRACTION + ")");
        }
        synchronized (this) {
            percpuPagelistHighFraction = fraction;
            for (final Zone z : zones) {
                zoneSetPagesetHighAndBatch(z);
            }
        }
    }

    // ------------------------------------------------------------------ allocation

    /**
     * {@code alloc_pages(gfp, order)}: a block of {@code 1 << order} pages on the caller's node, as its first pfn,
     * or -1. With {@link Gfp#COMP} and {@code order > 0} the block is a compound page; with {@link Gfp#ZERO} it is
     * zeroed. The head page's refcount is 1.
     */
    public long allocPages(final int gfp, final int order) {
        return allocPagesNode(gfp, order, -1);
    }

    /** {@code alloc_page(gfp)}. */
    public long allocPage(final int gfp) {
        return allocPagesNode(gfp, 0, -1);
    }

    /** {@code __get_free_pages}: like {@link #allocPages} but returns the kernel virtual address, or 0. */
    public long getFreePages(final int gfp, final int order) {
        final long pfn = allocPagesNode(gfp, order, -1);
        return pfn < 0 ? 0 : PhysicalMemory.pageAddress(pfn);
    }

    /**
     * {@code alloc_pages_node}: {@code nid < 0} means the node of the caller's CPU slot ({@code numa_node_id()}).
     * Other nodes are fallbacks unless {@link Gfp#THISNODE}. Returns the first pfn or -1.
     */
    public long allocPagesNode(final int gfp, final int order, final int nid) {
        if (order < 0 || order > Zone.MAX_PAGE_ORDER || nid >= nrNodes) {
            if ((gfp & Gfp.NOWARN) == 0) {
                log.printk("WARNING: %s: alloc_pages_node with order:%d nid:%d (expected: order 0 to %d, nid < %d)",
                    comm(), order, nid, Zone.MAX_PAGE_ORDER, nrNodes);
            }
            return -1;
        }
        final FailPageAlloc fail = failPageAlloc;
        if (fail != null && fail.shouldFailAllocPage(gfp, order)) {  // prepare_alloc_pages: should_fail_alloc_page
            return -1;
        }
        final int cpu = cpus.current();
        final int prefNid = nid >= 0 ? nid : cpuToNode(cpu);
        final int highest = gfpZone(gfp);
        final int mt = mobilityDisabled ? MigrateType.UNMOVABLE : Gfp.migratetype(gfp);
        int allocFlags = ALLOC_WMARK_LOW | (gfp & Gfp.KSWAPD_RECLAIM);
        allocFlags |= allocFlagsNofragment(prefNid, highest);
        long pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
        if (pfn < 0) {
            pfn = allocPagesSlowpath(gfp, order, prefNid, highest, mt, cpu);
        }
        return pfn;
    }

    /** {@code gfp_zone}: the highest zone type a request may use. */
    private static int gfpZone(final int gfp) {
        if ((gfp & Gfp.DMA) != 0) {
            return Zone.ZONE_DMA;
        }
        return (gfp & Gfp.DMA32) != 0 ? Zone.ZONE_DMA32 : Zone.ZONE_NORMAL;
    }

    /**
     * Whether zone {@code z} may serve a request limited to zone type {@code highest}. Without a DMA32 zone (all
     * memory below 4 GiB is one Normal zone in the model) a DMA32 request may use it as long as it lies below the
     * limit, which it then always does.
     */
    private boolean zoneAllowed(final Zone z, final int highest) {
        if (z.type <= highest) {
            return true;
        }
        return highest == Zone.ZONE_DMA32 && z.endPfn <= opts.dma32LimitPfn();
    }

    /** {@code alloc_flags_nofragment}: avoid fragmenting Normal while DMA32 of the same node has memory. */
    private int allocFlagsNofragment(final int prefNid, final int highest) {
        if (highest != Zone.ZONE_NORMAL || zoneAt(prefNid, Zone.ZONE_NORMAL) == null) {
            return 0;
        }
        final Zone dma32 = zoneAt(prefNid, Zone.ZONE_DMA32);
        if (dma32 == null || (nrNodes > 1 && dma32.managedPages == 0)) {
            return 0;
        }
        return ALLOC_NOFRAGMENT;
    }

    /** {@code gfp_to_alloc_flags}: the slow path's watermark and reserve rights. */
    static int gfpToAllocFlags(final int gfp, final int order) {
        int allocFlags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
        allocFlags |= gfp & (Gfp.HIGH | Gfp.KSWAPD_RECLAIM);
        if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
            if ((gfp & Gfp.NOMEMALLOC) == 0) {
                allocFlags |= ALLOC_NON_BLOCK;
                if (order > 0 && (allocFlags & ALLOC_MIN_RESERVE) != 0) {
                    allocFlags |= ALLOC_HIGHATOMIC;
                }
            }
            if ((allocFlags & ALLOC_MIN_RESERVE) != 0) {
                allocFlags &= ~ALLOC_CPUSET;
            }
        }
        return allocFlags;
    }

    private long allocPagesSlowpath(final int gfp, final int order, final int prefNid, final int highest,
                                    final int mt, final int cpu) {
        int allocFlags = gfpToAllocFlags(gfp, order);
        long pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
        if (pfn >= 0) {
            return pfn;
        }
        if ((gfp & Gfp.MEMALLOC) != 0 && (gfp & Gfp.NOMEMALLOC) == 0) {
            allocFlags = ALLOC_NO_WATERMARKS | (allocFlags & ALLOC_KSWAPD);
            pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
            if (pfn >= 0) {
                return pfn;
            }
        }
        if ((gfp & Gfp.DIRECT_RECLAIM) != 0) {
            // the model has no LRU to reclaim: what is left of direct reclaim is its retry after draining
            for (final Zone z : zonelist[prefNid]) {
                if (zoneAllowed(z, highest)) {
                    vmstat.inc(VmStat.ALLOCSTALL + z.type);
                    break;
                }
            }
            unreserveHighatomicPageblock(prefNid, highest, mt, false);
            drainAllPages();
            pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
            if (pfn >= 0) {
                return pfn;
            }
            // __alloc_pages_may_oom: the OOM killer frees a process's memory, then the allocation is retried
            final OomHandler oom = oomHandler;
            while (oom != null && mayOom(gfp, order, highest) && oom.outOfMemory(gfp, order)) {
                pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
                if (pfn >= 0) {
                    return pfn;
                }
            }
        }
        if ((gfp & Gfp.NOFAIL) != 0) {
            // __alloc_pages_may_oom: a non-failing request gets the reserves (the model cannot loop until an OOM
            // kill frees memory, so it fails after that, with the report)
            pfn = getPageFromFreelist(gfp, order, ALLOC_NO_WATERMARKS | (allocFlags & ALLOC_KSWAPD), prefNid,
                highest, mt, cpu);
            if (pfn >= 0) {
                return pfn;
            }
        }
        if ((gfp & Gfp.NOWARN) == 0) {
            warnAlloc(gfp, order, highest);
        }
        return -1;
    }

    /**
     * What the page allocator calls when an allocation that may invoke the OOM killer found no page after
     * reclaim ({@code out_of_memory}); the vma package's OOM killer implements it.
     */
    public interface OomHandler {
        /** Kills a process to free memory; true when the allocation should be retried. */
        boolean outOfMemory(int gfp, int order);
    }

    /** {@code CONFIG_FAIL_PAGE_ALLOC}: installs fail_page_alloc (at boot, before any allocation). */
    public void failPageAlloc(final FailPageAlloc f) {
        this.failPageAlloc = f;
    }

    /** fail_page_alloc's knobs, or null when {@code CONFIG_FAIL_PAGE_ALLOC} is not set. */
    public FailPageAlloc failPageAlloc() {
        return failPageAlloc;
    }

    /** {@code page_owner=on}: installs page_owner (at boot, before any allocation). */
    public void pageOwner(final PageOwner p) {
        this.pageOwner = p;
    }

    /** The page_owner records, or null without {@code page_owner=on}. */
    public PageOwner pageOwner() {
        return pageOwner;
    }

    /** Makes allocations that may invoke the OOM killer call {@code handler} (null: they fail). */
    public void setOomHandler(final OomHandler handler) {
        this.oomHandler = handler;
    }

    /**
     * {@code __alloc_pages_may_oom}'s conditions: the caller may reclaim and retry (no __GFP_NORETRY), and unless
     * __GFP_NOFAIL, the order is not costly (> 3), neither __GFP_RETRY_MAYFAIL nor __GFP_THISNODE is set, and
     * the request may use ZONE_NORMAL.
     */
    static boolean mayOom(final int gfp, final int order, final int highest) {
        if ((gfp & Gfp.NORETRY) != 0) {
            return false;
        }
        if ((gfp & Gfp.NOFAIL) != 0) {
            return true;
        }
        return order <= 3 && (gfp & (Gfp.RETRY_MAYFAIL | Gfp.THISNODE)) == 0 && highest >= Zone.ZONE_NORMAL;
    }

    /**
     * {@code warn_alloc}: "page allocation failure" and {@code show_mem}, rate-limited as the kernel's
     * {@code nopage_rs} (one report per 10 s; the suppressed ones are counted in the next).
     */
    /** The path of a failing allocation, innermost first, for warn_alloc's {@code dump_stack} stand-in. */
    private static final List<String> WARN_ALLOC_TRACE = List.of("dump_stack_lvl", "warn_alloc",
        "__alloc_pages_slowpath", "__alloc_frozen_pages_noprof", "alloc_pages_mpol", "alloc_pages_noprof");

    private void warnAlloc(final int gfp, final int order, final int highest) {
        final long now = System.nanoTime();
        final int missed;
        synchronized (this) {
            if (warnBegin != 0 && now - warnBegin < WARN_INTERVAL_NANOS) {
                warnMissed++;
                return;
            }
            missed = warnMissed;
            warnMissed = 0;
            warnBegin = now;
        }
        if (missed > 0) {
            log.printk("warn_alloc: %d callbacks suppressed", missed);
        }
        final String mems = nrNodes == 1 ? "0" : "0-" + (nrNodes - 1);
        log.printk("%s: page allocation failure: order:%d, mode:%#x(%s), nodemask=(null),cpuset=/,mems_allowed=%s",
            comm(), order, gfp, Gfp.toString(gfp), mems);
        // warn_alloc: dump_stack() before warn_alloc_show_mem(), as mm/page_alloc.c prints them
        final StringBuilder stack = DumpStack.append(new StringBuilder(256), cpus.current(), 0, comm(),
            WARN_ALLOC_TRACE);
        stack.setLength(stack.length() - 1);
        log.printk(stack.toString());
        log.printk(PageProc.showMem(this, highest));
    }

    /** {@code get_page_from_freelist}: the first zone of the zonelist that passes its watermark and has a page. */
    private long getPageFromFreelist(final int gfp, final int order, final int startFlags, final int prefNid,
                                     final int highest, final int mt, final int cpu) {
        int allocFlags = startFlags;
        retry:
        while (true) {
            final boolean noFallback = (allocFlags & ALLOC_NOFRAGMENT) != 0;
            final Zone[] list = zonelist[prefNid];
            Zone preferred = null;
            for (final Zone z : list) {
                if (!zoneAllowed(z, highest) || ((gfp & Gfp.THISNODE) != 0 && z.nid != prefNid)) {
                    continue;
                }
                if (preferred == null) {
                    preferred = z;
                }
                if (noFallback && nrNodes > 1 && z.nid != prefNid) {
                    allocFlags &= ~ALLOC_NOFRAGMENT;
                    continue retry;
                }
                boolean ok = false;
                if (!z.belowHigh) {
                    if (zoneWatermarkFast(z, order, z.watermark[Zone.WMARK_HIGH], highest, allocFlags)) {
                        ok = true;
                    } else {
                        z.belowHigh = true;
                    }
                }
                if (!ok) {
                    final long mark = z.watermark[allocFlags & ALLOC_WMARK_MASK];
                    if (!zoneWatermarkFast(z, order, mark, highest, allocFlags)
                        && (allocFlags & ALLOC_NO_WATERMARKS) == 0) {
                        continue;
                    }
                }
                final long pfn = rmqueue(preferred, z, order, allocFlags, mt, cpu);
                if (pfn >= 0) {
                    prepNewPage(pfn, order, gfp);
                    if ((allocFlags & ALLOC_HIGHATOMIC) != 0) {
                        reserveHighatomicPageblock(pfn, order, z);
                    }
                    return pfn;
                }
            }
            if (noFallback) {
                allocFlags &= ~ALLOC_NOFRAGMENT;
                continue;
            }
            return -1;
        }
    }

    /** {@code __zone_watermark_unusable_free}. */
    private static long unusableFree(final Zone z, final int order, final int allocFlags) {
        long unusable = (1L << order) - 1;
        if ((allocFlags & ALLOC_RESERVES) == 0) {
            unusable += z.nrFreeHighatomic;
        }
        return unusable;
    }

    /** {@code __zone_watermark_ok}: order-0 free pages above the (reserve-adjusted) mark, and a block of the order. */
    static boolean zoneWatermarkOk(final Zone z, final int order, final long mark, final int highest,
                                   final int allocFlags, final long freePagesArg) {
        long min = mark;
        final long freePages = freePagesArg - unusableFree(z, order, allocFlags);
        if ((allocFlags & ALLOC_RESERVES) != 0) {
            if ((allocFlags & ALLOC_MIN_RESERVE) != 0) {
                min -= min / 2;
                if ((allocFlags & ALLOC_NON_BLOCK) != 0) {
                    min -= min / 4;
                }
            }
            if ((allocFlags & ALLOC_OOM) != 0) {
                min -= min / 2;
            }
        }
        if (freePages <= min + z.lowmemReserve[highest]) {
            return false;
        }
        if (order == 0) {
            return true;
        }
        for (int o = order; o < Zone.NR_PAGE_ORDERS; o++) {
            if (z.nrFree[o] == 0) {
                continue;
            }
            for (int t = 0; t < MigrateType.PCPTYPES; t++) {
                if (z.freeHead[o][t] >= 0) {
                    return true;
                }
            }
            if ((allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) != 0 && z.freeHead[o][MigrateType.HIGHATOMIC] >= 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code zone_watermark_fast}. */
    private static boolean zoneWatermarkFast(final Zone z, final int order, final long mark, final int highest,
                                             final int allocFlags) {
        final long free = z.freePages;
        if (order == 0) {
            final long reserved = unusableFree(z, 0, allocFlags);
            final long usable = free - Math.min(free, reserved);
            if (usable > mark + z.lowmemReserve[highest]) {
                return true;
            }
        }
        return zoneWatermarkOk(z, order, mark, highest, allocFlags, free);
    }

    /** {@code rmqueue}: pcp lists for orders up to PAGE_ALLOC_COSTLY_ORDER, else (or if busy) the buddy lists. */
    private long rmqueue(final Zone preferred, final Zone z, final int order, final int allocFlags, final int mt,
                         final int cpu) {
        if (order <= Zone.PAGE_ALLOC_COSTLY_ORDER) {
            final long pfn = rmqueuePcplist(preferred, z, order, mt, allocFlags, cpu);
            if (pfn >= 0) {
                return pfn;
            }
        }
        return rmqueueBuddy(preferred, z, order, allocFlags, mt, cpu);
    }

    private long rmqueuePcplist(final Zone preferred, final Zone z, final int order, final int mt,
                                final int allocFlags, final int cpu) {
        final Pcp pcp = z.pcp[cpu];
        if (!pcp.tryLock()) {
            pcpTrylockFailures.incrementAndGet();
            return -1;
        }
        try {
            pcp.freeCount >>= 1;
            final int pindex = Pcp.pindex(mt, order);
            if (pcp.head(pindex) < 0) {
                final long now = System.nanoTime();
                if (now - pcp.lastDecay >= VMSTAT_INTERVAL_NANOS) {
                    // the once-a-second vmstat_update of this CPU, run where the CPU next needs its list
                    pcp.lastDecay = now;
                    decayPcpHigh(z, pcp);
                }
                final int batch = nrPcpAlloc(pcp, z, order);
                final int alloced = rmqueueBulk(z, order, batch, pcp, pindex, mt, allocFlags);
                pcp.count += alloced << order;
                if (pcp.head(pindex) < 0) {
                    return -1;
                }
            }
            final long pfn = pcp.removeHead(memMap, pindex);
            pcp.count -= 1 << order;
            pcp.pgalloc += 1L << order;
            if (z.nid == preferred.nid) {
                pcp.numaHit++;
            } else {
                pcp.numaMiss++;
                pcp.numaForeign++;
            }
            if (z.nid == cpuToNode(cpu)) {
                pcp.numaLocal++;
            } else {
                pcp.numaOther++;
            }
            return pfn;
        } finally {
            pcp.unlock();
        }
    }

    /**
     * {@code decay_pcp_high} (pcp lock held): lowers an auto-tuned {@code pcp->high} by an eighth towards
     * high_min and frees what lies above it, batch by batch. Returns whether more decay remains.
     */
    private boolean decayPcpHigh(final Zone z, final Pcp pcp) {
        boolean todo = false;
        final int batch = pcp.batch;
        if (pcp.high > pcp.highMin) {
            pcp.high = Math.max(Math.max(pcp.count - (batch << Pcp.PCP_BATCH_SCALE_MAX), pcp.high - (pcp.high >> 3)),
                pcp.highMin);
            todo = pcp.high > pcp.highMin;
        }
        int toDrain = pcp.count - pcp.high;
        while (toDrain > 0) {
            final int n = Math.min(toDrain, batch);
            freePcppagesBulk(z, n, pcp, 0);
            todo = true;
            toDrain -= n;
        }
        return todo;
    }

    /**
     * {@code vm.stat_refresh}: runs every CPU's vmstat tick now ({@code refresh_cpu_vm_stats}), which decays
     * each per-CPU list's auto-tuned high and frees the pages above it.
     */
    public void statRefresh() {
        for (final Zone z : zones) {
            for (final Pcp p : z.pcp) {
                p.lock();
                try {
                    p.lastDecay = System.nanoTime();
                    decayPcpHigh(z, p);
                } finally {
                    p.unlock();
                }
            }
        }
    }

    /** {@code nr_pcp_alloc}: how many blocks to take from the buddy lists for an empty pcp list. */
    private static int nrPcpAlloc(final Pcp pcp, final Zone z, final int order) {
        final int baseBatch = pcp.batch;
        int high = pcp.high = clamp(pcp.high, pcp.highMin, pcp.highMax);
        if (high < baseBatch) {
            return 1;
        }
        int batch = order != 0 ? baseBatch : baseBatch << pcp.allocFactor;
        if (pcp.highMin != pcp.highMax && !z.belowHigh) {
            high = pcp.high = Math.min(high + batch, pcp.highMax);
        }
        if (order == 0) {
            final int maxNrAlloc = Math.max(high - pcp.count - baseBatch, baseBatch);
            if (batch <= maxNrAlloc && pcp.allocFactor < Pcp.PCP_BATCH_SCALE_MAX) {
                pcp.allocFactor++;
            }
            batch = Math.min(batch, maxNrAlloc);
        }
        if (batch > 1) {
            batch = Math.max(batch >> order, 2);
        }
        return batch;
    }

    /** {@code rmqueue_bulk}: {@code count} blocks under one hold of the zone lock, appended in pfn order. */
    private int rmqueueBulk(final Zone z, final int order, final int count, final Pcp pcp, final int pindex,
                            final int mt, final int allocFlags) {
        z.lock.lock();
        try {
            z.rmqueueMode = RMQUEUE_NORMAL;
            int i = 0;
            for (; i < count; i++) {
                final long pfn = rmqueueLocked(z, order, mt, allocFlags);
                if (pfn < 0) {
                    break;
                }
                pcp.addTail(memMap, pindex, pfn);
            }
            return i;
        } finally {
            z.lock.unlock();
        }
    }

    private long rmqueueBuddy(final Zone preferred, final Zone z, final int order, final int allocFlags,
                              final int mt, final int cpu) {
        long pfn = -1;
        z.lock.lock();
        try {
            if ((allocFlags & ALLOC_HIGHATOMIC) != 0) {
                pfn = rmqueueSmallest(z, order, MigrateType.HIGHATOMIC);
            }
            if (pfn < 0) {
                z.rmqueueMode = RMQUEUE_NORMAL;
                pfn = rmqueueLocked(z, order, mt, allocFlags);
                if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK)) != 0) {
                    pfn = rmqueueSmallest(z, order, MigrateType.HIGHATOMIC);
                }
                if (pfn < 0) {
                    return -1;
                }
            }
            // vm events of this path are kept in the zone, under its lock (the pcp path keeps them in the pcp)
            z.events[Zone.EV_PGALLOC] += 1L << order;
            z.events[z.nid == preferred.nid ? Zone.EV_NUMA_HIT : Zone.EV_NUMA_MISS]++;
            if (z.nid != preferred.nid) {
                z.events[Zone.EV_NUMA_FOREIGN]++;
            }
            z.events[z.nid == cpuToNode(cpu) ? Zone.EV_NUMA_LOCAL : Zone.EV_NUMA_OTHER]++;
            return pfn;
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code __rmqueue} (zone lock held): preferred list, then claim a fallback block, then steal. */
    private long rmqueueLocked(final Zone z, final int order, final int mt, final int allocFlags) {
        long pfn;
        switch (z.rmqueueMode) {
            case RMQUEUE_NORMAL:
                pfn = rmqueueSmallest(z, order, mt);
                if (pfn >= 0) {
                    return pfn;
                }
                // fall through
            case RMQUEUE_CLAIM:
                pfn = rmqueueClaim(z, order, mt, allocFlags);
                if (pfn >= 0) {
                    z.rmqueueMode = RMQUEUE_NORMAL;
                    return pfn;
                }
                // fall through
            default:
                if ((allocFlags & ALLOC_NOFRAGMENT) == 0) {
                    pfn = rmqueueSteal(z, order, mt);
                    if (pfn >= 0) {
                        z.rmqueueMode = RMQUEUE_STEAL;
                        return pfn;
                    }
                }
                return -1;
        }
    }

    /** {@code __rmqueue_smallest}. */
    private long rmqueueSmallest(final Zone z, final int order, final int mt) {
        for (int o = order; o < Zone.NR_PAGE_ORDERS; o++) {
            final long pfn = z.freeHead[o][mt];
            if (pfn < 0) {
                continue;
            }
            pageDelAndExpand(z, pfn, order, o, mt);
            return pfn;
        }
        return -1;
    }

    /** {@code should_try_claim_block}. */
    private boolean shouldTryClaimBlock(final int order, final int startMt) {
        if (order >= Zone.PAGEBLOCK_ORDER || order >= Zone.PAGEBLOCK_ORDER / 2) {
            return true;
        }
        if (startMt == MigrateType.RECLAIMABLE || startMt == MigrateType.UNMOVABLE) {
            return true;
        }
        return mobilityDisabled;
    }

    /** {@code find_suitable_fallback}: -1 none at this order, -2 too small to claim. */
    private int findSuitableFallback(final Zone z, final int order, final int mt, final boolean claimable) {
        if (claimable && !shouldTryClaimBlock(order, mt)) {
            return -2;
        }
        if (z.nrFree[order] == 0) {
            return -1;
        }
        for (final int f : MigrateType.FALLBACKS[mt]) {
            if (z.freeHead[order][f] >= 0) {
                return f;
            }
        }
        return -1;
    }

    /** {@code __rmqueue_claim}: the largest fallback block, claimed for {@code startMt} when enough of it is free. */
    private long rmqueueClaim(final Zone z, final int order, final int startMt, final int allocFlags) {
        int minOrder = order;
        if (order < Zone.PAGEBLOCK_ORDER && (allocFlags & ALLOC_NOFRAGMENT) != 0) {
            minOrder = Zone.PAGEBLOCK_ORDER;
        }
        for (int co = Zone.MAX_PAGE_ORDER; co >= minOrder; co--) {
            final int fmt = findSuitableFallback(z, co, startMt, true);
            if (fmt == -1) {
                continue;
            }
            if (fmt == -2) {
                break;
            }
            final long pfn = tryToClaimBlock(z, z.freeHead[co][fmt], co, order, startMt, fmt);
            if (pfn >= 0) {
                return pfn;
            }
        }
        return -1;
    }

    /** {@code try_to_claim_block}. */
    private long tryToClaimBlock(final Zone z, final long pfn, final int currentOrder, final int order,
                                 final int startType, final int blockType) {
        if (currentOrder >= Zone.PAGEBLOCK_ORDER) {
            delFromFreeList(z, pfn, currentOrder, blockType);
            changePageblockRange(z, pfn, currentOrder, startType);
            final long added = expand(z, pfn, order, currentOrder, startType);
            accountFreepages(z, added, startType);
            return pfn;
        }
        final long start = pfn & ~(Zone.PAGEBLOCK_NR_PAGES - 1L);
        final long end = start + Zone.PAGEBLOCK_NR_PAGES;
        if (!z.contains(start) || !z.contains(end - 1)) {
            return -1;
        }
        int freePages = 0;
        int movablePages = 0;
        for (long p = start; p < end;) {
            final long flags = memMap.flags(p);
            if ((flags & MemMap.PG_BUDDY) != 0) {
                final int nr = 1 << memMap.privateWord(p);
                freePages += nr;
                p += nr;
                continue;
            }
            if ((flags & (MemMap.PG_LRU | MemMap.PG_ANON)) != 0) {
                movablePages++;
            }
            p++;
        }
        final int alikePages;
        if (startType == MigrateType.MOVABLE) {
            alikePages = movablePages;
        } else {
            alikePages = blockType == MigrateType.MOVABLE ? Zone.PAGEBLOCK_NR_PAGES - (freePages + movablePages) : 0;
        }
        if (freePages + alikePages >= (1 << (Zone.PAGEBLOCK_ORDER - 1)) || mobilityDisabled) {
            moveFreepagesBlock(z, start, startType);
            setPageblockMigratetype(z, start, startType);
            return rmqueueSmallest(z, order, startType);
        }
        return -1;
    }

    /** {@code __rmqueue_steal}: one block of a fallback type, leaving its pageblock's type alone. */
    private long rmqueueSteal(final Zone z, final int order, final int startMt) {
        for (int co = order; co < Zone.NR_PAGE_ORDERS; co++) {
            final int fmt = findSuitableFallback(z, co, startMt, false);
            if (fmt == -1) {
                continue;
            }
            final long pfn = z.freeHead[co][fmt];
            pageDelAndExpand(z, pfn, order, co, fmt);
            return pfn;
        }
        return -1;
    }

    /** {@code reserve_highatomic_pageblock}: keep the block of a high-order atomic allocation for such requests. */
    private void reserveHighatomicPageblock(final long pfn, final int order, final Zone z) {
        if (z.managedPages / 100 < Zone.PAGEBLOCK_NR_PAGES) {
            return;
        }
        final long maxManaged = (z.managedPages / 100 + Zone.PAGEBLOCK_NR_PAGES - 1)
            & ~(Zone.PAGEBLOCK_NR_PAGES - 1L);
        if (z.nrReservedHighatomic >= maxManaged) {
            return;
        }
        z.lock.lock();
        try {
            if (z.nrReservedHighatomic >= maxManaged) {
                return;
            }
            final int mt = z.pageblockMigratetype(pfn);
            if (!MigrateType.isMergeable(mt)) {
                return;
            }
            if (order < Zone.PAGEBLOCK_ORDER) {
                final long start = pfn & ~(Zone.PAGEBLOCK_NR_PAGES - 1L);
                if (!z.contains(start) || !z.contains(start + Zone.PAGEBLOCK_NR_PAGES - 1)) {
                    return;
                }
                moveFreepagesBlock(z, start, MigrateType.HIGHATOMIC);
                setPageblockMigratetype(z, start, MigrateType.HIGHATOMIC);
                z.nrReservedHighatomic += Zone.PAGEBLOCK_NR_PAGES;
            } else {
                changePageblockRange(z, pfn, order, MigrateType.HIGHATOMIC);
                z.nrReservedHighatomic += 1L << order;
            }
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code unreserve_highatomic_pageblock}: give reserved high-atomic blocks back to {@code mt}. */
    private boolean unreserveHighatomicPageblock(final int prefNid, final int highest, final int mt,
                                                 final boolean force) {
        for (final Zone z : zonelist[prefNid]) {
            if (!zoneAllowed(z, highest) || (!force && z.nrReservedHighatomic <= Zone.PAGEBLOCK_NR_PAGES)) {
                continue;
            }
            z.lock.lock();
            try {
                for (int order = 0; order < Zone.NR_PAGE_ORDERS; order++) {
                    final long pfn = z.freeHead[order][MigrateType.HIGHATOMIC];
                    if (pfn < 0) {
                        continue;
                    }
                    final long size = Math.min(Math.max(Zone.PAGEBLOCK_NR_PAGES, 1L << order),
                        z.nrReservedHighatomic);
                    z.nrReservedHighatomic -= size;
                    if (order < Zone.PAGEBLOCK_ORDER) {
                        final long start = pfn & ~(Zone.PAGEBLOCK_NR_PAGES - 1L);
                        moveFreepagesBlock(z, start, mt);
                        setPageblockMigratetype(z, start, mt);
                    } else {
                        moveToFreeList(z, pfn, order, MigrateType.HIGHATOMIC, mt);
                        changePageblockRange(z, pfn, order, mt);
                    }
                    return true;
                }
            } finally {
                z.lock.unlock();
            }
        }
        return false;
    }

    /** {@code prep_new_page}: refcount, compound metadata, zeroing. */
    private void prepNewPage(final long pfn, final int order, final int gfp) {
        memMap.spInt(pfn, MemMap.COMPOUND_ORDER, order);
        memMap.soRefcount(pfn, 1);
        if (order > 0 && (gfp & Gfp.COMP) != 0) {
            memMap.soFlags(pfn, MemMap.PG_HEAD);
            final long n = 1L << order;
            for (long i = 1; i < n; i++) {
                memMap.privateWord(pfn + i, pfn);
                memMap.soFlags(pfn + i, MemMap.PG_TAIL);
            }
        } else {
            memMap.soFlags(pfn, 0);
        }
        final PageOwner owner = pageOwner;
        if (owner != null) {
            owner.setPageOwner(pfn, order, gfp);  // post_alloc_hook: set_page_owner
        }
        final boolean fresh = markHandedOut(pfn, order);
        if (((gfp & Gfp.ZERO) != 0 || opts.initOnAlloc()) && !opts.initOnFree() && !fresh) {
            mem.fill(PhysicalMemory.pfnToPhys(pfn), (long) PhysicalMemory.PAGE_SIZE << order, (byte) 0);
        }
    }

    /**
     * Records that {@code [pfn, pfn + 2^order)} is handed out; returns whether no page of its pageblocks ever was
     * before. Such pages still hold the zeros of the fresh reservation (nothing writes a page the allocator has
     * not handed out), so {@code __GFP_ZERO} and {@code init_on_alloc} need not write them, and a zeroed
     * allocation that is never used costs no resident memory. The price is that of the kernel's {@code init_on_free}
     * (which also skips zeroing at allocation): a stray write into memory nobody owns is not wiped.
     * (The Arena fallback zeroes everything at boot, so the rule holds there too.) Lock-free: one bit per pageblock, set with an atomic OR; a page reaches a new owner only through the free lists'
     * locks, so a set bit is seen by every later allocation of that pageblock.
     */
    private boolean markHandedOut(final long pfn, final int order) {
        final long first = pfn >>> Zone.PAGEBLOCK_ORDER;
        final long last = (pfn + (1L << order) - 1) >>> Zone.PAGEBLOCK_ORDER;
        boolean fresh = true;
        for (long b = first; b <= last; b++) {
            final int word = (int) (b >>> 6);
            final long bit = 1L << (b & 63);
            if ((handedOut[word] & bit) != 0) {  // plain read first: the bit is set once, then stays
                fresh = false;
            } else if (((long) HANDED_OUT.getAndBitwiseOr(handedOut, word, bit) & bit) != 0) {
                fresh = false;
            }
        }
        return fresh;
    }

    // ------------------------------------------------------------------ free

    /**
     * {@code __free_pages(page, order)}: drops the head page's reference; at zero the block is freed. Returns false
     * (after a "BUG: Bad page state" report) when the free is refused: a pfn outside memory, a tail page, an order
     * other than the allocation's, a page already free, a reserved or slab page.
     */
    public boolean freePages(final long pfn, final int order) {
        if (!mem.validPfn(pfn)) {
            badPageOutside(pfn, "pfn outside memory");
            return false;
        }
        if (order < 0 || order > Zone.MAX_PAGE_ORDER) {
            badPage(pfn, "order " + order + " out of range (expected: 0 to " + Zone.MAX_PAGE_ORDER + ")");
            return false;
        }
        final long flags = memMap.flags(pfn);
        if ((flags & MemMap.PG_TAIL) != 0) {
            badPage(pfn, "VM_BUG_ON_PAGE(PageTail(page))");
            return false;
        }
        if ((pfn & ((1L << order) - 1)) != 0) {
            badPage(pfn, "VM_BUG_ON_PAGE(pfn & ((1 << order) - 1))");
            return false;
        }
        final String inUse = freePageBadReason(pfn, flags);
        if (inUse != null) {
            badPage(pfn, inUse);
            return false;
        }
        while (true) {
            final int ref = memMap.refcount(pfn);
            if (ref <= 0) {
                badPage(pfn, "VM_BUG_ON_PAGE(page_ref_count(page) == 0)");
                return false;
            }
            final int allocOrder = memMap.compoundOrder(pfn);
            if (allocOrder != order) {
                badPage(pfn, (flags & MemMap.PG_HEAD) != 0
                    ? "VM_BUG_ON_PAGE(compound && compound_order(page) != order)"
                    : "freed with order " + order + " but allocated with order " + allocOrder);
                return false;
            }
            if (memMap.casInt(pfn, MemMap.REFCOUNT, ref, ref - 1)) {
                if (ref > 1) {
                    return true;
                }
                break;
            }
        }
        freePagesPrepare(pfn, order);
        freeFrozenPages(pfn, order);
        return true;
    }

    /**
     * {@code page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE)} for a page still owned by someone, or null: checked
     * before the reference is dropped, so a refused free changes nothing. As in the kernel the last matching
     * reason wins: a user mapping ({@code _mapcount}), a page-cache {@code mapping}, reserved/slab/zero-page flags.
     * Page types the model keeps alive where 6.18 silently resets {@code page_type} at free (a page table, a large
     * kmalloc) are refused too, naming the type (a departure: the kernel would hand the page out twice).
     */
    private String freePageBadReason(final long pfn, final long flags) {
        String reason = null;
        if (memMap.lpInt(pfn, MemMap.MAPCOUNT) != 0) {
            reason = "nonzero mapcount";
        }
        if ((flags & MemMap.PG_SLAB) == 0 && memMap.lpLong(pfn, MemMap.MAPPING) != 0) {
            reason = "non-NULL mapping";
        }
        if ((flags & (MemMap.PG_RESERVED | MemMap.PG_SLAB | MemMap.PG_ZERO_PAGE)) != 0) {
            reason = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
        }
        if ((flags & MemMap.PG_PGTABLE) != 0) {
            reason = "page_type table still set (the page is in use as a page table)";
        }
        if ((flags & MemMap.PG_HEAD) != 0 && memMap.privateWord(pfn) == MemMap.PGTY_LARGE_KMALLOC) {
            reason = "page_type large_kmalloc still set (a kmalloc allocation: free it with kfree)";
        }
        return reason;
    }

    /** {@code free_pages(addr, order)}: {@link #freePages} by kernel virtual address. */
    public boolean freePagesAddr(final long kaddr, final int order) {
        if (!mem.validVirt(kaddr)) {
            badPageOutside(PhysicalMemory.virtToPfn(kaddr), String.format(
                "address 0x%x outside the direct map [0x%x, 0x%x)", kaddr, PhysicalMemory.PAGE_OFFSET,
                PhysicalMemory.PAGE_OFFSET + mem.totalBytes()));
            return false;
        }
        if ((kaddr & (PhysicalMemory.PAGE_SIZE - 1)) != 0) {
            badPage(PhysicalMemory.virtToPfn(kaddr), String.format("address 0x%x not page aligned", kaddr));
            return false;
        }
        return freePages(PhysicalMemory.virtToPfn(kaddr), order);
    }

    /** {@code __free_page}. */
    public boolean freePage(final long pfn) {
        return freePages(pfn, 0);
    }

    /** {@code get_page}: one more reference on the (compound) page holding {@code pfn}; returns the new count. */
    public int getPage(final long pfn) {
        final long head = checkedHead(pfn, "get_page");
        if (head < 0) {
            return -1;
        }
        while (true) {
            final int ref = memMap.refcount(head);
            if (ref <= 0) {
                badPage(head, "VM_BUG_ON_PAGE(page_ref_count(page) <= 0)");
                return -1;
            }
            if (memMap.casInt(head, MemMap.REFCOUNT, ref, ref + 1)) {
                return ref + 1;
            }
        }
    }

    /**
     * {@code put_page}: drops one reference on the (compound) page holding {@code pfn}; at zero it is freed with
     * its allocation order. Returns true when this call freed it.
     */
    public boolean putPage(final long pfn) {
        final long head = checkedHead(pfn, "put_page");
        if (head < 0) {
            return false;
        }
        while (true) {
            final int ref = memMap.refcount(head);
            if (ref <= 1) {
                // the last reference (or a bad one, which freePages reports)
                return freePages(head, memMap.compoundOrder(head)) && ref == 1;
            }
            if (memMap.casInt(head, MemMap.REFCOUNT, ref, ref - 1)) {
                return false;
            }
        }
    }

    /** {@code page_count}: the refcount of the (compound) page holding {@code pfn}. */
    public int pageCount(final long pfn) {
        return mem.validPfn(pfn) ? memMap.refcount(memMap.compoundHead(pfn)) : -1;
    }

    private long checkedHead(final long pfn, final String what) {
        if (!mem.validPfn(pfn)) {
            badPageOutside(pfn, what + " on a pfn outside memory");
            return -1;
        }
        return memMap.compoundHead(pfn);
    }

    /**
     * {@code split_page}: turns a non-compound order-{@code order} allocation into {@code 1 << order} order-0 pages,
     * each with refcount 1, to be freed one by one.
     */
    public void splitPage(final long pfn, final int order) {
        if (!mem.validPfn(pfn) || (memMap.flags(pfn) & (MemMap.PG_HEAD | MemMap.PG_TAIL)) != 0
            || memMap.refcount(pfn) == 0 || memMap.compoundOrder(pfn) != order) {
            throw new IllegalArgumentException(String.format("split_page pfn=0x%x order=%d (expected: the head of a "
                + "non-compound allocation of that order)", pfn, order));
        }
        for (long i = 0; i < 1L << order; i++) {
            memMap.spInt(pfn + i, MemMap.COMPOUND_ORDER, 0);
            memMap.setRefcount(pfn + i, 1);
        }
        final PageOwner owner = pageOwner;
        if (owner != null) {
            owner.splitPageOwner(pfn, order);  // split_page_owner
        }
    }

    /** {@code free_pages_prepare}: clears what allocation set on every page of the block. */
    private void freePagesPrepare(final long pfn, final int order) {
        final PageOwner owner = pageOwner;
        if (owner != null) {
            owner.resetPageOwner(pfn, order);  // reset_page_owner
        }
        final long flags = memMap.flags(pfn);
        if ((flags & MemMap.PG_HEAD) != 0) {
            for (long i = 1; i < 1L << order; i++) {
                memMap.soFlags(pfn + i, 0);
                memMap.privateWord(pfn + i, 0);
            }
        }
        memMap.soFlags(pfn, 0);
        memMap.privateWord(pfn, 0);
        memMap.spInt(pfn, MemMap.COMPOUND_ORDER, 0);
        if (opts.initOnFree()) {
            mem.fill(PhysicalMemory.pfnToPhys(pfn), (long) PhysicalMemory.PAGE_SIZE << order, (byte) 0);
        }
    }

    /** {@code __free_frozen_pages}: pcp for small orders (trylock), else the zone lists. */
    private void freeFrozenPages(final long pfn, final int order) {
        final Zone z = zoneOf(pfn);
        if (order > Zone.PAGE_ALLOC_COSTLY_ORDER) {
            freeOnePage(z, pfn, order);
            return;
        }
        int mt = z.pageblockMigratetype(pfn);
        if (mt >= MigrateType.PCPTYPES) {
            if (mt == MigrateType.ISOLATE) {
                freeOnePage(z, pfn, order);
                return;
            }
            mt = MigrateType.MOVABLE;
        }
        final Pcp pcp = z.pcp[cpus.current()];
        if (pcp.tryLock()) {
            try {
                freeFrozenPageCommit(z, pcp, pfn, mt, order);
            } finally {
                pcp.unlock();
            }
        } else {
            pcpTrylockFailures.incrementAndGet();
            freeOnePage(z, pfn, order);
        }
    }

    /** pcp try-locks (alloc and free) that found the lock held and went to the zone lists, so far. */
    long pcpTrylockFailures() {
        return pcpTrylockFailures.get();
    }

    /** {@code free_frozen_page_commit} (pcp lock held). */
    private void freeFrozenPageCommit(final Zone z, final Pcp pcp, final long pfn, final int mt, final int order) {
        pcp.allocFactor >>= 1;
        pcp.pgfree += 1L << order;
        final int pindex = Pcp.pindex(mt, order);
        pcp.addHead(memMap, pindex, pfn);
        pcp.count += 1 << order;
        final int batch = pcp.batch;
        boolean freeHigh = false;
        if (order != 0) {
            freeHigh = pcp.freeCount >= batch + pcp.highMin / 2
                && (pcp.flags & Pcp.PCPF_PREV_FREE_HIGH_ORDER) != 0
                && ((pcp.flags & Pcp.PCPF_FREE_HIGH_BATCH) == 0 || pcp.count >= batch);
            pcp.flags |= Pcp.PCPF_PREV_FREE_HIGH_ORDER;
        } else if ((pcp.flags & Pcp.PCPF_PREV_FREE_HIGH_ORDER) != 0) {
            pcp.flags &= ~Pcp.PCPF_PREV_FREE_HIGH_ORDER;
        }
        if (pcp.freeCount < batch << Pcp.PCP_BATCH_SCALE_MAX) {
            pcp.freeCount += 1 << order;
        }
        final int high = nrPcpHigh(pcp, z, batch, freeHigh);
        if (pcp.count < high) {
            return;
        }
        int toFree = nrPcpFree(pcp, batch, high, freeHigh);
        while (toFree > 0 && pcp.count > 0) {
            final int n = Math.min(toFree, batch);
            freePcppagesBulk(z, n, pcp, pindex);
            toFree -= n;
        }
        if (z.belowHigh && zoneWatermarkOk(z, 0, z.watermark[Zone.WMARK_HIGH], Zone.ZONE_MOVABLE, 0, z.freePages)) {
            z.belowHigh = false;
        }
    }

    /** {@code nr_pcp_high}: auto-tunes {@code pcp->high} between high_min and high_max. */
    private static int nrPcpHigh(final Pcp pcp, final Zone z, final int batch, final boolean freeHigh) {
        int high = pcp.high = clamp(pcp.high, pcp.highMin, pcp.highMax);
        if (high == 0) {
            return 0;
        }
        if (freeHigh) {
            pcp.high = Math.max(high - (batch << Pcp.PCP_BATCH_SCALE_MAX), pcp.highMin);
            return 0;
        }
        if (pcp.highMin == pcp.highMax) {
            return high;
        }
        if (z.belowHigh) {
            final int freeCount = Math.max(pcp.freeCount, batch);
            pcp.high = Math.max(high - freeCount, pcp.highMin);
            high = Math.max(pcp.count, pcp.highMin);
        } else if (pcp.count >= high) {
            final int needHigh = pcp.freeCount + batch;
            if (pcp.high < needHigh) {
                pcp.high = clamp(needHigh, pcp.highMin, pcp.highMax);
            }
        }
        return high;
    }

    /** {@code nr_pcp_free}. */
    private static int nrPcpFree(final Pcp pcp, final int batch, final int high, final boolean freeHigh) {
        if (freeHigh) {
            return Math.min(pcp.count, batch << Pcp.PCP_BATCH_SCALE_MAX);
        }
        if (high < batch) {
            return 1;
        }
        return clamp(pcp.freeCount, batch, high - batch);
    }

    /** {@code free_pcppages_bulk}: {@code count} pages back to the buddy lists, round-robin over the lists. */
    private void freePcppagesBulk(final Zone z, final int countArg, final Pcp pcp, final int pindexArg) {
        int count = Math.min(pcp.count, countArg);
        int pindex = pindexArg - 1;
        z.lock.lock();
        try {
            while (count > 0) {
                do {
                    if (++pindex > Pcp.NR_PCP_LISTS - 1) {
                        pindex = 0;
                    }
                } while (pcp.head(pindex) < 0);
                final int order = Pcp.pindexToOrder(pindex);
                final int nrPages = 1 << order;
                do {
                    final long pfn = pcp.removeTail(memMap, pindex);
                    count -= nrPages;
                    pcp.count -= nrPages;
                    freeOneLocked(z, pfn, order, z.pageblockMigratetype(pfn), false);
                } while (count > 0 && pcp.head(pindex) >= 0);
            }
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code free_one_page}: straight to the buddy lists under the zone lock. */
    private void freeOnePage(final Zone z, final long pfn, final int order) {
        z.lock.lock();
        try {
            splitLargeBuddy(z, pfn, order, false);
            z.events[Zone.EV_PGFREE] += 1L << order;
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code split_large_buddy}: frees a block pageblock by pageblock so each keeps its own migratetype. */
    private void splitLargeBuddy(final Zone z, final long startPfn, final int startOrder, final boolean toTail) {
        final long end = startPfn + (1L << startOrder);
        final int order = Math.min(startOrder, Zone.PAGEBLOCK_ORDER);
        long pfn = startPfn;
        do {
            freeOneLocked(z, pfn, order, z.pageblockMigratetype(pfn), toTail);
            pfn += 1L << order;
        } while (pfn != end);
    }

    /** {@code __free_one_page} (zone lock held): merge with free buddies, then queue. */
    private void freeOneLocked(final Zone z, final long startPfn, final int startOrder, final int mt,
                               final boolean fpiToTail) {
        long pfn = startPfn;
        int order = startOrder;
        long buddy = 0;
        accountFreepages(z, 1L << order, mt);
        while (order < Zone.MAX_PAGE_ORDER) {
            buddy = pfn ^ (1L << order);
            if (!isBuddy(z, buddy, order)) {
                break;
            }
            int buddyMt = mt;
            if (order >= Zone.PAGEBLOCK_ORDER) {
                buddyMt = z.pageblockMigratetype(buddy);
                if (mt != buddyMt && (!MigrateType.isMergeable(mt) || !MigrateType.isMergeable(buddyMt))) {
                    break;
                }
            }
            unlinkFree(z, buddy, order, listMt(buddy));
            if (buddyMt != mt) {
                changePageblockRange(z, buddy, order, mt);
            }
            pfn &= buddy;
            order++;
        }
        final boolean toTail = fpiToTail || buddyMergeLikely(z, pfn, buddy, order);
        linkFree(z, pfn, order, mt, toTail);
    }

    /** {@code page_is_buddy}: a free block head of exactly this order in this zone. */
    private boolean isBuddy(final Zone z, final long pfn, final int order) {
        return z.contains(pfn) && (memMap.flags(pfn) & MemMap.PG_BUDDY) != 0 && memMap.privateWord(pfn) == order;
    }

    /** {@code buddy_merge_likely}: queue at the tail when the block's next-order buddy is already free. */
    private boolean buddyMergeLikely(final Zone z, final long pfn, final long buddy, final int order) {
        if (order >= Zone.MAX_PAGE_ORDER - 1) {
            return false;
        }
        final long higher = buddy & pfn;
        return isBuddy(z, higher ^ (1L << (order + 1)), order + 1);
    }

    private int listMt(final long pfn) {
        return memMap.migratetype(pfn);
    }

    // ------------------------------------------------------------------ free list primitives (zone lock held)

    /** {@code account_freepages}. */
    private static void accountFreepages(final Zone z, final long nrPages, final int mt) {
        if (mt == MigrateType.ISOLATE) {
            return;
        }
        z.freePages += nrPages;
        if (mt == MigrateType.HIGHATOMIC) {
            z.nrFreeHighatomic += nrPages;
        }
    }

    /**
     * {@code __add_to_free_list} + {@code set_buddy_order}. A block queued at the tail of the list that deferred
     * blocks end must come after them: their struct pages are written first ({@link #initDeferred}).
     */
    private void linkFree(final Zone z, final long pfn, final int order, final int mt, final boolean tail) {
        if (tail && order == Zone.MAX_PAGE_ORDER && mt == z.deferredMt && z.deferredPfn < z.deferredEnd) {
            initDeferredLocked(z);
        }
        linkFreeRaw(z, pfn, order, mt, tail);
    }

    private void linkFreeRaw(final Zone z, final long pfn, final int order, final int mt, final boolean tail) {
        if (tail) {
            PageList.addTail(memMap, z.freeHead[order], mt, z.freeTail[order], mt, pfn);
        } else {
            PageList.addHead(memMap, z.freeHead[order], mt, z.freeTail[order], mt, pfn);
        }
        memMap.soFlags(pfn, MemMap.PG_BUDDY | ((long) mt << MemMap.MT_SHIFT));
        memMap.privateWord(pfn, order);
        z.freeCount[order][mt]++;
        z.nrFree[order]++;
        if (order >= Zone.PAGEBLOCK_ORDER && mt != MigrateType.ISOLATE) {
            z.freeBlocksPages += 1L << order;
        }
    }

    /** {@code __del_page_from_free_list}: unlinks without touching NR_FREE_PAGES. */
    private void unlinkFree(final Zone z, final long pfn, final int order, final int mt) {
        PageList.unlink(memMap, z.freeHead[order], mt, z.freeTail[order], mt, pfn);
        memMap.soFlags(pfn, 0);
        memMap.privateWord(pfn, 0);
        z.freeCount[order][mt]--;
        z.nrFree[order]--;
        if (order >= Zone.PAGEBLOCK_ORDER && mt != MigrateType.ISOLATE) {
            z.freeBlocksPages -= 1L << order;
        }
        if (order == Zone.MAX_PAGE_ORDER && mt == z.deferredMt && z.freeHead[order][mt] < 0
            && z.deferredPfn < z.deferredEnd) {
            initDeferredBlock(z);
        }
    }

    // ------------------------------------------------------------------ deferred struct page init

    /**
     * Pages of each zone whose struct pages boot writes at once: the first memory section (128 MiB on x86-64),
     * as {@code defer_init()} keeps the first section of a node.
     */
    static final long DEFERRED_EAGER_PAGES = (128L << 20) >>> PhysicalMemory.PAGE_SHIFT;

    /**
     * Counts {@code [start, end)} (whole MAX_PAGE_ORDER blocks) as free blocks of type {@code mt} without writing
     * their struct pages (zone lock held, boot). Departure from Linux, named: the kernel defers only the highest
     * zone of each node and finishes the rest in {@code page_alloc_init_late} before user space runs; mm4j defers in
     * every zone and writes a block's struct page only when the allocator reaches it (or {@link #initDeferred}
     * is asked), so boot time and resident memory do not grow with {@code mem=}. What the allocator hands out, in
     * which order, and every counter are the same as with all struct pages written at boot.
     */
    private void deferBlocks(final Zone z, final long start, final long end, final int mt) {
        final long blocks = (end - start) >>> Zone.MAX_PAGE_ORDER;
        z.deferredMt = mt;
        z.deferredPfn = start;
        z.deferredEnd = end;
        accountFreepages(z, end - start, mt);
        z.freeCount[Zone.MAX_PAGE_ORDER][mt] += blocks;
        z.nrFree[Zone.MAX_PAGE_ORDER] += blocks;
        z.freeBlocksPages += end - start;
    }

    /** Writes the struct page of the next deferred block, queueing it at its list's tail (zone lock held). */
    private void initDeferredBlock(final Zone z) {
        final long pfn = z.deferredPfn;
        final int mt = z.deferredMt;
        z.deferredPfn = pfn + (1L << Zone.MAX_PAGE_ORDER);
        // it was counted at boot: take it out of the counters, then queue it as any free block
        z.freeCount[Zone.MAX_PAGE_ORDER][mt]--;
        z.nrFree[Zone.MAX_PAGE_ORDER]--;
        z.freeBlocksPages -= 1L << Zone.MAX_PAGE_ORDER;
        linkFreeRaw(z, pfn, Zone.MAX_PAGE_ORDER, mt, true);
    }

    private void initDeferredLocked(final Zone z) {
        final long t0 = System.nanoTime();
        final long pages = z.deferredEnd - z.deferredPfn;
        while (z.deferredPfn < z.deferredEnd) {
            initDeferredBlock(z);
        }
        log.printk("node %d zone %s: %d deferred pages initialised in %dms", z.nid, z.name, pages,
            (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Writes every struct page still deferred ({@code deferred_init_memmap}), as the kernel does before user space:
     * afterwards every free block is on a list. Validation and pfn walkers call it; allocation never needs to.
     */
    public void initDeferred() {
        for (final Zone z : zones) {
            initDeferred(z);
        }
    }

    /** Writes the deferred struct pages of {@code z}, taking its lock (reentrant: a holder may call it). */
    private void initDeferred(final Zone z) {
        if (z.deferredPfn < z.deferredEnd) {
            z.lock.lock();
            try {
                if (z.deferredPfn < z.deferredEnd) {
                    initDeferredLocked(z);
                }
            } finally {
                z.lock.unlock();
            }
        }
    }

    /** Pages whose struct pages are still deferred (free, counted, not yet written). */
    public long deferredPages() {
        long n = 0;
        for (final Zone z : zones) {
            n += Math.max(0, z.deferredEnd - z.deferredPfn);
        }
        return n;
    }

    /**
     * The pfn ranges still deferred, as {@code [start0, end0, start1, end1, ...]} in ascending order: a snapshot
     * for walkers of mem_map (a range only shrinks from its start, so a block outside a snapshot stays outside).
     */
    public long[] deferredRanges() {
        final long[] out = new long[zones.length * 2];
        int n = 0;
        for (final Zone z : zones) {
            final long end = z.deferredEnd;
            final long start = z.deferredPfn;
            if (start < end) {
                out[n++] = start;
                out[n++] = end;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Makes the struct page of {@code pfn} real when it is still deferred (before a dump or check reads it). */
    private void initDeferredAt(final long pfn) {
        for (final Zone z : zones) {
            if (pfn >= z.deferredPfn && pfn < z.deferredEnd) {
                initDeferred(z);  // only this zone's lock: a caller may hold it already; no other zone's is taken
                return;
            }
        }
    }

    private void delFromFreeList(final Zone z, final long pfn, final int order, final int mt) {
        unlinkFree(z, pfn, order, mt);
        accountFreepages(z, -(1L << order), mt);
    }

    /** {@code move_to_free_list}: to the tail of another type's list. */
    private void moveToFreeList(final Zone z, final long pfn, final int order, final int oldMt, final int newMt) {
        unlinkFree(z, pfn, order, oldMt);
        accountFreepages(z, -(1L << order), oldMt);
        linkFree(z, pfn, order, newMt, true);
        accountFreepages(z, 1L << order, newMt);
    }

    /** {@code expand}: returns the upper halves to the lower orders; the number of pages queued. */
    private long expand(final Zone z, final long pfn, final int low, final int highArg, final int mt) {
        int high = highArg;
        long added = 0;
        while (high > low) {
            high--;
            final long size = 1L << high;
            linkFree(z, pfn + size, high, mt, false);
            added += size;
        }
        return added;
    }

    /** {@code page_del_and_expand}. */
    private void pageDelAndExpand(final Zone z, final long pfn, final int low, final int high, final int mt) {
        unlinkFree(z, pfn, high, mt);
        final long nrPages = (1L << high) - expand(z, pfn, low, high, mt);
        accountFreepages(z, -nrPages, mt);
    }

    /** {@code __move_freepages_block}: every free block of a pageblock onto {@code newMt}'s lists. */
    private int moveFreepagesBlock(final Zone z, final long start, final int newMt) {
        int moved = 0;
        final long end = start + Zone.PAGEBLOCK_NR_PAGES;
        for (long p = start; p < end;) {
            if ((memMap.flags(p) & MemMap.PG_BUDDY) == 0) {
                p++;
                continue;
            }
            final int order = (int) memMap.privateWord(p);
            moveToFreeList(z, p, order, listMt(p), newMt);
            p += 1L << order;
            moved += 1 << order;
        }
        return moved;
    }

    /** {@code set_pageblock_migratetype}. */
    private void setPageblockMigratetype(final Zone z, final long pfn, final int mtArg) {
        final int mt = mobilityDisabled && mtArg < MigrateType.PCPTYPES ? MigrateType.UNMOVABLE : mtArg;
        z.setPageblockMt(pfn, mt);
    }

    /** {@code change_pageblock_range}. */
    private void changePageblockRange(final Zone z, final long pfn, final int startOrder, final int mt) {
        int n = 1 << Math.max(0, startOrder - Zone.PAGEBLOCK_ORDER);
        long p = pfn;
        while (n-- > 0) {
            setPageblockMigratetype(z, p, mt);
            p += Zone.PAGEBLOCK_NR_PAGES;
        }
    }

    // ------------------------------------------------------------------ drains

    /** {@code drain_pages_zone}: every page of one CPU's lists in one zone back to the buddy lists. */
    public void drainPagesZone(final int cpu, final Zone z) {
        final Pcp pcp = z.pcp[cpu];
        int count;
        do {
            pcp.lock();
            try {
                count = pcp.count;
                if (count > 0) {
                    final int toDrain = Math.min(count, pcp.batch << Pcp.PCP_BATCH_SCALE_MAX);
                    freePcppagesBulk(z, toDrain, pcp, 0);
                    count -= toDrain;
                }
            } finally {
                pcp.unlock();
            }
        } while (count > 0);
    }

    /** {@code drain_local_pages(NULL)}: the calling thread's CPU slot. */
    public void drainLocalPages() {
        final int cpu = cpus.current();
        for (final Zone z : zones) {
            drainPagesZone(cpu, z);
        }
    }

    /** {@code drain_all_pages(NULL)}: every CPU slot's lists in every zone. */
    public synchronized void drainAllPages() {
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            for (final Zone z : zones) {
                if (z.pcp[cpu].count > 0) {
                    drainPagesZone(cpu, z);
                }
            }
        }
    }

    // ------------------------------------------------------------------ statistics

    /** A zone's allocation events: its buddy-path counts plus its per-CPU lists' (racy sums, as the kernel's). */
    static long[] zoneEvents(final Zone z) {
        final long[] ev = z.events.clone();
        for (final Pcp p : z.pcp) {
            ev[Zone.EV_PGALLOC] += p.pgalloc;
            ev[Zone.EV_PGFREE] += p.pgfree;
            ev[Zone.EV_NUMA_HIT] += p.numaHit;
            ev[Zone.EV_NUMA_MISS] += p.numaMiss;
            ev[Zone.EV_NUMA_FOREIGN] += p.numaForeign;
            ev[Zone.EV_NUMA_LOCAL] += p.numaLocal;
            ev[Zone.EV_NUMA_OTHER] += p.numaOther;
        }
        return ev;
    }

    private void foldVmstat(final long[] v) {
        long free = 0;
        long blocks = 0;
        for (final Zone z : zones) {
            free += z.freePages;
            blocks += z.freeBlocksPages;
            final long[] ev = zoneEvents(z);
            v[VmStat.PGALLOC + z.type] += ev[Zone.EV_PGALLOC];
            v[VmStat.NUMA_HIT] += ev[Zone.EV_NUMA_HIT];
            v[VmStat.NUMA_MISS] += ev[Zone.EV_NUMA_MISS];
            v[VmStat.NUMA_FOREIGN] += ev[Zone.EV_NUMA_FOREIGN];
            v[VmStat.NUMA_LOCAL] += ev[Zone.EV_NUMA_LOCAL];
            v[VmStat.NUMA_OTHER] += ev[Zone.EV_NUMA_OTHER];
            v[VmStat.PGFREE] += ev[Zone.EV_PGFREE];
        }
        v[VmStat.NR_FREE_PAGES] = free;
        v[VmStat.NR_FREE_PAGES_BLOCKS] = blocks;
        v[VmStat.NR_MEMMAP_BOOT_PAGES] = (memMap.nrPages() * MemMap.ENTRY_SIZE + PhysicalMemory.PAGE_SIZE - 1)
            >>> PhysicalMemory.PAGE_SHIFT;
        // global_dirty_limits: dirtyable = free + file pages - totalreserve; ratios 20 % and 10 %
        final long dirtyable = Math.max(0, free + v[VmStat.NR_INACTIVE_FILE] + v[VmStat.NR_ACTIVE_FILE]
            - totalreservePages);
        v[VmStat.NR_DIRTY_THRESHOLD] = dirtyable * 20 / 100;
        v[VmStat.NR_DIRTY_BG_THRESHOLD] = dirtyable * 10 / 100;
    }

    // ------------------------------------------------------------------ bad page reports

    private static String comm() {
        final String n = Thread.currentThread().getName();
        return n.length() > 15 ? n.substring(0, 15) : n;
    }

    private void badPageOutside(final long pfn, final String reason) {
        badPages.incrementAndGet();
        lastBadPageReason = reason;
        log.printk("BUG: Bad page state in process %s  pfn:%05x", comm(), pfn);
        log.printk("page dumped because: %s (valid pfns 0x0-0x%x)", reason, mem.totalPages() - 1);
    }

    /** {@code bad_page}: "BUG: Bad page state" and a {@code dump_page}; nothing of the page is changed. */
    void badPage(final long pfn, final String reason) {
        initDeferredAt(pfn);
        badPages.incrementAndGet();
        lastBadPageReason = reason;
        final StringBuilder sb = new StringBuilder(512);
        sb.append(String.format("BUG: Bad page state in process %s  pfn:%05x%n", comm(), pfn));
        dumpPage(sb, pfn);
        sb.append("page dumped because: ").append(reason);
        log.printk(sb.toString());
    }

    /** {@code dump_page} in the kernel's layout. */
    void dumpPage(final StringBuilder sb, final long pfn) {
        final long flags = memMap.flags(pfn);
        final long head = memMap.compoundHead(pfn);
        final long mapping = (flags & MemMap.PG_SLAB) == 0 ? memMap.lpLong(pfn, MemMap.MAPPING) : 0;
        sb.append(String.format("page: refcount:%d mapcount:%d mapping:%016x index:0x0 pfn:0x%x%n",
            memMap.refcount(pfn), memMap.lpInt(pfn, MemMap.MAPCOUNT), mapping, pfn));
        if ((flags & (MemMap.PG_HEAD | MemMap.PG_TAIL)) != 0) {
            sb.append(String.format("head: order:%d mapcount:0 entire_mapcount:0 pincount:0 pfn:0x%x%n",
                memMap.compoundOrder(head), head));
        }
        final Zone z = zoneOf(pfn);
        final StringBuilder names = new StringBuilder();
        final long[] bits = {MemMap.PG_LOCKED, MemMap.PG_REFERENCED, MemMap.PG_UPTODATE, MemMap.PG_DIRTY,
            MemMap.PG_LRU, MemMap.PG_HEAD, MemMap.PG_RESERVED, MemMap.PG_ANON, MemMap.PG_SLAB};
        final String[] bitNames = {"locked", "referenced", "uptodate", "dirty", "lru", "head", "reserved", "anon",
            "slab"};
        for (int i = 0; i < bits.length; i++) {
            if ((flags & bits[i]) != 0) {
                names.append(bitNames[i]).append('|');
            }
        }
        names.append("node=").append(z == null ? 0 : z.nid).append("|zone=").append(z == null ? 0 : z.type);
        sb.append(String.format("flags: 0x%x(%s)%n", flags & ~(MemMap.MT_MASK | MemMap.PG_BUDDY), names));
        if ((flags & MemMap.PG_BUDDY) != 0) {
            sb.append("page_type: f0(buddy)\n");
        } else if ((flags & MemMap.PG_SLAB) != 0) {
            sb.append("page_type: f5(slab)\n");
        } else if ((flags & MemMap.PG_PGTABLE) != 0) {
            sb.append("page_type: f2(table)\n");
        } else if ((flags & MemMap.PG_HEAD) != 0 && memMap.privateWord(pfn) == MemMap.PGTY_LARGE_KMALLOC) {
            sb.append("page_type: f8(large_kmalloc)\n");
        }
        for (int line = 0; line < 2; line++) {
            sb.append("raw:");
            for (int w = 0; w < 4; w++) {
                sb.append(String.format(" %016x", memMap.lpLong(pfn, (line * 4 + w) * 8)));
            }
            sb.append('\n');
        }
    }

    // ------------------------------------------------------------------ validation

    /**
     * Checks every invariant of the allocator and returns the violations (empty when consistent). Takes every pcp
     * and zone lock in turn; call it while no other thread allocates or frees, or the picture may be torn.
     *
     * <ol>
     *   <li>every free block is aligned to its order, lies in its zone, is PG_buddy with {@code private == order},
     *       is on the list of its recorded migratetype, which is its pageblock's migratetype;</li>
     *   <li>no page is on two lists (free lists, pcp lists) nor both listed and allocated;</li>
     *   <li>no free block's buddy is free at the same order (merging is complete), except across pageblocks of
     *       types that may not merge;</li>
     *   <li>counters: nr_free per order and type, NR_FREE_PAGES, NR_FREE_PAGES_BLOCKS, pcp counts agree with the
     *       lists;</li>
     *   <li>free + pcp + allocated + reserved = total pages; no PG_buddy page off the lists.</li>
     * </ol>
     */
    public List<String> validate() {
        initDeferred();
        final List<String> errors = new ArrayList<>();
        final long total = mem.totalPages();
        final BitSet seen = new BitSet((int) total);
        long freeTotal = 0;
        long pcpTotal = 0;
        for (final Zone z : zones) {
            for (final Pcp p : z.pcp) {
                p.lock();
            }
            z.lock.lock();
            try {
                long zoneFree = 0;
                long zoneBlocks = 0;
                long highatomic = 0;
                for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                    long nr = 0;
                    for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                        long n = 0;
                        long prev = -1;
                        for (long pfn = z.freeHead[o][mt]; pfn >= 0; pfn = memMap.lruNext(pfn)) {
                            n++;
                            if (n > total) {
                                errors.add(z + ": free list order " + o + " " + MigrateType.name(mt) + " has a cycle");
                                break;
                            }
                            if (memMap.lruPrev(pfn) != prev) {
                                errors.add(String.format("%s: pfn 0x%x prev link 0x%x, expected 0x%x", z, pfn,
                                    memMap.lruPrev(pfn), prev));
                            }
                            prev = pfn;
                            checkFreeBlock(z, pfn, o, mt, seen, errors);
                        }
                        if (z.freeTail[o][mt] != prev) {
                            errors.add(String.format("%s: tail of order %d %s is 0x%x, expected 0x%x", z, o,
                                MigrateType.name(mt), z.freeTail[o][mt], prev));
                        }
                        if (n != z.freeCount[o][mt]) {
                            errors.add(z + ": order " + o + " " + MigrateType.name(mt) + " counts " + z.freeCount[o][mt]
                                + " blocks, list has " + n);
                        }
                        nr += n;
                        if (mt != MigrateType.ISOLATE) {
                            zoneFree += n << o;
                            if (o >= Zone.PAGEBLOCK_ORDER) {
                                zoneBlocks += n << o;
                            }
                        }
                        if (mt == MigrateType.HIGHATOMIC) {
                            highatomic += n << o;
                        }
                    }
                    if (nr != z.nrFree[o]) {
                        errors.add(z + ": nr_free[" + o + "]=" + z.nrFree[o] + ", lists hold " + nr);
                    }
                }
                if (zoneFree != z.freePages) {
                    errors.add(z + ": NR_FREE_PAGES=" + z.freePages + ", lists hold " + zoneFree);
                }
                if (zoneBlocks != z.freeBlocksPages) {
                    errors.add(z + ": NR_FREE_PAGES_BLOCKS=" + z.freeBlocksPages + ", lists hold " + zoneBlocks);
                }
                if (highatomic != z.nrFreeHighatomic) {
                    errors.add(z + ": nr_free_highatomic=" + z.nrFreeHighatomic + ", lists hold " + highatomic);
                }
                freeTotal += zoneFree;
                for (int cpu = 0; cpu < nrCpus; cpu++) {
                    pcpTotal += checkPcp(z, cpu, seen, errors);
                }
            } finally {
                z.lock.unlock();
                for (final Pcp p : z.pcp) {
                    p.unlock();
                }
            }
        }
        long allocated = 0;
        long reserved = 0;
        for (long pfn = 0; pfn < total;) {
            if (seen.get((int) pfn)) {
                if ((memMap.flags(pfn) & MemMap.PG_BUDDY) != 0) {
                    pfn += 1L << memMap.privateWord(pfn);
                } else {
                    pfn++;
                }
                continue;
            }
            final long flags = memMap.flags(pfn);
            if ((flags & MemMap.PG_BUDDY) != 0) {
                errors.add(String.format("pfn 0x%x is PG_buddy but on no free list", pfn));
                pfn++;
                continue;
            }
            if ((flags & MemMap.PG_RESERVED) != 0) {
                reserved++;
                pfn++;
                continue;
            }
            if (memMap.refcount(pfn) <= 0) {
                errors.add(String.format("pfn 0x%x is neither free nor allocated (refcount %d, flags 0x%x)", pfn,
                    memMap.refcount(pfn), flags));
                pfn++;
                continue;
            }
            final int order = memMap.compoundOrder(pfn);
            final long n = 1L << order;
            if ((pfn & (n - 1)) != 0 || pfn + n > total) {
                errors.add(String.format("allocated pfn 0x%x has bad order %d", pfn, order));
                pfn++;
                continue;
            }
            for (long i = 0; i < n; i++) {
                if (seen.get((int) (pfn + i))) {
                    errors.add(String.format("pfn 0x%x is both allocated (block 0x%x order %d) and free", pfn + i,
                        pfn, order));
                }
                if (i > 0 && (flags & MemMap.PG_HEAD) != 0 && (!memMap.test(pfn + i, MemMap.PG_TAIL)
                    || memMap.compoundHead(pfn + i) != pfn)) {
                    errors.add(String.format("tail pfn 0x%x of compound 0x%x lacks PG_tail or its head", pfn + i,
                        pfn));
                }
            }
            allocated += n;
            pfn += n;
        }
        if (freeTotal + pcpTotal + allocated + reserved != total) {
            errors.add("free " + freeTotal + " + pcp " + pcpTotal + " + allocated " + allocated + " + reserved "
                + reserved + " != total " + total);
        }
        return errors;
    }

    /** {@link #validate()} that throws {@link IllegalStateException} listing the violations. */
    public void checkInvariants() {
        final List<String> errors = validate();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("buddy allocator invariants broken:\n  " + String.join("\n  ",
                errors.subList(0, Math.min(errors.size(), 20))));
        }
    }

    private void checkFreeBlock(final Zone z, final long pfn, final int o, final int mt, final BitSet seen,
                                final List<String> errors) {
        final long n = 1L << o;
        if ((pfn & (n - 1)) != 0) {
            errors.add(String.format("free block 0x%x of order %d is not aligned", pfn, o));
        }
        if (!z.contains(pfn) || !z.contains(pfn + n - 1)) {
            errors.add(String.format("free block 0x%x of order %d is outside %s", pfn, o, z));
            return;
        }
        if (!memMap.test(pfn, MemMap.PG_BUDDY) || memMap.privateWord(pfn) != o || listMt(pfn) != mt) {
            errors.add(String.format("free block 0x%x on order %d %s list has flags 0x%x private %d", pfn, o,
                MigrateType.name(mt), memMap.flags(pfn), memMap.privateWord(pfn)));
        }
        if (z.pageblockMigratetype(pfn) != mt) {
            errors.add(String.format("free block 0x%x on %s list, its pageblock is %s", pfn, MigrateType.name(mt),
                MigrateType.name(z.pageblockMigratetype(pfn))));
        }
        final int from = (int) pfn;
        if (seen.nextSetBit(from) >= 0 && seen.nextSetBit(from) < from + n) {
            errors.add(String.format("free block 0x%x of order %d overlaps another listed page", pfn, o));
        }
        seen.set(from, (int) (from + n));
        if (o < Zone.MAX_PAGE_ORDER) {
            final long buddy = pfn ^ n;
            if (isBuddy(z, buddy, o)) {
                final int bmt = listMt(buddy);
                final boolean mayStayApart = o >= Zone.PAGEBLOCK_ORDER && bmt != mt
                    && (!MigrateType.isMergeable(mt) || !MigrateType.isMergeable(bmt));
                if (!mayStayApart) {
                    errors.add(String.format("free block 0x%x and its buddy 0x%x are both free at order %d", pfn,
                        buddy, o));
                }
            }
        }
    }

    private long checkPcp(final Zone z, final int cpu, final BitSet seen, final List<String> errors) {
        final Pcp p = z.pcp[cpu];
        long pages = 0;
        for (int pindex = 0; pindex < Pcp.NR_PCP_LISTS; pindex++) {
            final int order = Pcp.pindexToOrder(pindex);
            int n = 0;
            for (long pfn = p.head(pindex); pfn >= 0; pfn = memMap.lruNext(pfn)) {
                if (++n > mem.totalPages()) {
                    errors.add(z + " cpu " + cpu + ": pcp list " + pindex + " has a cycle");
                    break;
                }
                final long size = 1L << order;
                if ((pfn & (size - 1)) != 0 || !z.contains(pfn)) {
                    errors.add(String.format("%s cpu %d: pcp page 0x%x misplaced for order %d", z, cpu, pfn, order));
                    continue;
                }
                if (memMap.refcount(pfn) != 0 || memMap.test(pfn, MemMap.PG_BUDDY)) {
                    errors.add(String.format("%s cpu %d: pcp page 0x%x has refcount %d flags 0x%x", z, cpu, pfn,
                        memMap.refcount(pfn), memMap.flags(pfn)));
                }
                final int from = (int) pfn;
                if (seen.nextSetBit(from) >= 0 && seen.nextSetBit(from) < from + size) {
                    errors.add(String.format("pcp page 0x%x (cpu %d) is also on another list", pfn, cpu));
                }
                seen.set(from, (int) (from + size));
                pages += size;
            }
            if (n != p.listCount(pindex)) {
                errors.add(z + " cpu " + cpu + ": pcp list " + pindex + " counts " + p.listCount(pindex) + ", has " + n);
            }
        }
        if (pages != p.count) {
            errors.add(z + " cpu " + cpu + ": pcp count " + p.count + ", lists hold " + pages);
        }
        return pages;
    }
}
