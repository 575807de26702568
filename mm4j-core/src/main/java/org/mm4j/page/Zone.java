package org.mm4j.page;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A memory zone ({@code struct zone}): a pfn range of one node, its buddy free areas, pageblock migratetypes,
 * watermarks and per-CPU page lists.
 *
 * <p>Layout: {@code free_area[order]} for {@code 0 <= order <= MAX_PAGE_ORDER}, each with one doubly linked free
 * list per migratetype, linked through the {@link MemMap#LRU_NEXT}/{@link MemMap#LRU_PREV} fields of the head
 * page of each free block (-1 ends a list), with head and tail so blocks can be queued at either end as
 * {@code __add_to_free_list} does. {@code pageblockMt[i]} is the migratetype of pageblock {@code i}
 * ({@link #PAGEBLOCK_ORDER} = 9, 512 pages, as x86-64's {@code pageblock_order}).
 *
 * <p>Invariants (under {@link #lock}): a free block of order {@code o} starts at a pfn aligned to {@code 1 << o},
 * lies wholly in the zone, has PG_buddy and {@code private == o} on its head page, and is on exactly one list:
 * that of its order and of the migratetype recorded in its head page's flags, which equals the migratetype of its
 * pageblock; {@code nrFree[o]} counts the blocks of order {@code o}; {@code freePages} is the sum of their sizes
 * except isolated ones (the kernel's NR_FREE_PAGES: pages on per-CPU lists are not free here, as in Linux).
 *
 * <p>Threads: free areas, {@code freePages}, {@code nrFreeHighatomic}, {@code nrReservedHighatomic} and
 * {@code pageblockMt} are written only under {@link #lock} (the kernel's {@code zone->lock}); statistics and the
 * watermark check read them without it, racily, as the kernel does. Each {@link Pcp} is guarded by its own
 * lock. Watermarks change only in {@code Watermarks.setupPerZoneWmarks}, under the allocator's setup lock.
 */
public final class Zone {
    public static final int MAX_PAGE_ORDER = 10;
    public static final int NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
    public static final int PAGEBLOCK_ORDER = 9;
    public static final int PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
    public static final int PAGE_ALLOC_COSTLY_ORDER = 3;

    /** {@code enum zone_type} of x86-64 (ZONE_DMA, DMA32, NORMAL, MOVABLE, DEVICE). */
    public static final int ZONE_DMA = 0;
    public static final int ZONE_DMA32 = 1;
    public static final int ZONE_NORMAL = 2;
    public static final int ZONE_MOVABLE = 3;
    public static final int ZONE_DEVICE = 4;
    public static final int MAX_NR_ZONES = 5;
    static final String[] ZONE_NAMES = {"DMA", "DMA32", "Normal", "Movable", "Device"};
    /** The default {@code sysctl_lowmem_reserve_ratio[]} of 6.18: DMA 256, DMA32 256, Normal 32, Movable 0. */
    static final int[] LOWMEM_RESERVE_RATIO = {256, 256, 32, 0, 0};

    public static final int WMARK_MIN = 0;
    public static final int WMARK_LOW = 1;
    public static final int WMARK_HIGH = 2;
    public static final int WMARK_PROMO = 3;

    final ReentrantLock lock = new ReentrantLock();
    final int nid;
    final int type;
    final String name;
    final long startPfn;
    final long endPfn;
    final long[][] freeHead = new long[NR_PAGE_ORDERS][MigrateType.TYPES];
    final long[][] freeTail = new long[NR_PAGE_ORDERS][MigrateType.TYPES];
    final long[][] freeCount = new long[NR_PAGE_ORDERS][MigrateType.TYPES];
    final long[] nrFree = new long[NR_PAGE_ORDERS];
    final byte[] pageblockMt;
    volatile long freePages;
    volatile long freeBlocksPages;
    volatile long nrFreeHighatomic;
    long nrReservedHighatomic;
    long presentPages;
    long managedPages;
    final long[] watermark = new long[4];
    final long[] lowmemReserve = new long[MAX_NR_ZONES];
    /** ZONE_BELOW_HIGH: free pages fell below the high watermark on an allocation. */
    volatile boolean belowHigh;
    /** {@code enum rmqueue_mode} remembered across one {@code rmqueue_bulk} (zone lock held). */
    int rmqueueMode;
    /** vm events of the buddy path (zone lock held): EV_* indexes. */
    final long[] events = new long[7];
    static final int EV_PGALLOC = 0;
    static final int EV_PGFREE = 1;
    static final int EV_NUMA_HIT = 2;
    static final int EV_NUMA_MISS = 3;
    static final int EV_NUMA_FOREIGN = 4;
    static final int EV_NUMA_LOCAL = 5;
    static final int EV_NUMA_OTHER = 6;
    /**
     * Deferred struct page init ({@code CONFIG_DEFERRED_STRUCT_PAGE_INIT}): {@code [deferredPfn, deferredEnd)} are
     * free MAX_PAGE_ORDER blocks of type {@link #deferredMt} whose {@code struct page}s are not written yet. They
     * count in every free counter and stand, in ascending order, at the tail of the order-MAX_PAGE_ORDER list of
     * that type; while any remain that list is never empty (see {@code MmInit}).
     * Guarded by {@link #lock}; volatile for the lock-free "is anything deferred" check.
     */
    volatile long deferredPfn;
    volatile long deferredEnd;
    int deferredMt;
    Pcp[] pcp;
    int pcpBatch;
    int pcpHighMin;
    int pcpHighMax;

    Zone(final int nid, final int type, final long startPfn, final long endPfn) {
        if ((startPfn & (PAGEBLOCK_NR_PAGES - 1)) != 0 || (endPfn & (PAGEBLOCK_NR_PAGES - 1)) != 0) {
            throw new IllegalArgumentException("zone [" + startPfn + ", " + endPfn + ") (expected: pageblock-aligned)");
        }
        this.nid = nid;
        this.type = type;
        this.name = ZONE_NAMES[type];
        this.startPfn = startPfn;
        this.endPfn = endPfn;
        this.pageblockMt = new byte[(int) ((endPfn - startPfn) >>> PAGEBLOCK_ORDER)];
        for (final long[] row : freeHead) {
            Arrays.fill(row, -1L);
        }
        for (final long[] row : freeTail) {
            Arrays.fill(row, -1L);
        }
    }

    public int nid() {
        return nid;
    }

    /** The zone type ({@link #ZONE_DMA}, {@link #ZONE_DMA32}, {@link #ZONE_NORMAL}). */
    int type() {
        return type;
    }

    /**
     * {@code zone_idx()}: the zone's type as the zone field of page flags and {@code %pGp}'s {@code zone=} print
     * it (0 DMA, 1 DMA32, 2 Normal).
     */
    public int zoneIdx() {
        return type;
    }

    /** The zone's name as /proc prints it ("DMA", "DMA32", "Normal"). */
    public String name() {
        return name;
    }

    long startPfn() {
        return startPfn;
    }

    long endPfn() {
        return endPfn;
    }

    long spannedPages() {
        return endPfn - startPfn;
    }

    long presentPages() {
        return presentPages;
    }

    long managedPages() {
        return managedPages;
    }

    /** NR_FREE_PAGES of this zone: pages in the buddy free lists (not on per-CPU lists). */
    long freePages() {
        return freePages;
    }

    boolean contains(final long pfn) {
        return pfn >= startPfn && pfn < endPfn;
    }

    /** Watermark {@code i} ({@link #WMARK_MIN} .. {@link #WMARK_PROMO}) in pages. */
    long watermark(final int i) {
        return watermark[i];
    }

    /** {@code lowmem_reserve[zoneType]}: pages kept back from allocations that could use a zone up to that type. */
    long lowmemReserve(final int zoneType) {
        return lowmemReserve[zoneType];
    }

    /** The migratetype of the pageblock holding {@code pfn} ({@code get_pfnblock_migratetype}). */
    int pageblockMigratetype(final long pfn) {
        return pageblockMt[(int) ((pfn - startPfn) >>> PAGEBLOCK_ORDER)];
    }

    void setPageblockMt(final long pfn, final int mt) {
        pageblockMt[(int) ((pfn - startPfn) >>> PAGEBLOCK_ORDER)] = (byte) mt;
    }

    /** Number of free blocks of {@code order} (all migratetypes), read under the zone lock. */
    public long nrFree(final int order) {
        lock.lock();
        try {
            return nrFree[order];
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds the number of free blocks of each order (all migratetypes) to {@code acc[order]} for every order below
     * {@code min(acc.length, NR_PAGE_ORDERS)}, read under one hold of the zone lock (a consistent snapshot).
     */
    public void addNrFree(final long[] acc) {
        final int n = Math.min(acc.length, NR_PAGE_ORDERS);
        lock.lock();
        try {
            for (int o = 0; o < n; o++) {
                acc[o] += nrFree[o];
            }
        } finally {
            lock.unlock();
        }
    }

    /** Number of free blocks of {@code order} and migratetype {@code mt}, read under the zone lock. */
    public long nrFree(final int order, final int mt) {
        lock.lock();
        try {
            return freeCount[order][mt];
        } finally {
            lock.unlock();
        }
    }

    /** {@code pcp->batch} of this zone's per-CPU lists. */
    int pcpBatch() {
        return pcpBatch;
    }

    /** {@code pcp->high_min} and {@code pcp->high_max} ({@code zone_highsize} with fraction 0 and 8). */
    int pcpHighMin() {
        return pcpHighMin;
    }

    int pcpHighMax() {
        return pcpHighMax;
    }

    /** Pages on CPU {@code cpu}'s per-CPU lists of this zone (racy read). */
    int pcpCount(final int cpu) {
        return pcp[cpu].count;
    }

    /** The current {@code pcp->high} of CPU {@code cpu} (auto-tuned between high_min and high_max). */
    int pcpHigh(final int cpu) {
        return pcp[cpu].high;
    }

    @Override
    public String toString() {
        return "Node " + nid + ", zone " + name + " [" + startPfn + ", " + endPfn + ")";
    }
}
