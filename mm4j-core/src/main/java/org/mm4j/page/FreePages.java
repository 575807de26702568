package org.mm4j.page;

/**
 * The free path of {@code mm/page_alloc.c}: {@code __free_pages} / {@code put_page} drop the head page's
 * reference, at zero {@code free_pages_prepare} clears the block and {@code __free_frozen_pages} queues it on the
 * CPU slot's per-CPU list (orders up to PAGE_ALLOC_COSTLY_ORDER, {@code free_frozen_page_commit} with the
 * auto-tuned {@code nr_pcp_high}/{@code nr_pcp_free}) or merges it into the zone's lists ({@code free_one_page},
 * {@code __free_one_page}: buddy = {@code pfn ^ (1 << order)}, up to MAX_PAGE_ORDER). Also the per-CPU list drains
 * ({@code free_pcppages_bulk}, {@code decay_pcp_high}, {@code drain_pages_zone}, {@code drain_all_pages}).
 *
 * <p>Error convention (the kernel's): a refused free returns false (-1 for {@code get_page}) after a
 * "BUG: Bad page state" report ({@link PageDebug}); every check runs before any state changes, so the lists stay
 * intact. Only {@link #splitPage} (a caller bug with no kernel report) throws, naming the value at fault.
 *
 * <p>Locks: the refcount is dropped with a CAS and no lock; the pcp lock is taken with a try-lock (a busy one sends
 * the block to the zone lists), drains take it with {@code lock()}; under it the zone lock (lock order: pcp, then
 * zone; never two of either). Methods marked "pcp lock held" and the {@code *Locked} ones (zone lock) assert it.
 */
final class FreePages {
    /**
     * Where 6.18's {@code put_page_testzero} has its {@code VM_BUG_ON_PAGE} (CONFIG_DEBUG_VM). The file is right;
     * the line number could not be checked against a 6.18 tree when this was written (no copy of 6.18's
     * include/linux/mm.h was at hand): correct it here when it is.
     */
    static final String PUT_PAGE_TESTZERO_BUG = "include/linux/mm.h:1387";
    /** The path of {@code __free_pages} into {@code put_page_testzero}, innermost first. */
    private static final java.util.List<String> FREE_PAGES_TRACE = java.util.List.of("__free_pages");
    private final BuddyAllocator buddy;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final FreeArea area;
    private final PageDebug debug;

    FreePages(final BuddyAllocator buddy, final FreeArea area, final PageDebug debug) {
        this.buddy = buddy;
        this.mem = buddy.mem;
        this.memMap = buddy.memMap;
        this.area = area;
        this.debug = debug;
    }

    // ------------------------------------------------------------------ references

    /** {@code __free_pages}: see {@link BuddyAllocator#freePages(long, int)}. */
    boolean freePages(final long pfn, final int order) {
        return freePages(pfn, order, false);
    }

    /**
     * {@code __free_pages}; {@code unwritten}: the caller did not write the block since it was allocated
     * ({@link BuddyAllocator#freePagesUnwritten}), so what is known of its bytes stays known.
     */
    boolean freePages(final long pfn, final int order, final boolean unwritten) {
        if (!mem.validPfn(pfn)) {
            debug.badPageOutside(pfn, "pfn outside memory");
            return false;
        }
        if (order < 0 || order > Zone.MAX_PAGE_ORDER) {
            debug.badPage(pfn, "order " + order + " out of range (expected: 0 to " + Zone.MAX_PAGE_ORDER + ")");
            return false;
        }
        final long flags = memMap.flags(pfn);
        if ((flags & MemMap.PG_TAIL) != 0) {
            debug.badPage(pfn, "VM_BUG_ON_PAGE(PageTail(page))");
            return false;
        }
        if ((pfn & ((1L << order) - 1)) != 0) {
            debug.badPage(pfn, "VM_BUG_ON_PAGE(pfn & ((1 << order) - 1))");
            return false;
        }
        final String inUse = debug.freePageBadReason(pfn, flags);
        if (inUse != null) {
            debug.badPage(pfn, inUse);
            return false;
        }
        while (true) {
            final int ref = memMap.refcount(pfn);
            if (ref <= 0) {
                // put_page_testzero on a page nobody holds (a second __free_pages): see putPageTestzeroFreed
                final Boolean done = putPageTestzeroFreed(pfn, ref);
                if (done != null) {
                    return done;
                }
                continue;
            }
            final int allocOrder = memMap.compoundOrder(pfn);
            if (allocOrder != order) {
                debug.badPage(pfn, (flags & MemMap.PG_HEAD) != 0
                    ? "VM_BUG_ON_PAGE(compound && compound_order(page) != order)"
                    : "freed with order " + order + " but allocated with order " + allocOrder);
                return false;
            }
            if (memMap.casRefcount(pfn, ref, ref - 1)) {
                if (ref > 1) {
                    return true;
                }
                break;
            }
        }
        if (!unwritten) {
            buddy.alloc.clearZeroed(pfn, order);
        }
        freePagesPrepare(pfn, order);
        freeFrozenPages(pfn, order);
        return true;
    }

