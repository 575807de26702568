package org.mm4j.page;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.jfr.MmEvents;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static org.mm4j.page.Watermarks.ALLOC_CPUSET;
import static org.mm4j.page.Watermarks.ALLOC_HIGHATOMIC;
import static org.mm4j.page.Watermarks.ALLOC_KSWAPD;
import static org.mm4j.page.Watermarks.ALLOC_MIN_RESERVE;
import static org.mm4j.page.Watermarks.ALLOC_NOFRAGMENT;
import static org.mm4j.page.Watermarks.ALLOC_NON_BLOCK;
import static org.mm4j.page.Watermarks.ALLOC_NO_WATERMARKS;
import static org.mm4j.page.Watermarks.ALLOC_WMARK_LOW;
import static org.mm4j.page.Watermarks.ALLOC_WMARK_MASK;
import static org.mm4j.page.Watermarks.ALLOC_WMARK_MIN;

/**
 * The allocation path of {@code mm/page_alloc.c} above the free lists: {@code __alloc_pages} (fast pass at the
 * low watermark), {@code get_page_from_freelist} over the zonelist, {@code __alloc_pages_slowpath} (min watermark
 * with the reserve rights of {@code gfp_to_alloc_flags}, the drain-and-retry that is all the model has of direct
 * reclaim, the OOM killer, {@code __GFP_NOFAIL}'s reserves, {@code warn_alloc}), {@code prep_new_page}, and the
 * high-atomic pageblock reserve ({@code reserve_highatomic_pageblock}, {@code unreserve_highatomic_pageblock}).
 * Taking a block off the lists is {@link Rmqueue}'s.
 *
 * <p>Error convention (the kernel's): no page is a result of -1 (the model's NULL pfn: pfn 0 is a real, reserved
 * page) after {@code warn_alloc}'s report unless {@link Gfp#NOWARN}; nothing here throws for exhaustion.
 *
 * <p>State owned here: {@code zeroed}, one bit per page (see {@link #prepNewPage}), updated lock-free.
 * Locks: none held on entry; the zone lock is taken for the high-atomic reserve and by {@link Rmqueue}; the
 * pcp lock by {@link Rmqueue#rmqueuePcplist}.
 */
final class PageAlloc {
    private static final VarHandle ZEROED = MethodHandles.arrayElementVarHandle(long[].class);

    private final BuddyAllocator buddy;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final CpuSlots cpus;
    private final BuddyAllocator.Options opts;
    private final Zone[][] zonelist;
    private final int nrNodes;
    /**
     * One bit per page: the page's bytes are known to be all zero. Set for every page at boot: a page the allocator
     * has not handed out since boot still holds the zeros of the fresh reservation (nothing writes a page nobody
     * owns; the Arena fallback zeroes everything at boot). Set for a block handed out zeroed, cleared when a block
     * is freed by an owner that may have written it ({@link #clearZeroed}); kept by a free that says the block was
     * not written ({@link BuddyAllocator#freePagesUnwritten}). Read only for a free block being handed out, so a
     * bit of a block in an owner's hands may be stale: nothing reads it then. So {@code __GFP_ZERO} and
     * {@code init_on_alloc} write no page that was never handed out, and a zeroed allocation that is never used
     * costs no resident memory (a 5 M-event kmem replay's {@code __GFP_ZERO} page events no longer fault in and
     * zero ~30,000 host pages that nothing reads). The price is that of the kernel's {@code init_on_free} (which
     * also skips zeroing at allocation): a stray write into memory nobody owns is not wiped.
     */
    private final long[] zeroed;
    private volatile BuddyAllocator.OomHandler oomHandler;

    PageAlloc(final BuddyAllocator buddy) {
        this.buddy = buddy;
        this.mem = buddy.mem;
        this.memMap = buddy.memMap;
        this.cpus = buddy.cpus;
        this.opts = buddy.opts;
        this.zonelist = buddy.zonelist;
        this.nrNodes = buddy.nrNodes;
        this.zeroed = new long[(int) ((mem.totalPages() + 63) >>> 6)];
        Arrays.fill(zeroed, -1L);  // every page holds the fresh reservation's zeros (see zeroed)
    }

