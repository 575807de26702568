package org.mm4j.page;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A memory zone ({@code struct zone}): a pfn range of one node and its buddy free areas.
 *
 * <p>Layout: {@code free_area[order]} for {@code 0 <= order <= MAX_PAGE_ORDER}, each with one doubly linked free
 * list per migratetype, linked through the {@link MemMap#LRU_NEXT}/{@link MemMap#LRU_PREV} fields of the head
 * page of each free block; -1 ends a list.
 *
 * <p>Invariants (under {@link #lock}): a free block of order {@code o} starts at a pfn aligned to {@code 1 << o},
 * lies wholly in the zone, has PG_buddy and {@code private == o} on its head page and is on exactly one list, the
 * one of its order and migratetype; {@code nrFree[o]} counts the blocks of order {@code o};
 * {@code freePages} is the sum of their sizes. Threads: every field here is read and written only under
 * {@link #lock} (the kernel's {@code zone->lock}), except {@code freePages}, which is also read without it for
 * statistics.
 */
public final class Zone {
    public static final int MAX_PAGE_ORDER = 10;
    public static final int NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;

    final ReentrantLock lock = new ReentrantLock();
    final int nid;
    final String name;
    final long startPfn;
    final long endPfn;
    final long[][] freeHead = new long[NR_PAGE_ORDERS][MigrateType.TYPES];
    final long[][] freeCount = new long[NR_PAGE_ORDERS][MigrateType.TYPES];
    final long[] nrFree = new long[NR_PAGE_ORDERS];
    volatile long freePages;
    long managedPages;

    Zone(final int nid, final String name, final long startPfn, final long endPfn) {
        this.nid = nid;
        this.name = name;
        this.startPfn = startPfn;
        this.endPfn = endPfn;
        for (final long[] row : freeHead) {
            java.util.Arrays.fill(row, -1L);
        }
    }

    public int nid() {
        return nid;
    }

    /** The zone's name as /proc prints it ("DMA32", "Normal"). */
    public String name() {
        return name;
    }

    public long startPfn() {
        return startPfn;
    }

    public long endPfn() {
        return endPfn;
    }

    public long spannedPages() {
        return endPfn - startPfn;
    }

    public long managedPages() {
        return managedPages;
    }

    public long freePages() {
        return freePages;
    }

    public boolean contains(final long pfn) {
        return pfn >= startPfn && pfn < endPfn;
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

    /** Number of free blocks of {@code order} and migratetype {@code mt}, read under the zone lock. */
    public long nrFree(final int order, final int mt) {
        lock.lock();
        try {
            return freeCount[order][mt];
        } finally {
            lock.unlock();
        }
    }
}