    /**
     * {@code put_page_testzero} when the refcount is already {@code ref <= 0}, as on a second {@code __free_pages}
     * of the same block (include/linux/mm.h). With CONFIG_DEBUG_VM its
     * {@code VM_BUG_ON_PAGE(page_ref_count(page) == 0)} fires: the page dump and "kernel BUG at
     * include/linux/mm.h:N!" ({@link #PUT_PAGE_TESTZERO_BUG}); the model refuses the free. Without it (the
     * reference config) {@code page_ref_dec_and_test} takes the count below zero, reports nothing and frees nothing
     * for this page: so does the model. For an order above 0, {@code ___free_pages} would then see no PageHead (a
     * freed block's head flag is already cleared) and free the block's tail halves a second time, putting pages
     * that are already free on a second free list without a word; the model does not (named departure: no page
     * may reach two owners), so its lists stay intact. Returns false (nothing freed), or null when the count
     * changed under the CAS and the caller must look again.
     */
    private Boolean putPageTestzeroFreed(final long pfn, final int ref) {
        buddy.init.initDeferredAt(pfn);  // a deferred struct page is written before anything reads or changes it
        if (buddy.opts.debugVm()) {
            if (ref == 0) {
                debug.vmBugOnPage(pfn, "page_ref_count(page) == 0", PUT_PAGE_TESTZERO_BUG, FREE_PAGES_TRACE);
                return Boolean.FALSE;
            }
        }
        return memMap.casRefcount(pfn, ref, ref - 1) ? Boolean.FALSE : null;
    }

    /** {@code free_pages(addr, order)}: {@link #freePages} by kernel virtual address. */
    boolean freePagesAddr(final long kaddr, final int order) {
        if (!mem.validVirt(kaddr)) {
            debug.badPageOutside(PhysicalMemory.virtToPfn(kaddr), String.format(
                "address 0x%x outside the direct map [0x%x, 0x%x)", kaddr, PhysicalMemory.PAGE_OFFSET,
                PhysicalMemory.PAGE_OFFSET + mem.totalBytes()));
            return false;
        }
        if ((kaddr & (PhysicalMemory.PAGE_SIZE - 1)) != 0) {
            debug.badPage(PhysicalMemory.virtToPfn(kaddr), String.format("address 0x%x not page aligned", kaddr));
            return false;
        }
        return freePages(PhysicalMemory.virtToPfn(kaddr), order);
    }

    /** {@code get_page}: see {@link BuddyAllocator#getPage}. */
    int getPage(final long pfn) {
        final long head = checkedHead(pfn, "get_page");
        if (head < 0) {
            return -1;
        }
        while (true) {
            final int ref = memMap.refcount(head);
            if (ref <= 0) {
                debug.badPage(head, "VM_BUG_ON_PAGE(page_ref_count(page) <= 0)");
                return -1;
            }
            if (memMap.casRefcount(head, ref, ref + 1)) {
                return ref + 1;
            }
        }
    }

