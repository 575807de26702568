package org.mm4j.page;

import org.mm4j.kernel.KernelLog;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The buddy page allocator of {@code mm/page_alloc.c} over {@link PhysicalMemory} and {@link MemMap}.
 *
 * <p>Algorithm: a request of order {@code o} takes the first free block of the smallest order {@code >= o}
 * (preferred migratetype first, then the fallbacks), splits it ({@code expand}) by returning upper halves to the
 * lower orders, and marks the result allocated. A freed block merges with its buddy
 * ({@code buddy_pfn = pfn ^ (1 << order)}) while the buddy is a free block of the same order in the same zone,
 * up to {@code MAX_PAGE_ORDER}.
 *
 * <p>Concurrency: the free areas of a zone are touched only under that zone's lock; there is no global lock.
 * Allocation failure returns -1, never throws. Misuse (double free, freeing a tail page or with a wrong order, a
 * pfn outside memory) is reported to the kernel log as "BUG: Bad page state" and the free is refused, so the free
 * lists stay intact.
 */
public final class BuddyAllocator {
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final KernelLog log;
    private final Zone[] zones;

    public BuddyAllocator(final PhysicalMemory mem, final MemMap memMap, final KernelLog log) {
        this.mem = mem;
        this.memMap = memMap;
        this.log = log;
        final List<Zone> zs = new ArrayList<>();
        for (int nid = 0; nid < mem.nrNodes(); nid++) {
            final long start = mem.nodeStartPfn(nid);
            zs.add(new Zone(nid, "Normal", start, start + mem.nodePages()));
        }
        this.zones = zs.toArray(new Zone[0]);
        // pfn 0 stays reserved (as low memory is on x86): a physical address of 0 then never names an object
        memMap.setFlag(0, MemMap.PG_RESERVED);
        memMap.setRefcount(0, 1);
        for (final Zone z : zones) {
            z.lock.lock();
            try {
                long pfn = Math.max(z.startPfn, 1);
                while (pfn < z.endPfn) {
                    int order = Math.min(Long.numberOfTrailingZeros(pfn), Zone.MAX_PAGE_ORDER);
                    while (pfn + (1L << order) > z.endPfn) {
                        order--;
                    }
                    z.managedPages += 1L << order;
                    memMap.setMigratetype(pfn, MigrateType.MOVABLE);
                    freeOneLocked(z, pfn, order, MigrateType.MOVABLE);
                    pfn += 1L << order;
                }
            } finally {
                z.lock.unlock();
            }
        }
    }

    public PhysicalMemory memory() {
        return mem;
    }

    public MemMap memMap() {
        return memMap;
    }

    public List<Zone> zones() {
        return Collections.unmodifiableList(java.util.Arrays.asList(zones));
    }

    public Zone zoneOf(final long pfn) {
        for (final Zone z : zones) {
            if (z.contains(pfn)) {
                return z;
            }
        }
        return null;
    }

    public long freePages() {
        long n = 0;
        for (final Zone z : zones) {
            n += z.freePages;
        }
        return n;
    }

    public long totalPages() {
        return mem.totalPages();
    }

    /**
     * {@code alloc_pages(gfp, order)}: a block of {@code 1 << order} pages on the caller's preferred node, or -1.
     * With {@link Gfp#COMP} and {@code order > 0} the block is a compound page; with {@link Gfp#ZERO} it is
     * zeroed.
     */
    public long allocPages(final int gfp, final int order) {
        return allocPagesNode(gfp, order, -1);
    }

    /** {@code alloc_pages_node}: {@code nid < 0} means any node, preferring node 0. */
    public long allocPagesNode(final int gfp, final int order, final int nid) {
        if (order < 0 || order > Zone.MAX_PAGE_ORDER) {
            return -1;
        }
        final int mt = Gfp.migratetype(gfp);
        final int first = nid >= 0 && nid < zones.length ? nid : 0;
        for (int i = 0; i < zones.length; i++) {
            final Zone z = zones[(first + i) % zones.length];
            if (i > 0 && (gfp & Gfp.THISNODE) != 0) {
                break;
            }
            final long pfn = rmqueue(z, order, mt);
            if (pfn >= 0) {
                prepNewPage(pfn, order, gfp);
                return pfn;
            }
        }
        return -1;
    }

    private long rmqueue(final Zone z, final int order, final int mt) {
        z.lock.lock();
        try {
            for (int attempt = 0; attempt < MigrateType.PCPTYPES; attempt++) {
                final int type = fallback(mt, attempt);
                for (int o = order; o <= Zone.MAX_PAGE_ORDER; o++) {
                    final long pfn = z.freeHead[o][type];
                    if (pfn >= 0) {
                        delFromFreeList(z, pfn, o, type);
                        expand(z, pfn, order, o, type);
                        return pfn;
                    }
                }
            }
            return -1;
        } finally {
            z.lock.unlock();
        }
    }

    private static int fallback(final int mt, final int attempt) {
        if (attempt == 0) {
            return mt;
        }
        return switch (mt) {
            case MigrateType.UNMOVABLE -> attempt == 1 ? MigrateType.RECLAIMABLE : MigrateType.MOVABLE;
            case MigrateType.RECLAIMABLE -> attempt == 1 ? MigrateType.UNMOVABLE : MigrateType.MOVABLE;
            default -> attempt == 1 ? MigrateType.RECLAIMABLE : MigrateType.UNMOVABLE;
        };
    }

    /** Splits the block {@code [pfn, pfn + 2^high)} down to order {@code low}, freeing the upper halves. */
    private void expand(final Zone z, final long pfn, final int low, final int high, final int mt) {
        int o = high;
        while (o > low) {
            o--;
            final long upper = pfn + (1L << o);
            memMap.setMigratetype(upper, mt);
            addToFreeList(z, upper, o, mt);
        }
    }

