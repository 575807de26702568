package org.mm4j.page;

/**
 * The free-list primitives of {@code mm/page_alloc.c} over a {@link Zone}'s {@code free_area[]}: queueing and
 * unlinking free blocks ({@code __add_to_free_list}, {@code __del_page_from_free_list}), NR_FREE_PAGES accounting
 * ({@code account_freepages}), splitting ({@code expand}, {@code page_del_and_expand}) and pageblock migratetype
 * changes ({@code __move_freepages_block}, {@code set_pageblock_migratetype}).
 *
 * <p>Invariants kept here: a queued block's head page is PG_buddy with its migratetype in the flags and
 * {@code private == order}; {@code freeCount[o][mt]}, {@code nrFree[o]} and {@code freeBlocksPages} follow every
 * link and unlink; {@code freePages}/{@code nrFreeHighatomic} follow {@link #accountFreepages} (isolated blocks
 * are not counted). An unlinked head page has flags 0, {@code private} 0 and no links.
 *
 * <p>Locks: every method needs the zone's lock, held by the caller (the kernel's
 * {@code lockdep_assert_held(&zone->lock)}; asserted, tests run with {@code -ea}). Lists whose tail holds
 * deferred blocks write their struct pages first ({@link MmInit}).
 */
final class FreeArea {
    private final BuddyAllocator buddy;
    private final MemMap memMap;

    FreeArea(final BuddyAllocator buddy) {
        this.buddy = buddy;
        this.memMap = buddy.memMap;
    }

    /** {@code account_freepages} (zone lock held). */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the zone lock (asserted); volatile for the lock-free readers of /proc and watermarks
    static void accountFreepages(final Zone z, final long nrPages, final int mt) {
        assert z.lock.isHeldByCurrentThread() : "account_freepages without the zone lock: " + z;
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
     * blocks end must come after them: their struct pages are written first ({@link MmInit#initDeferredLocked}).
     */
    void linkFree(final Zone z, final long pfn, final int order, final int mt, final boolean tail) {
        if (tail && order == Zone.MAX_PAGE_ORDER && mt == z.deferredMt && z.deferredPfn < z.deferredEnd) {
            buddy.init.initDeferredLocked(z);
        }
        linkFreeUnchecked(z, pfn, order, mt, tail);
    }

    /** {@link #linkFree} without the deferred-tail check (the deferred init itself queues through it). */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the zone lock (asserted); volatile for the lock-free readers of /proc and watermarks
    void linkFreeUnchecked(final Zone z, final long pfn, final int order, final int mt, final boolean tail) {
        assert z.lock.isHeldByCurrentThread() : "__add_to_free_list without the zone lock: " + z;
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
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the zone lock (asserted); volatile for the lock-free readers of /proc and watermarks
    void unlinkFree(final Zone z, final long pfn, final int order, final int mt) {
        assert z.lock.isHeldByCurrentThread() : "__del_page_from_free_list without the zone lock: " + z;
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
            buddy.init.initDeferredBlock(z);
        }
    }

    /** {@code del_page_from_free_list}. */
    void delFromFreeList(final Zone z, final long pfn, final int order, final int mt) {
        unlinkFree(z, pfn, order, mt);
        accountFreepages(z, -(1L << order), mt);
    }

    /** {@code move_to_free_list}: to the tail of another type's list. */
    void moveToFreeList(final Zone z, final long pfn, final int order, final int oldMt, final int newMt) {
        unlinkFree(z, pfn, order, oldMt);
        accountFreepages(z, -(1L << order), oldMt);
        linkFree(z, pfn, order, newMt, true);
        accountFreepages(z, 1L << order, newMt);
    }

    /** {@code expand}: returns the upper halves to the lower orders; the number of pages queued. */
    long expand(final Zone z, final long pfn, final int low, final int highArg, final int mt) {
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
    void pageDelAndExpand(final Zone z, final long pfn, final int low, final int high, final int mt) {
        unlinkFree(z, pfn, high, mt);
        final long nrPages = (1L << high) - expand(z, pfn, low, high, mt);
        accountFreepages(z, -nrPages, mt);
    }

    /** {@code __move_freepages_block}: every free block of a pageblock onto {@code newMt}'s lists. */
    int moveFreepagesBlockLocked(final Zone z, final long start, final int newMt) {
        assert z.lock.isHeldByCurrentThread() : "__move_freepages_block without the zone lock: " + z;
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
    void setPageblockMigratetype(final Zone z, final long pfn, final int mtArg) {
        assert z.lock.isHeldByCurrentThread() : "set_pageblock_migratetype without the zone lock: " + z;
        final int mt = buddy.mobilityDisabled && mtArg < MigrateType.PCPTYPES ? MigrateType.UNMOVABLE : mtArg;
        z.setPageblockMt(pfn, mt);
    }

    /** {@code change_pageblock_range}. */
    void changePageblockRange(final Zone z, final long pfn, final int startOrder, final int mt) {
        int n = 1 << Math.max(0, startOrder - Zone.PAGEBLOCK_ORDER);
        long p = pfn;
        while (n-- > 0) {
            setPageblockMigratetype(z, p, mt);
            p += Zone.PAGEBLOCK_NR_PAGES;
        }
    }

    /** {@code page_is_buddy}: a free block head of exactly this order in this zone. */
    boolean isBuddy(final Zone z, final long pfn, final int order) {
        return z.contains(pfn) && (memMap.flags(pfn) & MemMap.PG_BUDDY) != 0 && memMap.privateWord(pfn) == order;
    }

    /** The migratetype of the list a free block is on ({@code get_pageblock_migratetype} of its head's flags). */
    int listMt(final long pfn) {
        return memMap.migratetype(pfn);
    }
}