    /** {@code put_page}: see {@link BuddyAllocator#putPage}. */
    boolean putPage(final long pfn) {
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
            if (memMap.casRefcount(head, ref, ref - 1)) {
                return false;
            }
        }
    }

    private long checkedHead(final long pfn, final String what) {
        if (!mem.validPfn(pfn)) {
            debug.badPageOutside(pfn, what + " on a pfn outside memory");
            return -1;
        }
        return memMap.compoundHead(pfn);
    }

    /** {@code split_page}: see {@link BuddyAllocator#splitPage}. */
    void splitPage(final long pfn, final int order) {
        if (!mem.validPfn(pfn) || (memMap.flags(pfn) & (MemMap.PG_HEAD | MemMap.PG_TAIL)) != 0
            || memMap.refcount(pfn) == 0 || memMap.compoundOrder(pfn) != order) {
            throw new IllegalArgumentException(String.format("split_page pfn=0x%x order=%d (expected: the head of a "
                + "non-compound allocation of that order)", pfn, order));
        }
        for (long i = 0; i < 1L << order; i++) {
            memMap.spInt(pfn + i, MemMap.COMPOUND_ORDER, 0);
            memMap.setRefcount(pfn + i, 1);
        }
        final PageOwner owner = buddy.pageOwner;
        if (owner != null) {
            owner.splitPageOwner(pfn, order);  // split_page_owner
        }
    }

    // ------------------------------------------------------------------ freeing a block

    /** {@code free_pages_prepare}: clears what allocation set on every page of the block. */
    private void freePagesPrepare(final long pfn, final int order) {
        final PageOwner owner = buddy.pageOwner;
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
        if (buddy.opts.initOnFree()) {
            mem.fill(PhysicalMemory.pfnToPhys(pfn), (long) PhysicalMemory.PAGE_SIZE << order, (byte) 0);
        }
    }

    /** {@code __free_frozen_pages}: pcp for small orders (trylock), else the zone lists. */
    private void freeFrozenPages(final long pfn, final int order) {
        final Zone z = buddy.zoneOf(pfn);
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
        final Pcp pcp = z.pcp[buddy.cpus.current()];
        if (pcp.tryLock()) {
            try {
                freeFrozenPageCommit(z, pcp, pfn, mt, order);
            } finally {
                pcp.unlock();
            }
        } else {
            buddy.pcpTrylockFailed();
            freeOnePage(z, pfn, order);
        }
    }

    /** {@code free_frozen_page_commit} (pcp lock held). */
    private void freeFrozenPageCommit(final Zone z, final Pcp pcp, final long pfn, final int mt, final int order) {
        assert pcp.isHeldByCurrentThread() : "free_frozen_page_commit without the pcp lock";
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
        if (z.belowHigh && Watermarks.zoneWatermarkOk(z, 0, z.watermark[Zone.WMARK_HIGH], Zone.ZONE_MOVABLE, 0,
            z.freePages)) {
            z.belowHigh = false;
        }
    }

    /** {@code nr_pcp_high} (pcp lock held): auto-tunes {@code pcp->high} between high_min and high_max. */
    private static int nrPcpHigh(final Pcp pcp, final Zone z, final int batch, final boolean freeHigh) {
        assert pcp.isHeldByCurrentThread() : "nr_pcp_high without the pcp lock";
        int high = pcp.high = Watermarks.clamp(pcp.high, pcp.highMin, pcp.highMax);
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
                pcp.high = Watermarks.clamp(needHigh, pcp.highMin, pcp.highMax);
            }
        }
        return high;
    }

    /** {@code nr_pcp_free} (pcp lock held). */
    private static int nrPcpFree(final Pcp pcp, final int batch, final int high, final boolean freeHigh) {
        if (freeHigh) {
            return Math.min(pcp.count, batch << Pcp.PCP_BATCH_SCALE_MAX);
        }
        if (high < batch) {
            return 1;
        }
        return Watermarks.clamp(pcp.freeCount, batch, high - batch);
    }

    /**
     * {@code free_pcppages_bulk} (pcp lock held; takes the zone lock): {@code count} pages back to the buddy lists,
     * round-robin over the lists.
     */
    private void freePcppagesBulk(final Zone z, final int countArg, final Pcp pcp, final int pindexArg) {
        assert pcp.isHeldByCurrentThread() : "free_pcppages_bulk without the pcp lock";
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
                    freeOnePageLocked(z, pfn, order, z.pageblockMigratetype(pfn), false);
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
            splitLargeBuddyLocked(z, pfn, order, false);
            z.events[Zone.EV_PGFREE] += 1L << order;
        } finally {
            z.lock.unlock();
        }
    }

    /** {@code split_large_buddy} (zone lock held): frees a block pageblock by pageblock, each with its own type. */
    void splitLargeBuddyLocked(final Zone z, final long startPfn, final int startOrder, final boolean toTail) {
        final long end = startPfn + (1L << startOrder);
        final int order = Math.min(startOrder, Zone.PAGEBLOCK_ORDER);
        long pfn = startPfn;
        do {
            freeOnePageLocked(z, pfn, order, z.pageblockMigratetype(pfn), toTail);
            pfn += 1L << order;
        } while (pfn != end);
    }

    /** {@code __free_one_page} (zone lock held): merge with free buddies, then queue. */
    private void freeOnePageLocked(final Zone z, final long startPfn, final int startOrder, final int mt,
                                   final boolean fpiToTail) {
        assert z.lock.isHeldByCurrentThread() : "__free_one_page without the zone lock: " + z;
        long pfn = startPfn;
        int order = startOrder;
        long buddyPfn = 0;
        FreeArea.accountFreepages(z, 1L << order, mt);
        while (order < Zone.MAX_PAGE_ORDER) {
            buddyPfn = pfn ^ (1L << order);
            if (!area.isBuddy(z, buddyPfn, order)) {
                break;
            }
            int buddyMt = mt;
            if (order >= Zone.PAGEBLOCK_ORDER) {
                buddyMt = z.pageblockMigratetype(buddyPfn);
                if (mt != buddyMt && (!MigrateType.isMergeable(mt) || !MigrateType.isMergeable(buddyMt))) {
                    break;
                }
            }
            area.unlinkFree(z, buddyPfn, order, area.listMt(buddyPfn));
            if (buddyMt != mt) {
                area.changePageblockRange(z, buddyPfn, order, mt);
            }
            pfn &= buddyPfn;
            order++;
        }
        final boolean toTail = fpiToTail || buddyMergeLikely(z, pfn, buddyPfn, order);
        area.linkFree(z, pfn, order, mt, toTail);
    }

    /** {@code buddy_merge_likely}: queue at the tail when the block's next-order buddy is already free. */
    private boolean buddyMergeLikely(final Zone z, final long pfn, final long buddyPfn, final int order) {
        if (order >= Zone.MAX_PAGE_ORDER - 1) {
            return false;
        }
        final long higher = buddyPfn & pfn;
        return area.isBuddy(z, higher ^ (1L << (order + 1)), order + 1);
    }

    // ------------------------------------------------------------------ per-CPU list drains

    /**
     * {@code decay_pcp_high} (pcp lock held): lowers an auto-tuned {@code pcp->high} by an eighth towards
     * high_min and frees what lies above it, batch by batch. Returns whether more decay remains.
     */
    boolean decayPcpHigh(final Zone z, final Pcp pcp) {
        assert pcp.isHeldByCurrentThread() : "decay_pcp_high without the pcp lock";
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

    /** {@code vm.stat_refresh}: every CPU's vmstat tick now ({@code refresh_cpu_vm_stats}). */
    void statRefresh() {
        for (final Zone z : buddy.zones) {
            for (final Pcp p : z.pcp) {
                p.lock();
                try {
                    p.lastDecay = buddy.vmstatNow();
                    decayPcpHigh(z, p);
                } finally {
                    p.unlock();
                }
            }
        }
    }

    /** {@code drain_pages_zone}: every page of one CPU's lists in one zone back to the buddy lists. */
    void drainPagesZone(final int cpu, final Zone z) {
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

    /** {@code drain_all_pages(NULL)}: every CPU slot's lists in every zone, one drain at a time. */
    void drainAllPages() {
        synchronized (buddy) {
            for (int cpu = 0; cpu < buddy.nrCpus; cpu++) {
                for (final Zone z : buddy.zones) {
                    if (z.pcp[cpu].count > 0) {
                        drainPagesZone(cpu, z);
                    }
                }
            }
        }
    }
}