    private void prepNewPage(final long pfn, final int order, final int gfp) {
        final long n = 1L << order;
        for (long i = 0; i < n; i++) {
            memMap.setFlags(pfn + i, 0);
            memMap.privateWord(pfn + i, 0);
        }
        memMap.setRefcount(pfn, 1);
        if (order > 0 && (gfp & Gfp.COMP) != 0) {
            memMap.setFlags(pfn, MemMap.PG_HEAD);
            memMap.spInt(pfn, MemMap.COMPOUND_ORDER, order);
            for (long i = 1; i < n; i++) {
                memMap.setFlags(pfn + i, MemMap.PG_TAIL);
                memMap.privateWord(pfn + i, pfn);
            }
        }
        if ((gfp & Gfp.ZERO) != 0) {
            mem.fill(PhysicalMemory.pfnToPhys(pfn), n << PhysicalMemory.PAGE_SHIFT, (byte) 0);
        }
    }

    /**
     * {@code __free_pages(page, order)}. Returns false (after a "Bad page state" report) when the free is
     * refused.
     */
    public boolean freePages(final long pfn, final int order) {
        final String bad = checkFree(pfn, order);
        if (bad != null) {
            badPage(pfn, bad);
            return false;
        }
        final long n = 1L << order;
        for (long i = 0; i < n; i++) {
            memMap.setFlags(pfn + i, memMap.flags(pfn + i) & MemMap.MT_MASK);
            memMap.privateWord(pfn + i, 0);
            memMap.setRefcount(pfn + i, 0);
        }
        final Zone z = zoneOf(pfn);
        z.lock.lock();
        try {
            freeOneLocked(z, pfn, order, memMap.migratetype(pfn));
        } finally {
            z.lock.unlock();
        }
        return true;
    }

    private String checkFree(final long pfn, final int order) {
        if (!mem.validPfn(pfn)) {
            return "pfn outside memory";
        }
        if (order < 0 || order > Zone.MAX_PAGE_ORDER) {
            return "order " + order + " out of range";
        }
        if ((pfn & ((1L << order) - 1)) != 0) {
            return "pfn not aligned to order " + order;
        }
        final long flags = memMap.flags(pfn);
        if ((flags & MemMap.PG_BUDDY) != 0 || memMap.refcount(pfn) == 0) {
            return "nonzero mapcount";
        }
        if ((flags & MemMap.PG_TAIL) != 0) {
            return "freeing a tail page";
        }
        if ((flags & MemMap.PG_RESERVED) != 0) {
            return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
        }
        if ((flags & MemMap.PG_HEAD) != 0 && memMap.compoundOrder(pfn) != order) {
            return "wrong compound order (" + memMap.compoundOrder(pfn) + ", freed as " + order + ")";
        }
        if ((flags & MemMap.PG_SLAB) != 0) {
            return "page still in use by slab";
        }
        return null;
    }

    private void badPage(final long pfn, final String reason) {
        if (!mem.validPfn(pfn)) {
            log.printk("BUG: Bad page state: pfn:%x outside memory (max pfn %x)", pfn, mem.totalPages() - 1);
            return;
        }
        log.printk("BUG: Bad page state in process %s  pfn:%05x", Thread.currentThread().getName(), pfn);
        log.printk("page: refcount:%d mapcount:%d mapping:0000000000000000 index:0x0 pfn:0x%x",
            memMap.refcount(pfn), memMap.lpInt(pfn, MemMap.MAPCOUNT), pfn);
        log.printk("flags: 0x%x", memMap.flags(pfn) & ~MemMap.MT_MASK);
        log.printk("page dumped because: %s", reason);
    }

    /** Merges and inserts a free block; zone lock held. */
    private void freeOneLocked(final Zone z, final long startPfn, final int startOrder, final int mt) {
        long pfn = startPfn;
        int order = startOrder;
        while (order < Zone.MAX_PAGE_ORDER) {
            final long buddy = pfn ^ (1L << order);
            if (!z.contains(buddy) || !memMap.test(buddy, MemMap.PG_BUDDY)
                || memMap.privateWord(buddy) != order) {
                break;
            }
            delFromFreeList(z, buddy, order, memMap.migratetype(buddy));
            pfn &= buddy;
            order++;
        }
        memMap.setMigratetype(pfn, mt);
        addToFreeList(z, pfn, order, mt);
    }

    private void addToFreeList(final Zone z, final long pfn, final int order, final int mt) {
        final long head = z.freeHead[order][mt];
        memMap.lruNext(pfn, head);
        memMap.lruPrev(pfn, -1);
        if (head >= 0) {
            memMap.lruPrev(head, pfn);
        }
        z.freeHead[order][mt] = pfn;
        memMap.setFlag(pfn, MemMap.PG_BUDDY);
        memMap.privateWord(pfn, order);
        z.freeCount[order][mt]++;
        z.nrFree[order]++;
        z.freePages += 1L << order;
    }

    private void delFromFreeList(final Zone z, final long pfn, final int order, final int mt) {
        final long next = memMap.lruNext(pfn);
        final long prev = memMap.lruPrev(pfn);
        if (prev >= 0) {
            memMap.lruNext(prev, next);
        } else {
            z.freeHead[order][mt] = next;
        }
        if (next >= 0) {
            memMap.lruPrev(next, prev);
        }
        memMap.lruNext(pfn, -1);
        memMap.lruPrev(pfn, -1);
        memMap.clearFlag(pfn, MemMap.PG_BUDDY);
        memMap.privateWord(pfn, 0);
        z.freeCount[order][mt]--;
        z.nrFree[order]--;
        z.freePages -= 1L << order;
    }
}
