package org.mm4j.page;

import static org.mm4j.page.Watermarks.ALLOC_HIGHATOMIC;
import static org.mm4j.page.Watermarks.ALLOC_NOFRAGMENT;
import static org.mm4j.page.Watermarks.ALLOC_NON_BLOCK;
import static org.mm4j.page.Watermarks.ALLOC_OOM;

/**
 * Taking a block off the lists, {@code rmqueue} of {@code mm/page_alloc.c}: the CPU slot's per-CPU list for
 * orders up to PAGE_ALLOC_COSTLY_ORDER ({@code rmqueue_pcplist}, refilled by {@code rmqueue_bulk} with
 * {@code nr_pcp_alloc} blocks), else the zone's free lists ({@code rmqueue_buddy}); there {@code __rmqueue} tries
 * the preferred migratetype ({@code __rmqueue_smallest}), then claims a whole fallback pageblock
 * ({@code __rmqueue_claim}, {@code try_to_claim_block}), then steals one block ({@code __rmqueue_steal}), and
 * high-atomic requests may use the high-atomic reserve.
 *
 * <p>Locks: the pcp lock is taken with a try-lock (a busy one sends the request to the zone lists, counted in
 * {@link BuddyAllocator#pcpTrylockFailures()}); under it the zone lock is taken for a refill (lock order: pcp,
 * then zone). The {@code *Locked} methods need the zone lock, held by the caller (asserted).
 * {@code zone->rmqueueMode} lives across one {@code rmqueue_bulk} under the zone lock.
 *
 * <p>Hot path (a pcp hit): one pcp CAS, no zone lock, nothing allocated on the Java heap.
 */
final class Rmqueue {
    private static final int RMQUEUE_NORMAL = 0;
    private static final int RMQUEUE_CLAIM = 2;
    private static final int RMQUEUE_STEAL = 3;
    private static final long VMSTAT_INTERVAL_NANOS = 1_000_000_000L;

    private final BuddyAllocator buddy;
    private final MemMap memMap;
    private final FreeArea area;

    Rmqueue(final BuddyAllocator buddy, final FreeArea area) {
        this.buddy = buddy;
        this.memMap = buddy.memMap;
        this.area = area;
    }

    /** {@code rmqueue}: pcp lists for orders up to PAGE_ALLOC_COSTLY_ORDER, else (or if busy) the buddy lists. */
    long rmqueue(final Zone preferred, final Zone z, final int order, final int allocFlags, final int mt,
                 final int cpu) {
        if (order <= Zone.PAGE_ALLOC_COSTLY_ORDER) {
            final long pfn = rmqueuePcplist(preferred, z, order, mt, allocFlags, cpu);
            if (pfn >= 0) {
                return pfn;
            }
        }
        return rmqueueBuddy(preferred, z, order, allocFlags, mt, cpu);
    }