    void setOomHandler(final BuddyAllocator.OomHandler handler) {
        this.oomHandler = handler;
    }

    /** {@code alloc_pages_node} / {@code __alloc_pages}: see {@link BuddyAllocator#allocPagesNode}. */
    long allocPagesNode(final int gfp, final int order, final int nid) {
        if (order < 0 || order > Zone.MAX_PAGE_ORDER || nid >= nrNodes) {
            if ((gfp & Gfp.NOWARN) == 0) {
                buddy.log.printk("WARNING: %s: alloc_pages_node with order:%d nid:%d (expected: order 0 to %d, "
                    + "nid < %d)", ShowMem.comm(buddy), order, nid, Zone.MAX_PAGE_ORDER, nrNodes);
            }
            return -1;
        }
        final FailPageAlloc fail = buddy.failPageAlloc;
        if (fail != null && fail.shouldFailAllocPage(gfp, order)) {  // prepare_alloc_pages: should_fail_alloc_page
            return -1;
        }
        final int cpu = cpus.current();
        final int prefNid = nid >= 0 ? nid : buddy.cpuToNode(cpu);
        final int highest = gfpZone(gfp);
        final int mt = buddy.mobilityDisabled ? MigrateType.UNMOVABLE : Gfp.migratetype(gfp);
        int allocFlags = ALLOC_WMARK_LOW | (gfp & Gfp.KSWAPD_RECLAIM);
        allocFlags |= allocFlagsNofragment(prefNid, highest);
        long pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
        if (pfn < 0) {
            pfn = allocPagesSlowpath(gfp, order, prefNid, highest, mt, cpu);
        }
        return pfn;
    }

    /**
     * {@code GFP_ZONE_TABLE} of {@code include/linux/gfp.h} with ZONE_DMA and ZONE_DMA32 configured and no
     * highmem: two bits per combination of __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32 and __GFP_MOVABLE (the low four
     * gfp bits, as in the kernel) name the highest zone it may use. __GFP_HIGHMEM means ZONE_NORMAL
     * ({@code OPT_ZONE_HIGHMEM}), __GFP_HIGHMEM|__GFP_MOVABLE ZONE_MOVABLE. The combinations of
     * {@code GFP_ZONE_BAD} (two zone modifiers at once) hold 0, ZONE_DMA: without CONFIG_DEBUG_VM the kernel's
     * {@code VM_BUG_ON} is compiled out and the table's 0 is used.
     */
    static final int GFP_ZONE_TABLE = Zone.ZONE_NORMAL
        | Zone.ZONE_DMA << (Gfp.DMA * 2)
        | Zone.ZONE_NORMAL << (Gfp.HIGHMEM * 2)
        | Zone.ZONE_DMA32 << (Gfp.DMA32 * 2)
        | Zone.ZONE_NORMAL << (Gfp.MOVABLE * 2)
        | Zone.ZONE_DMA << ((Gfp.MOVABLE | Gfp.DMA) * 2)
        | Zone.ZONE_MOVABLE << ((Gfp.MOVABLE | Gfp.HIGHMEM) * 2)
        | Zone.ZONE_DMA32 << ((Gfp.MOVABLE | Gfp.DMA32) * 2);
    /** {@code GFP_ZONEMASK}: the four zone modifier bits. */
    static final int GFP_ZONEMASK = Gfp.DMA | Gfp.HIGHMEM | Gfp.DMA32 | Gfp.MOVABLE;

    /** {@code gfp_zone}: the highest zone type a request may use, from {@link #GFP_ZONE_TABLE}. */
    static int gfpZone(final int gfp) {
        return GFP_ZONE_TABLE >>> ((gfp & GFP_ZONEMASK) * 2) & 3;
    }

    /**
     * Whether zone {@code z} may serve a request limited to zone type {@code highest}
     * ({@code for_next_zone_zonelist_nodemask}: zones of index up to {@code highest_zoneidx}).
     */
    private static boolean zoneAllowed(final Zone z, final int highest) {
        return z.type <= highest;
    }

