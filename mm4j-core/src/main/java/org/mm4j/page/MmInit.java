package org.mm4j.page;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Boot of the page allocator, after {@code mm/mm_init.c} and {@code build_all_zonelists}: zones per node
 * ({@code free_area_init}), zonelists, the first free of all memory ({@code memblock_free_all}) and deferred
 * struct page init ({@code CONFIG_DEFERRED_STRUCT_PAGE_INIT}, {@code deferred_init_memmap}).
 *
 * <p>Deferred init: {@code [z.deferredPfn, z.deferredEnd)} are whole MAX_PAGE_ORDER blocks of type
 * {@code z.deferredMt} counted as free (in every counter) whose struct pages are not written yet; they stand, in
 * ascending order, at the tail of that order's list, so that list is never empty while any remain. A block's
 * struct page is written when the allocator reaches it ({@link #initDeferredBlock}), when something must be queued
 * behind them ({@link #initDeferredLocked}), or on request ({@link #initDeferred()}).
 *
 * <p>Locks: the {@code *Locked} methods and {@link #initDeferredBlock} need the zone lock (asserted); the others
 * take it (it is reentrant, so a holder may call them). {@code deferredPfn}/{@code deferredEnd} are volatile for
 * the lock-free "is anything deferred" checks; a range only shrinks from its start.
 */
final class MmInit {
    /**
     * Pages of each zone whose struct pages boot writes at once: the first memory section (128 MiB on x86-64),
     * as {@code defer_init()} keeps the first section of a node.
     */
    static final long DEFERRED_EAGER_PAGES = (128L << 20) >>> PhysicalMemory.PAGE_SHIFT;

    private final BuddyAllocator buddy;
    private final FreeArea area;

    MmInit(final BuddyAllocator buddy, final FreeArea area) {
        this.buddy = buddy;
        this.area = area;
    }

    /**
     * {@code free_area_init} with x86-64's {@code zone_sizes_init} limits: each node's memory split at
     * {@code MAX_DMA_PFN} (ZONE_DMA below) and {@code MAX_DMA32_PFN} (ZONE_DMA32 below, ZONE_NORMAL above). A zone
     * a node has no memory for is not created (the kernel keeps it with {@code present_pages == 0}:
     * {@code populated_zone()} is false, so the /proc views that walk populated zones skip it and zoneinfo prints
     * its zeros). Departure, named: the model's DMA zone spans pfn 0 to 4095 with only pfn 0 reserved, where a PC
     * has its BIOS and ISA holes there ({@code start_pfn: 1}, {@code present} below {@code spanned}).
     */
    static Zone[] createZones(final PhysicalMemory mem, final BuddyAllocator.Options opts) {
        final long[] limits = zoneLimits(opts);
        final List<Zone> zs = new ArrayList<>();
        for (int nid = 0; nid < mem.nrNodes(); nid++) {
            final long start = mem.nodeStartPfn(nid);
            final long end = start + mem.nodePages();
            long lo = 0;
            for (int type = Zone.ZONE_DMA; type <= Zone.ZONE_NORMAL; type++) {
                final long zStart = Math.max(start, lo);
                final long zEnd = Math.min(end, limits[type]);
                if (zStart < zEnd) {
                    zs.add(new Zone(nid, type, zStart, zEnd));
                }
                lo = limits[type];
            }
        }
        return zs.toArray(new Zone[0]);
    }

    /** {@code max_zone_pfns[]} of {@code zone_sizes_init}: the end pfn of DMA, DMA32 and Normal. */
    private static long[] zoneLimits(final BuddyAllocator.Options opts) {
        return new long[] {opts.dmaLimitPfn(), opts.dma32LimitPfn(), Long.MAX_VALUE};
    }

    /**
     * {@code free_area_init}'s "Zone ranges:" report: per zone type but Movable the range over all nodes
     * ({@code arch_zone_lowest_possible_pfn} to {@code arch_zone_highest_possible_pfn}), or "empty".
     */
    static void printZoneRanges(final org.mm4j.base.KernelLog log, final PhysicalMemory mem,
                                final BuddyAllocator.Options opts) {
        final long[] limits = zoneLimits(opts);
        final long maxPfn = mem.totalPages();
        final StringBuilder sb = new StringBuilder("Zone ranges:");
        long lo = 0;
        for (int type = 0; type < Zone.MAX_NR_ZONES; type++) {
            if (type == Zone.ZONE_MOVABLE) {
                continue;
            }
            final long hi = type <= Zone.ZONE_NORMAL ? Math.min(maxPfn, limits[type]) : lo;
            sb.append(String.format("\n  %-8s ", Zone.ZONE_NAMES[type]));
            if (lo >= hi) {
                sb.append("empty");
            } else {
                sb.append(String.format("[mem %#018x-%#018x]", lo << PhysicalMemory.PAGE_SHIFT,
                    (hi << PhysicalMemory.PAGE_SHIFT) - 1));
            }
            lo = Math.max(lo, hi);
        }
        log.printk(sb.toString());
    }

    /** {@code build_zonelists}: per node its own zones from the highest type down, then the next nodes'. */
    static Zone[][] buildZonelists(final Zone[][] byNodeType) {
        final int nrNodes = byNodeType.length;
        final Zone[][] lists = new Zone[nrNodes][];
        for (int nid = 0; nid < nrNodes; nid++) {
            final List<Zone> l = new ArrayList<>();
            for (int i = 0; i < nrNodes; i++) {
                final int n = (nid + i) % nrNodes;
                for (int t = Zone.MAX_NR_ZONES - 1; t >= 0; t--) {
                    final Zone z = byNodeType[n][t];
                    if (z != null) {
                        l.add(z);
                    }
                }
            }
            lists[nid] = l.toArray(new Zone[0]);
        }
        return lists;
    }

    /**
     * {@code memblock_free_all}: every page of {@code z} but pfn 0 onto the free lists as the largest aligned
     * blocks, the first section's struct pages written now and the rest deferred.
     */
    void freeAllMemory(final Zone z, final int initialMt) {
        Arrays.fill(z.pageblockMt, (byte) initialMt);
        z.lock.lock();
        try {
            final long maxBlock = 1L << Zone.MAX_PAGE_ORDER;
            final long eagerEnd = Math.min(z.endPfn, (z.startPfn + DEFERRED_EAGER_PAGES + maxBlock - 1) & -maxBlock);
            final long deferredEnd = z.endPfn & -maxBlock;
            long pfn = Math.max(z.startPfn, 1);
            while (pfn < z.endPfn) {
                if (pfn == eagerEnd && eagerEnd < deferredEnd) {
                    deferBlocksLocked(z, eagerEnd, deferredEnd, initialMt);
                    pfn = deferredEnd;
                    continue;
                }
                int order = Math.min(Long.numberOfTrailingZeros(pfn), Zone.MAX_PAGE_ORDER);
                while (pfn + (1L << order) > z.endPfn) {
                    order--;
                }
                buddy.free.splitLargeBuddyLocked(z, pfn, order, true);
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

    /**
     * Counts {@code [start, end)} (whole MAX_PAGE_ORDER blocks) as free blocks of type {@code mt} without writing
     * their struct pages (zone lock held, boot). Departure from Linux, named: the kernel defers only the highest
     * zone of each node and finishes the rest in {@code page_alloc_init_late} before user space runs; mm4j defers in
     * every zone and writes a block's struct page only when the allocator reaches it (or {@link #initDeferred()}
     * is asked), so boot time and resident memory do not grow with {@code mem=}. What the allocator hands out, in
     * which order, and every counter are the same as with all struct pages written at boot.
     */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the zone lock; volatile for the lock-free readers of /proc and watermarks
    private static void deferBlocksLocked(final Zone z, final long start, final long end, final int mt) {
        assert z.lock.isHeldByCurrentThread() : "deferring blocks without the zone lock: " + z;
        final long blocks = (end - start) >>> Zone.MAX_PAGE_ORDER;
        z.deferredMt = mt;
        z.deferredPfn = start;
        z.deferredEnd = end;
        FreeArea.accountFreepages(z, end - start, mt);
        z.freeCount[Zone.MAX_PAGE_ORDER][mt] += blocks;
        z.nrFree[Zone.MAX_PAGE_ORDER] += blocks;
        z.freeBlocksPages += end - start;
    }

    /** Writes the struct page of the next deferred block, queueing it at its list's tail (zone lock held). */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the zone lock; volatile for the lock-free readers of /proc and watermarks
    void initDeferredBlock(final Zone z) {
        assert z.lock.isHeldByCurrentThread() : "deferred init without the zone lock: " + z;
        final long pfn = z.deferredPfn;
        final int mt = z.deferredMt;
        z.deferredPfn = pfn + (1L << Zone.MAX_PAGE_ORDER);
        // it was counted at boot: take it out of the counters, then queue it as any free block
        z.freeCount[Zone.MAX_PAGE_ORDER][mt]--;
        z.nrFree[Zone.MAX_PAGE_ORDER]--;
        z.freeBlocksPages -= 1L << Zone.MAX_PAGE_ORDER;
        area.linkFreeUnchecked(z, pfn, Zone.MAX_PAGE_ORDER, mt, true);
    }

    /** {@code deferred_init_memmap} of one zone (zone lock held): every deferred block onto its list. */
    void initDeferredLocked(final Zone z) {
        final long t0 = System.nanoTime();
        final long pages = z.deferredEnd - z.deferredPfn;
        while (z.deferredPfn < z.deferredEnd) {
            initDeferredBlock(z);
        }
        buddy.log.printk("node %d zone %s: %d deferred pages initialised in %dms", z.nid, z.name, pages,
            (System.nanoTime() - t0) / 1_000_000);
    }

    /** Every zone's deferred struct pages ({@link BuddyAllocator#initDeferred()}). */
    void initDeferred() {
        for (final Zone z : buddy.zones) {
            initDeferred(z);
        }
    }

    /** Writes the deferred struct pages of {@code z}, taking its lock (reentrant: a holder may call it). */
    void initDeferred(final Zone z) {
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

    /** Makes the struct page of {@code pfn} real when it is still deferred (before a dump or check reads it). */
    void initDeferredAt(final long pfn) {
        for (final Zone z : buddy.zones) {
            if (pfn >= z.deferredPfn && pfn < z.deferredEnd) {
                initDeferred(z);  // only this zone's lock: a caller may hold it already; no other zone's is taken
                return;
            }
        }
    }

    /** Pages whose struct pages are still deferred (free, counted, not yet written). */
    long deferredPages() {
        long n = 0;
        for (final Zone z : buddy.zones) {
            n += Math.max(0, z.deferredEnd - z.deferredPfn);
        }
        return n;
    }

    /** The deferred pfn ranges as {@code [start0, end0, start1, end1, ...]} ({@link BuddyAllocator#deferredRanges}). */
    long[] deferredRanges() {
        final Zone[] zones = buddy.zones;
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
}
