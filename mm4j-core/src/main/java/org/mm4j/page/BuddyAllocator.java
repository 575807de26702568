package org.mm4j.page;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.Current;
import org.mm4j.base.InternalApi;
import org.mm4j.base.KernelLog;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The buddy page allocator of Linux 6.18's {@code mm/page_alloc.c} over {@link PhysicalMemory} and {@link MemMap}:
 * zones per node, per-migratetype free areas with pageblock fallback and claiming, watermarks, per-CPU page lists.
 * This class holds the allocator's state and its public entry points; the work is done, along the kernel's own
 * seams, by package-private classes:
 * <pre>
 *  MmInit         boot: zones, zonelists, memblock_free_all, deferred struct page init
 *  Watermarks     min_free_kbytes, watermarks, lowmem_reserve, pcp batch/high, the sysctls, __zone_watermark_ok
 *  PageAlloc      __alloc_pages, get_page_from_freelist, the slow path, prep_new_page, high-atomic reserves
 *  Rmqueue        rmqueue: pcp lists, rmqueue_bulk, __rmqueue (smallest, claim, steal)
 *  FreePages      __free_pages, put_page, the pcp free path, __free_one_page, drains
 *  FreeArea       free-list primitives (zone lock held): __add_to_free_list, expand, __move_freepages_block
 *  ShowMem        warn_alloc and show_mem
 *  PageDebug      bad_page, dump_page, page_bad_reason
 *  BuddyValidate  validate(): every invariant below, checked
 * </pre>
 *
 * <p>Allocation ({@code alloc_pages} / {@link #allocPagesNode}): the zonelist of the preferred node (the caller's
 * CPU slot's node unless given) is walked from the highest zone the gfp allows ({@code gfp_zone}) down to DMA, then
 * the other nodes (never with {@link Gfp#THISNODE}); a lower zone serves a request only above its watermark plus
 * its {@code lowmem_reserve} for the request's highest zone. The fast pass checks the low watermark
 * ({@code get_page_from_freelist} with ALLOC_WMARK_LOW); the slow pass checks min, where {@link Gfp#HIGH} may dip to half of it and non-blocking
 * requests (no {@link Gfp#DIRECT_RECLAIM}, i.e. GFP_ATOMIC) further (ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, the
 * {@code __zone_watermark_ok} rules), and {@link Gfp#MEMALLOC} ignores watermarks. The model's only "reclaim" is
 * what direct reclaim does last in Linux: unreserve high-atomic pageblocks and drain every CPU's lists, then retry
 * once. Orders 0..3 go through the CPU slot's {@link Pcp} lists (refilled by {@code rmqueue_bulk}, drained by
 * {@code free_pcppages_bulk} when {@code count >= high}); larger orders and a busy pcp lock go to the zone lists
 * ({@code __rmqueue}: preferred migratetype, then claim whole pageblocks of a fallback type, then steal).
 *
 * <p>Free ({@code __free_pages} / {@link #freePages}): the refcount of the head page is dropped (put_page
 * semantics; a second free takes it below zero and frees nothing, as 6.18 without CONFIG_DEBUG_VM does); at zero the block goes to the pcp list (orders 0..3) or merges with its buddy
 * ({@code pfn ^ (1 << order)}) up to MAX_PAGE_ORDER ({@code __free_one_page}).
 *
 * <p>Invariants: see {@link #validate()}. Concurrency: lock order is pcp lock, then zone lock; never two zone
 * locks or two pcp locks at once (drains take one pcp at a time). The setup lock (this object's monitor) orders
 * watermark recomputation, {@code drain_all_pages} and nothing else. The hot path (pcp hit) takes one pcp CAS and
 * no zone lock, and allocates nothing on the Java heap. Methods that need a lock assert it ({@code -ea}).
 *
 * <p>Errors, the kernel's conventions: an allocation that finds no page returns -1 (the model's NULL pfn; pfn 0 is
 * a real, reserved page) or address 0, after {@code warn_alloc}'s report unless {@link Gfp#NOWARN}; misuse is
 * reported as "BUG: Bad page state" in the kernel log and refused (false, -1) before any state changes, so the
 * free lists stay intact. Exhaustion never throws; bad arguments to the sysctls and {@link #splitPage} throw
 * {@link IllegalArgumentException} naming the value.
 */
public final class BuddyAllocator {
    /**
     * Boot-time options of the allocator. Zones as x86-64's {@code zone_sizes_init} lays them out: memory below
     * {@code dmaLimitPfn} ({@code MAX_DMA_PFN}, 16 MiB) is ZONE_DMA, below {@code dma32LimitPfn}
     * ({@code MAX_DMA32_PFN}, 4 GiB) ZONE_DMA32, the rest ZONE_NORMAL; a zone with no memory is absent.
     * {@code debugVm}: {@code CONFIG_DEBUG_VM} (the {@code VM_BUG_ON_PAGE} checks of the free path).
     */
    public record Options(boolean initOnAlloc, boolean initOnFree, long dmaLimitPfn, long dma32LimitPfn,
                          boolean debugVm) {
        /** {@code MAX_DMA_PFN} of x86-64: 16 MiB. */
        public static final long MAX_DMA_PFN = (16L << 20) >>> PhysicalMemory.PAGE_SHIFT;
        /** {@code MAX_DMA32_PFN} of x86-64: 4 GiB. */
        public static final long MAX_DMA32_PFN = (4L << 30) >>> PhysicalMemory.PAGE_SHIFT;
        public static final Options DEFAULT = new Options(false, false, MAX_DMA_PFN, MAX_DMA32_PFN, false);

        public Options {
            if (dmaLimitPfn <= 0 || (dmaLimitPfn & (Zone.PAGEBLOCK_NR_PAGES - 1)) != 0) {
                throw new IllegalArgumentException("dmaLimitPfn=" + dmaLimitPfn
                    + " (expected: a positive multiple of " + Zone.PAGEBLOCK_NR_PAGES + ")");
            }
            if (dma32LimitPfn < dmaLimitPfn || (dma32LimitPfn & (Zone.PAGEBLOCK_NR_PAGES - 1)) != 0) {
                throw new IllegalArgumentException("dma32LimitPfn=" + dma32LimitPfn + " (expected: a multiple of "
                    + Zone.PAGEBLOCK_NR_PAGES + ", at least dmaLimitPfn=" + dmaLimitPfn + ")");
            }
        }

        /** The x86-64 zone limits with the given init_on_alloc, init_on_free and CONFIG_DEBUG_VM. */
        public static Options of(final boolean initOnAlloc, final boolean initOnFree, final boolean debugVm) {
            return new Options(initOnAlloc, initOnFree, MAX_DMA_PFN, MAX_DMA32_PFN, debugVm);
        }
    }

    /**
     * What the page allocator calls when an allocation that may invoke the OOM killer found no page after
     * reclaim ({@code out_of_memory}); the vma package's OOM killer implements it.
     */
    public interface OomHandler {
        /** Kills a process to free memory; true when the allocation should be retried. */
        boolean outOfMemory(int gfp, int order);
    }

    // state shared by the parts; set in the constructor, read without locks (the arrays' contents follow Zone's rules)
    final PhysicalMemory mem;
    final MemMap memMap;
    final KernelLog log;
    final CpuSlots cpus;
    final VmStat vmstat;
    final Options opts;
    final int nrNodes;
    final int nrCpus;
    final Zone[] zones;
    /** Per node: its zones from the highest type down, then the other nodes' ({@code node_zonelists}). */
    final Zone[][] zonelist;
    /** Zones by node and zone type (null where a node has no such zone). */
    private final Zone[][] byNodeType;
    /** Index into {@code zones} of every pageblock's zone ({@code page_zone} without the flags bits). */
    private final short[] zoneOfBlock;
    private final long reservedPages;
    /** {@code page_group_by_mobility_disabled}: too little memory to group pages by mobility. */
    final boolean mobilityDisabled;
    /**
     * pcp try-locks that found the lock held (another thread of the slot, or a drain) and fell back to the zone
     * lists: a model event with no vmstat item, counted only on that fallback path (stress tests read it).
     */
    private final AtomicLong pcpTrylockFailures = new AtomicLong();

    // the parts, each named for what it is in mm/page_alloc.c (see the class comment)
    final FreeArea area;
    final MmInit init;
    final PageDebug debug;
    final Watermarks wmarks;
    final Rmqueue rmqueue;
    final FreePages free;
    final PageAlloc alloc;
    final ShowMem showMem;
    private final BuddyValidate validator;
    /**
     * Debugging hooks (issue 16), set at boot before the first allocation: null = compiled out (fail_page_alloc)
     * or off (page_owner), and then one null test per allocation and free.
     */
    FailPageAlloc failPageAlloc;
    PageOwner pageOwner;
    /** {@code current}, for the task reports name: swapper/0 until a kernel installs its own. */
    Current current = new Current();

    /** An allocator on one CPU slot with default options and its own counters (tests and tools). */
    @InternalApi("org.mm4j")
    public BuddyAllocator(final PhysicalMemory mem, final MemMap memMap, final KernelLog log) {
        this(mem, memMap, log, new CpuSlots(1), null, Options.DEFAULT);
    }

    @InternalApi("org.mm4j")
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
        this.zones = MmInit.createZones(mem, opts);
        MmInit.printZoneRanges(log, mem, opts);
        this.byNodeType = new Zone[nrNodes][Zone.MAX_NR_ZONES];
        this.zoneOfBlock = new short[(int) (mem.totalPages() >>> Zone.PAGEBLOCK_ORDER)];
        for (short i = 0; i < zones.length; i++) {
            final Zone z = zones[i];
            byNodeType[z.nid][z.type] = z;
            Arrays.fill(zoneOfBlock, (int) (z.startPfn >>> Zone.PAGEBLOCK_ORDER),
                (int) (z.endPfn >>> Zone.PAGEBLOCK_ORDER), i);
        }
        this.zonelist = MmInit.buildZonelists(byNodeType);
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
        this.area = new FreeArea(this);
        this.init = new MmInit(this, area);
        this.debug = new PageDebug(this);
        this.wmarks = new Watermarks(this);
        this.rmqueue = new Rmqueue(this, area);
        this.free = new FreePages(this, area, debug);
        this.alloc = new PageAlloc(this);
        this.showMem = new ShowMem(this);
        this.validator = new BuddyValidate(this, area);
        wmarks.initPerZoneWmarkMin();
        long vmTotal = 0;
        for (final Zone z : zones) {
            vmTotal += Math.max(0, z.managedPages - z.watermark[Zone.WMARK_HIGH]);
        }
        this.mobilityDisabled = vmTotal < (long) Zone.PAGEBLOCK_NR_PAGES * MigrateType.TYPES;
        final int initialMt = mobilityDisabled ? MigrateType.UNMOVABLE : MigrateType.MOVABLE;
        for (final Zone z : zones) {
            init.freeAllMemory(z, initialMt);
        }
        this.vmstat.addFolder(this::foldVmstat);
        log.printk("Built %d zonelists, mobility grouping %s.  Total pages: %d", nrNodes,
            mobilityDisabled ? "off" : "on", vmTotal);
        for (final Zone z : zones) {
            log.printk("  node %d zone %s: %d pages, LIFO batch:%d", z.nid, z.name, z.presentPages, z.pcpBatch);
        }
    }

    Zone zoneAt(final int nid, final int type) {
        return byNodeType[nid][type];
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
        return wmarks.totalreservePages();
    }

    /** Whether grouping by mobility is off ({@code page_group_by_mobility_disabled}, tiny memory). */
    public boolean mobilityDisabled() {
        return mobilityDisabled;
    }

    /** The "page dumped because" text of the latest "Bad page state" report (null before the first). */
    public String lastBadPageReason() {
        return debug.lastBadPageReason();
    }

    /**
     * Number of {@code VM_BUG_ON_PAGE} reports ("kernel BUG at ...") so far: only a CONFIG_DEBUG_VM kernel makes
     * them ({@code mm4j.config.DEBUG_VM=y}); the operation was refused.
     */
    public long vmBugReports() {
        return debug.vmBugReports();
    }

    /** Number of "Bad page state" reports so far (TAINT_BAD_PAGE count). */
    public long badPageReports() {
        return debug.badPageReports();
    }

    /** pcp try-locks (alloc and free) that found the lock held and went to the zone lists, so far. */
    long pcpTrylockFailures() {
        return pcpTrylockFailures.get();
    }

    void pcpTrylockFailed() {
        pcpTrylockFailures.incrementAndGet();
    }

    // ------------------------------------------------------------------ sysctls (Watermarks)

    public int minFreeKbytes() {
        return wmarks.minFreeKbytes();
    }

    /** {@code vm.min_free_kbytes} written by the user: recomputes every watermark and pcp size. */
    public void setMinFreeKbytes(final int kbytes) {
        wmarks.setMinFreeKbytes(kbytes);
    }

    public int watermarkScaleFactor() {
        return wmarks.watermarkScaleFactor();
    }

    /** {@code vm.watermark_scale_factor} (1 to 3000, in 1/10000 of managed pages). */
    public void setWatermarkScaleFactor(final int factor) {
        wmarks.setWatermarkScaleFactor(factor);
    }

    public int percpuPagelistHighFraction() {
        return wmarks.percpuPagelistHighFraction();
    }

    /**
     * {@code vm.percpu_pagelist_high_fraction}: 0 (auto-tuned pcp high between high_min and high_max) or at least
     * 8, the fraction of a zone's managed pages each node's CPUs may keep on their lists together.
     */
    public void setPercpuPagelistHighFraction(final int fraction) {
        wmarks.setPercpuPagelistHighFraction(fraction);
    }

    /** {@code vm.lowmem_reserve_ratio}: one ratio per zone type (DMA, DMA32, Normal, Movable, Device). */
    public int[] lowmemReserveRatio() {
        return wmarks.lowmemReserveRatio();
    }

    /**
     * {@code vm.lowmem_reserve_ratio} written: the first {@code ratios.length} zone types' ratios (below 1 means 0,
     * no reserve), then every zone's {@code lowmem_reserve} is recomputed. More values than zone types is an
     * {@link IllegalArgumentException}.
     */
    public void setLowmemReserveRatio(final int... ratios) {
        wmarks.setLowmemReserveRatio(ratios);
    }

    /** {@code zone_batchsize} ({@link Watermarks#zoneBatchsize}). */
    static int zoneBatchsize(final long managedPages) {
        return Watermarks.zoneBatchsize(managedPages);
    }

    /** {@code int_sqrt} ({@link Watermarks#intSqrt}). */
    static long intSqrt(final long x) {
        return Watermarks.intSqrt(x);
    }

    // ------------------------------------------------------------------ allocation (PageAlloc)

    /**
     * {@code alloc_pages(gfp, order)}: a block of {@code 1 << order} pages on the caller's node, as its first pfn,
     * or -1. With {@link Gfp#COMP} and {@code order > 0} the block is a compound page; with {@link Gfp#ZERO} it is
     * zeroed. The head page's refcount is 1.
     */
    public long allocPages(final int gfp, final int order) {
        return alloc.allocPagesNode(gfp, order, -1);
    }

    /** {@code alloc_page(gfp)}. */
    public long allocPage(final int gfp) {
        return alloc.allocPagesNode(gfp, 0, -1);
    }

    /** {@code __get_free_pages}: like {@link #allocPages} but returns the kernel virtual address, or 0. */
    public long getFreePages(final int gfp, final int order) {
        final long pfn = alloc.allocPagesNode(gfp, order, -1);
        return pfn < 0 ? 0 : PhysicalMemory.pageAddress(pfn);
    }

    /**
     * {@code alloc_pages_node}: {@code nid < 0} means the node of the caller's CPU slot ({@code numa_node_id()}).
     * Other nodes are fallbacks unless {@link Gfp#THISNODE}. Returns the first pfn or -1.
     */
    public long allocPagesNode(final int gfp, final int order, final int nid) {
        return alloc.allocPagesNode(gfp, order, nid);
    }

    /** Makes reports ("Bad page state in process ...", warn_alloc) name {@code current}'s task; set at boot. */
    @InternalApi("org.mm4j")
    public void setCurrent(final Current current) {
        this.current = current;
    }

    /** Makes allocations that may invoke the OOM killer call {@code handler} (null: they fail). */
    public void setOomHandler(final OomHandler handler) {
        alloc.setOomHandler(handler);
    }

    // ------------------------------------------------------------------ debugging hooks (issue 16)

    /** {@code CONFIG_FAIL_PAGE_ALLOC}: installs fail_page_alloc (at boot, before any allocation). */
    @InternalApi("org.mm4j")
    public void failPageAlloc(final FailPageAlloc f) {
        this.failPageAlloc = f;
    }

    /** fail_page_alloc's knobs, or null when {@code CONFIG_FAIL_PAGE_ALLOC} is not set. */
    public FailPageAlloc failPageAlloc() {
        return failPageAlloc;
    }

    /** {@code page_owner=on}: installs page_owner (at boot, before any allocation). */
    @InternalApi("org.mm4j")
    public void pageOwner(final PageOwner p) {
        this.pageOwner = p;
    }

    /** The page_owner records, or null without {@code page_owner=on}. */
    public PageOwner pageOwner() {
        return pageOwner;
    }

    // ------------------------------------------------------------------ free (FreePages)

    /**
     * {@code __free_pages(page, order)}: drops the head page's reference; at zero the block is freed. Returns false
     * (after a "BUG: Bad page state" report) when the free is refused: a pfn outside memory, a tail page, an order
     * other than the allocation's, a reserved or slab page. A page already free (a second {@code __free_pages})
     * returns false too: as in Linux 6.18 without CONFIG_DEBUG_VM its refcount goes below zero and nothing is freed
     * or reported; with {@code mm4j.config.DEBUG_VM=y} it is {@code put_page_testzero}'s {@code VM_BUG_ON_PAGE}
     * report ({@link #vmBugReports()}).
     */
    public boolean freePages(final long pfn, final int order) {
        return free.freePages(pfn, order);
    }

    /**
     * {@link #freePages} for a caller that has not written the block since {@link #allocPages} handed it out (the
     * kmem replay, which only holds its blocks): a block handed out zeroed stays known to be zero on the free
     * lists, so a later {@link Gfp#ZERO} allocation of it need not write its bytes again (they are zero either
     * way). A caller that wrote the block must use {@link #freePages}.
     */
    public boolean freePagesUnwritten(final long pfn, final int order) {
        return free.freePages(pfn, order, true);
    }

    /** {@code free_pages(addr, order)}: {@link #freePages} by kernel virtual address. */
    public boolean freePagesAddr(final long kaddr, final int order) {
        return free.freePagesAddr(kaddr, order);
    }

    /** {@code __free_page}. */
    public boolean freePage(final long pfn) {
        return free.freePages(pfn, 0);
    }

    /** {@code get_page}: one more reference on the (compound) page holding {@code pfn}; returns the new count. */
    public int getPage(final long pfn) {
        return free.getPage(pfn);
    }

    /**
     * {@code put_page}: drops one reference on the (compound) page holding {@code pfn}; at zero it is freed with
     * its allocation order. Returns true when this call freed it.
     */
    public boolean putPage(final long pfn) {
        return free.putPage(pfn);
    }

    /** {@code page_count}: the refcount of the (compound) page holding {@code pfn}. */
    public int pageCount(final long pfn) {
        return mem.validPfn(pfn) ? memMap.refcount(memMap.compoundHead(pfn)) : -1;
    }

    /**
     * {@code split_page}: turns a non-compound order-{@code order} allocation into {@code 1 << order} order-0 pages,
     * each with refcount 1, to be freed one by one.
     */
    public void splitPage(final long pfn, final int order) {
        free.splitPage(pfn, order);
    }

    /**
     * {@code vm.stat_refresh}: runs every CPU's vmstat tick now ({@code refresh_cpu_vm_stats}), which decays
     * each per-CPU list's auto-tuned high and frees the pages above it.
     */
    public void statRefresh() {
        free.statRefresh();
    }

    // ------------------------------------------------------------------ the vmstat tick's clock

    /** {@link #traceClockNanos} when the vmstat tick runs on wall-clock time. */
    private static final long WALL_CLOCK = Long.MIN_VALUE;
    /**
     * The time the once-a-second vmstat tick ({@code vmstat_update}, which runs {@code decay_pcp_high}) is measured
     * in: {@link #WALL_CLOCK} for {@link System#nanoTime}, else a trace's clock in nanoseconds, set by the one thread
     * that replays the trace ({@link #startTraceClock}, {@link #advanceTraceClock}) and read by it when a per-CPU
     * list is refilled. A plain field: another thread allocating during a replay may see a stale time (its list's
     * tick runs a little early or late), which changes no invariant.
     */
    private long traceClockNanos = WALL_CLOCK;

    /** Now, on the vmstat tick's clock (nanoseconds): the trace's during a replay, else System.nanoTime. */
    long vmstatNow() {
        final long t = traceClockNanos;
        return t == WALL_CLOCK ? System.nanoTime() : t;
    }

    /**
     * Runs the vmstat tick ({@code decay_pcp_high} once a second per CPU list) on a trace's clock from now on,
     * starting at {@code nanos}: every list's last tick is set to that time, so what the wall clock did before
     * (boot, the JVM's speed) does not decide when the next tick comes. A replay of the same trace on the same boot
     * then ends with the same free lists, however fast it ran.
     */
    public void startTraceClock(final long nanos) {
        if (nanos == WALL_CLOCK) {
            throw new IllegalArgumentException("nanos=" + nanos + " (reserved for the wall clock)");
        }
        restartTicks(nanos);
        traceClockNanos = nanos;
    }

    /** Moves the trace's clock to {@code nanos}, never backwards (a trace's CPUs may print slightly out of order). */
    public void advanceTraceClock(final long nanos) {
        if (nanos > traceClockNanos) {
            traceClockNanos = nanos;
        }
    }

    /** Back to wall-clock time for the vmstat tick (the end of a replay); every list's next tick is a second away. */
    public void stopTraceClock() {
        traceClockNanos = WALL_CLOCK;
        restartTicks(System.nanoTime());
    }

    /** Whether the vmstat tick runs on a trace's clock ({@link #startTraceClock}). */
    public boolean traceClock() {
        return traceClockNanos != WALL_CLOCK;
    }

    private void restartTicks(final long nanos) {
        for (final Zone z : zones) {
            for (final Pcp p : z.pcp) {
                p.lock();
                try {
                    p.lastDecay = nanos;
                } finally {
                    p.unlock();
                }
            }
        }
    }

    /** {@code drain_pages_zone}: every page of one CPU's lists in one zone back to the buddy lists. */
    public void drainPagesZone(final int cpu, final Zone z) {
        free.drainPagesZone(cpu, z);
    }

    /** {@code drain_local_pages(NULL)}: the calling thread's CPU slot. */
    public void drainLocalPages() {
        final int cpu = cpus.current();
        for (final Zone z : zones) {
            free.drainPagesZone(cpu, z);
        }
    }

    /** {@code drain_all_pages(NULL)}: every CPU slot's lists in every zone. */
    public void drainAllPages() {
        free.drainAllPages();
    }

    // ------------------------------------------------------------------ deferred struct page init (MmInit)

    /**
     * Writes every struct page still deferred ({@code deferred_init_memmap}), as the kernel does before user space:
     * afterwards every free block is on a list. Validation and pfn walkers call it; allocation never needs to.
     */
    public void initDeferred() {
        init.initDeferred();
    }

    /** Pages whose struct pages are still deferred (free, counted, not yet written). */
    public long deferredPages() {
        return init.deferredPages();
    }

    /**
     * The pfn ranges still deferred, as {@code [start0, end0, start1, end1, ...]} in ascending order: a snapshot
     * for walkers of mem_map (a range only shrinks from its start, so a block outside a snapshot stays outside).
     */
    public long[] deferredRanges() {
        return init.deferredRanges();
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

    /** The allocator's share of /proc/vmstat ({@code fold_vm_zone_numa_events}, the zone counters). */
    private void foldVmstat(final long[] v) {
        long freePages = 0;
        long blocks = 0;
        for (final Zone z : zones) {
            freePages += z.freePages;
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
        v[VmStat.NR_FREE_PAGES] = freePages;
        v[VmStat.NR_FREE_PAGES_BLOCKS] = blocks;
        v[VmStat.NR_MEMMAP_BOOT_PAGES] = (memMap.nrPages() * MemMap.ENTRY_SIZE + PhysicalMemory.PAGE_SIZE - 1)
            >>> PhysicalMemory.PAGE_SHIFT;
        // global_dirty_limits: dirtyable = free + file pages - totalreserve; ratios 20 % and 10 %
        final long dirtyable = Math.max(0, freePages + v[VmStat.NR_INACTIVE_FILE] + v[VmStat.NR_ACTIVE_FILE]
            - wmarks.totalreservePages());
        v[VmStat.NR_DIRTY_THRESHOLD] = dirtyable * 20 / 100;
        v[VmStat.NR_DIRTY_BG_THRESHOLD] = dirtyable * 10 / 100;
    }

    // ------------------------------------------------------------------ validation (BuddyValidate)

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
        return validator.validate();
    }

    /** {@link #validate()} that throws {@link IllegalStateException} listing the violations. */
    public void checkInvariants() {
        validator.checkInvariants();
    }
}