    /** {@code rmqueue_pcplist}: -1 when the pcp lock is busy or no block could be had. */
    long rmqueuePcplist(final Zone preferred, final Zone z, final int order, final int mt, final int allocFlags,
                        final int cpu) {
        final Pcp pcp = z.pcp[cpu];
        if (!pcp.tryLock()) {
            buddy.pcpTrylockFailed();
            return -1;
        }
        try {
            pcp.freeCount >>= 1;
            final int pindex = Pcp.pindex(mt, order);
            if (pcp.head(pindex) < 0 && !refillLocked(z, pcp, order, pindex, mt, allocFlags)) {
                return -1;
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
            if (z.nid == buddy.cpuToNode(cpu)) {
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
     * The empty list {@code pindex} of {@code pcp} refilled from the buddy lists (pcp lock held), after this CPU's
     * vmstat tick when a second has passed; false when the zone had nothing. A method of its own, called once per
     * batch: the tick's branch, never taken in a short run (the AOT cache's training replay covers under a second of
     * trace time), is an uncommon trap in C2's code, and when a long replay's first tick takes it, only this small
     * method is thrown away and compiled again, not the allocation path around it.
     */
    private boolean refillLocked(final Zone z, final Pcp pcp, final int order, final int pindex, final int mt,
                                 final int allocFlags) {
        assert pcp.isHeldByCurrentThread() : "rmqueue_bulk refill without the pcp lock";
        final long now = buddy.vmstatNow();
        if (now - pcp.lastDecay >= VMSTAT_INTERVAL_NANOS) {
            // the once-a-second vmstat_update of this CPU, run where the CPU next needs its list
            pcp.lastDecay = now;
            buddy.free.decayPcpHigh(z, pcp);
        }
        final int batch = nrPcpAlloc(pcp, z, order);
        final int alloced = rmqueueBulk(z, order, batch, pcp, pindex, mt, allocFlags);
        pcp.count += alloced << order;
        return pcp.head(pindex) >= 0;
    }

    /** {@code nr_pcp_alloc} (pcp lock held): how many blocks to take from the buddy lists for an empty list. */
    private static int nrPcpAlloc(final Pcp pcp, final Zone z, final int order) {
        assert pcp.isHeldByCurrentThread() : "nr_pcp_alloc without the pcp lock";
        final int baseBatch = pcp.batch;
        int high = pcp.high = Watermarks.clamp(pcp.high, pcp.highMin, pcp.highMax);
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

    /**
     * {@code rmqueue_bulk} (pcp lock held): {@code count} blocks under one hold of the zone lock, appended in pfn
     * order.
     */
    private int rmqueueBulk(final Zone z, final int order, final int count, final Pcp pcp, final int pindex,
                            final int mt, final int allocFlags) {
        assert pcp.isHeldByCurrentThread() : "rmqueue_bulk without the pcp lock";
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

    /** {@code rmqueue_buddy}: one block from the zone's lists, the high-atomic reserve for those allowed it. */
    private long rmqueueBuddy(final Zone preferred, final Zone z, final int order, final int allocFlags,
                              final int mt, final int cpu) {
        long pfn = -1;
        z.lock.lock();
        try {
            if ((allocFlags & ALLOC_HIGHATOMIC) != 0) {
                pfn = rmqueueSmallestLocked(z, order, MigrateType.HIGHATOMIC);
            }
            if (pfn < 0) {
                z.rmqueueMode = RMQUEUE_NORMAL;
                pfn = rmqueueLocked(z, order, mt, allocFlags);
                if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK)) != 0) {
                    pfn = rmqueueSmallestLocked(z, order, MigrateType.HIGHATOMIC);
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
            z.events[z.nid == buddy.cpuToNode(cpu) ? Zone.EV_NUMA_LOCAL : Zone.EV_NUMA_OTHER]++;
            return pfn;
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code __rmqueue} (zone lock held): preferred list, then claim a fallback block, then steal. */
    private long rmqueueLocked(final Zone z, final int order, final int mt, final int allocFlags) {
        assert z.lock.isHeldByCurrentThread() : "__rmqueue without the zone lock: " + z;
        long pfn;
        switch (z.rmqueueMode) {
            case RMQUEUE_NORMAL:
                pfn = rmqueueSmallestLocked(z, order, mt);
                if (pfn >= 0) {
                    return pfn;
                }
                // fall through
            case RMQUEUE_CLAIM:
                pfn = rmqueueClaimLocked(z, order, mt, allocFlags);
                if (pfn >= 0) {
                    z.rmqueueMode = RMQUEUE_NORMAL;
                    return pfn;
                }
                // fall through
            default:
                if ((allocFlags & ALLOC_NOFRAGMENT) == 0) {
                    pfn = rmqueueStealLocked(z, order, mt);
                    if (pfn >= 0) {
                        z.rmqueueMode = RMQUEUE_STEAL;
                        return pfn;
                    }
                }
                return -1;
        }
    }

    /** {@code __rmqueue_smallest} (zone lock held): the smallest block of {@code mt} of at least the order. */
    private long rmqueueSmallestLocked(final Zone z, final int order, final int mt) {
        assert z.lock.isHeldByCurrentThread() : "__rmqueue_smallest without the zone lock: " + z;
        for (int o = order; o < Zone.NR_PAGE_ORDERS; o++) {
            final long pfn = z.freeHead[o][mt];
            if (pfn < 0) {
                continue;
            }
            area.pageDelAndExpand(z, pfn, order, o, mt);
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
        return buddy.mobilityDisabled;
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

    /**
     * {@code __rmqueue_claim} (zone lock held): the largest fallback block, claimed for {@code startMt} when
     * enough of it is free.
     */
    private long rmqueueClaimLocked(final Zone z, final int order, final int startMt, final int allocFlags) {
        assert z.lock.isHeldByCurrentThread() : "__rmqueue_claim without the zone lock: " + z;
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

    /** {@code try_to_claim_block} (zone lock held). */
    private long tryToClaimBlock(final Zone z, final long pfn, final int currentOrder, final int order,
                                 final int startType, final int blockType) {
        if (currentOrder >= Zone.PAGEBLOCK_ORDER) {
            area.delFromFreeList(z, pfn, currentOrder, blockType);
            area.changePageblockRange(z, pfn, currentOrder, startType);
            final long added = area.expand(z, pfn, order, currentOrder, startType);
            FreeArea.accountFreepages(z, added, startType);
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
        if (freePages + alikePages >= (1 << (Zone.PAGEBLOCK_ORDER - 1)) || buddy.mobilityDisabled) {
            area.moveFreepagesBlockLocked(z, start, startType);
            area.setPageblockMigratetype(z, start, startType);
            return rmqueueSmallestLocked(z, order, startType);
        }
        return -1;
    }

    /** {@code __rmqueue_steal} (zone lock held): one block of a fallback type, its pageblock's type unchanged. */
    private long rmqueueStealLocked(final Zone z, final int order, final int startMt) {
        assert z.lock.isHeldByCurrentThread() : "__rmqueue_steal without the zone lock: " + z;
        for (int co = order; co < Zone.NR_PAGE_ORDERS; co++) {
            final int fmt = findSuitableFallback(z, co, startMt, false);
            if (fmt == -1) {
                continue;
            }
            final long pfn = z.freeHead[co][fmt];
            area.pageDelAndExpand(z, pfn, order, co, fmt);
            return pfn;
        }
        return -1;
    }
}