    /**
     * {@code alloc_flags_nofragment}: with CONFIG_ZONE_DMA32, a request whose preferred zone (the first of the
     * zonelist it may use) is ZONE_NORMAL avoids fragmenting it while the node's DMA32 zone has memory (on a
     * single node the kernel assumes DMA32 is populated when Normal is).
     */
    private int allocFlagsNofragment(final int prefNid, final int highest) {
        Zone preferred = null;
        for (final Zone z : zonelist[prefNid]) {
            if (zoneAllowed(z, highest)) {
                preferred = z;
                break;
            }
        }
        if (preferred == null || preferred.type != Zone.ZONE_NORMAL) {
            return 0;
        }
        final Zone dma32 = buddy.zoneAt(preferred.nid, Zone.ZONE_DMA32);
        if (nrNodes > 1 && (dma32 == null || dma32.managedPages == 0)) {
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

    /** {@code __alloc_pages_slowpath}. */
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
            // do_try_to_free_pages: __count_zid_vm_events(ALLOCSTALL, sc->reclaim_idx = gfp_zone(gfp), 1)
            buddy.vmstat.inc(VmStat.ALLOCSTALL + highest);
            unreserveHighatomicPageblock(prefNid, highest, mt, false);
            buddy.free.drainAllPages();
            pfn = getPageFromFreelist(gfp, order, allocFlags, prefNid, highest, mt, cpu);
            if (pfn >= 0) {
                return pfn;
            }
            // __alloc_pages_may_oom: the OOM killer frees a process's memory, then the allocation is retried
            final BuddyAllocator.OomHandler oom = oomHandler;
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
            buddy.showMem.warnAlloc(gfp, order, highest);
        }
        MmEvents.pageAllocFailure(buddy.log.kernelId(), order, gfp, Gfp::describe, buddy.freePages());  // JFR
        return -1;
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
                    if (Watermarks.zoneWatermarkFast(z, order, z.watermark[Zone.WMARK_HIGH], highest, allocFlags)) {
                        ok = true;
                    } else {
                        z.belowHigh = true;
                    }
                }
                if (!ok) {
                    final long mark = z.watermark[allocFlags & ALLOC_WMARK_MASK];
                    if (!Watermarks.zoneWatermarkFast(z, order, mark, highest, allocFlags)
                        && (allocFlags & ALLOC_NO_WATERMARKS) == 0) {
                        continue;
                    }
                }
                final long pfn = buddy.rmqueue.rmqueue(preferred, z, order, allocFlags, mt, cpu);
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
        final FreeArea area = buddy.area;
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
                area.moveFreepagesBlockLocked(z, start, MigrateType.HIGHATOMIC);
                area.setPageblockMigratetype(z, start, MigrateType.HIGHATOMIC);
                z.nrReservedHighatomic += Zone.PAGEBLOCK_NR_PAGES;
            } else {
                area.changePageblockRange(z, pfn, order, MigrateType.HIGHATOMIC);
                z.nrReservedHighatomic += 1L << order;
            }
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code unreserve_highatomic_pageblock}: give reserved high-atomic blocks back to {@code mt}. */
    private boolean unreserveHighatomicPageblock(final int prefNid, final int highest, final int mt,
                                                 final boolean force) {
        final FreeArea area = buddy.area;
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
                        area.moveFreepagesBlockLocked(z, start, mt);
                        area.setPageblockMigratetype(z, start, mt);
                    } else {
                        area.moveToFreeList(z, pfn, order, MigrateType.HIGHATOMIC, mt);
                        area.changePageblockRange(z, pfn, order, mt);
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
            prepCompoundTails(pfn, 1L << order);
        } else {
            memMap.soFlags(pfn, 0);
        }
        final PageOwner owner = buddy.pageOwner;
        if (owner != null) {
            owner.setPageOwner(pfn, order, gfp);  // post_alloc_hook: set_page_owner
        }
        if (((gfp & Gfp.ZERO) != 0 || opts.initOnAlloc()) && !opts.initOnFree()) {
            // a block already all zero (never handed out, or freed unwritten after a zeroed handout) needs no
            // writing, and its bits are set already; a block written here is now known zero. (Its bits are set only
            // after a write: setting them on every handout made that path rare once pages start known zero, and
            // C2 compiled it as a trap that recompiled the allocation path in every 5 M-event replay.)
            if (!allZeroed(pfn, order)) {
                mem.fill(PhysicalMemory.pfnToPhys(pfn), (long) PhysicalMemory.PAGE_SIZE << order, (byte) 0);
                markZeroed(pfn, order, true);
            }
        }
        // any other block keeps its bits: each says what is true of its page until a writer frees it
    }

    /**
     * {@code prep_compound_tail} for pages 1 to {@code n - 1} of the block at {@code head}. A method of its own so
     * that the JIT's on-stack-replacement compile this loop gets (it runs every compound allocation) is of these
     * few lines, not of the whole of {@link #prepNewPage} a second time.
     */
    private void prepCompoundTails(final long head, final long n) {
        for (long i = 1; i < n; i++) {
            memMap.privateWord(head + i, head);
            memMap.soFlags(head + i, MemMap.PG_TAIL);
        }
    }

    /** The bits of {@code zeroed} a block of {@code order} at {@code pfn} has in its word (orders up to 6). */
    private static long zeroedMask(final long pfn, final int order) {
        return (order >= 6 ? -1L : (1L << (1 << order)) - 1) << (pfn & 63);
    }

    /**
     * Whether every page of the block is known to be all zero. A block of order 6 or less (buddy blocks are
     * aligned to their size) lies in one word of {@code zeroed}: one test, no loop. A loop here, run once per
     * handout, made C2 compile the allocation path three times in a 5 M-event replay (its loop-limit predicate
     * failed once per loop and forced a recompilation); the loop is now only for blocks above order 6.
     */
    private boolean allZeroed(final long pfn, final int order) {
        assert (pfn & (1L << order) - 1) == 0 : "pfn " + pfn + " not aligned to order " + order;
        final int first = (int) (pfn >>> 6);
        if (order <= 6) {
            final long mask = zeroedMask(pfn, order);
            return (lpZeroed(first) & mask) == mask;
        }
        for (int k = 0, words = 1 << order - 6; k < words; k++) {
            if (lpZeroed(first + k) != -1L) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sets (the block is all zero) or clears the block's bits of {@code zeroed}, atomically per word (one word for
     * a block of order 6 or less, as in {@link #allZeroed}).
     */
    private void markZeroed(final long pfn, final int order, final boolean zero) {
        assert (pfn & (1L << order) - 1) == 0 : "pfn " + pfn + " not aligned to order " + order;
        final int first = (int) (pfn >>> 6);
        if (order <= 6) {
            markZeroedWord(first, zeroedMask(pfn, order), zero);
            return;
        }
        for (int k = 0, words = 1 << order - 6; k < words; k++) {
            markZeroedWord(first + k, -1L, zero);
        }
    }

    private void markZeroedWord(final int w, final long mask, final boolean zero) {
        if (zero) {
            if ((lpZeroed(w) & mask) != mask) {
                ZEROED.getAndBitwiseOr(zeroed, w, mask);
            }
        } else if ((lpZeroed(w) & mask) != 0) {
            ZEROED.getAndBitwiseAnd(zeroed, w, ~mask);
        }
    }

    /**
     * A block is being freed by an owner that may have written it: its pages are no longer known to be zero
     * ({@code free_pages_prepare}; the block is still the freeing owner's, so no allocation reads these bits now).
     */
    void clearZeroed(final long pfn, final int order) {
        markZeroed(pfn, order, false);
    }

    /** Plain read of one word of {@code zeroed}: a bit of a block being handed out changed before the free lists' lock. */
    private long lpZeroed(final int word) {
        return zeroed[word];
    }
}
