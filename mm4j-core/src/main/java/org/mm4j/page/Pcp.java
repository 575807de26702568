package org.mm4j.page;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Per-CPU page lists of one zone on one CPU slot ({@code struct per_cpu_pages}).
 *
 * <p>Layout: {@link #NR_PCP_LISTS} lists, index {@code pindex = MIGRATE_PCPTYPES * order + migratetype}
 * ({@code order_to_pindex}) for orders 0 to {@link Zone#PAGE_ALLOC_COSTLY_ORDER}; each a doubly linked list of
 * head pages through {@link MemMap#LRU_NEXT}/{@link MemMap#LRU_PREV} (the kernel's {@code pcp_list} overlays
 * {@code lru} the same way). {@code count} is the number of base pages on all lists.
 *
 * <p>Concurrency: everything here is touched only with {@link #lock} held: the allocator takes it with
 * {@link #tryLock()} (the kernel's {@code pcp_spin_trylock}; on failure it goes to the zone's buddy lists, as
 * Linux does when a drain or an interrupt holds the pcp), drains take it with {@link #lock()}. Two threads mapped
 * to one CPU slot therefore never corrupt the lists. The event counters ({@code pgalloc} ...) are written under
 * the lock and read racily by /proc/vmstat, like the kernel's per-CPU vm events. Pages on these lists have
 * refcount 0 and are not PG_buddy; they count neither as free (NR_FREE_PAGES) nor as allocated.
 */
final class Pcp {
    static final int NR_PCP_LISTS = MigrateType.PCPTYPES * (Zone.PAGE_ALLOC_COSTLY_ORDER + 1);
    /** CONFIG_PCP_BATCH_SCALE_MAX default. */
    static final int PCP_BATCH_SCALE_MAX = 5;
    /** PCPF_PREV_FREE_HIGH_ORDER / PCPF_FREE_HIGH_BATCH. */
    static final int PCPF_PREV_FREE_HIGH_ORDER = 1;
    static final int PCPF_FREE_HIGH_BATCH = 2;

    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(Pcp.class, "locked", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile int locked;
    final long[] head = new long[NR_PCP_LISTS];
    final long[] tail = new long[NR_PCP_LISTS];
    final int[] listCount = new int[NR_PCP_LISTS];
    int count;
    int high;
    int highMin;
    int highMax;
    int batch;
    int freeCount;
    int allocFactor;
    int flags;
    // vm events counted under the lock, folded into /proc/vmstat
    long pgalloc;
    long pgfree;
    long numaHit;
    long numaMiss;
    long numaForeign;
    long numaLocal;
    long numaOther;

    Pcp() {
        Arrays.fill(head, -1L);
        Arrays.fill(tail, -1L);
    }

    static int pindex(final int mt, final int order) {
        return MigrateType.PCPTYPES * order + mt;
    }

    static int pindexToOrder(final int pindex) {
        return pindex / MigrateType.PCPTYPES;
    }

    boolean tryLock() {
        return LOCK.compareAndSet(this, 0, 1);
    }

    void lock() {
        while (!LOCK.compareAndSet(this, 0, 1)) {
            Thread.onSpinWait();
        }
    }

    void unlock() {
        LOCK.setRelease(this, 0);
    }

    /** {@code list_add}: pushes at the head (lock held). */
    void addHead(final MemMap mm, final int pindex, final long pfn) {
        final long h = head[pindex];
        mm.lruNext(pfn, h);
        mm.lruPrev(pfn, -1);
        if (h >= 0) {
            mm.lruPrev(h, pfn);
        } else {
            tail[pindex] = pfn;
        }
        head[pindex] = pfn;
        listCount[pindex]++;
    }

    /** {@code list_add_tail} (lock held). */
    void addTail(final MemMap mm, final int pindex, final long pfn) {
        final long t = tail[pindex];
        mm.lruPrev(pfn, t);
        mm.lruNext(pfn, -1);
        if (t >= 0) {
            mm.lruNext(t, pfn);
        } else {
            head[pindex] = pfn;
        }
        tail[pindex] = pfn;
        listCount[pindex]++;
    }

    /** Removes and returns the first page of a list, or -1 (lock held). */
    long removeHead(final MemMap mm, final int pindex) {
        final long pfn = head[pindex];
        if (pfn >= 0) {
            unlink(mm, pindex, pfn);
        }
        return pfn;
    }

    /** Removes and returns the last page of a list ({@code list_last_entry}), or -1 (lock held). */
    long removeTail(final MemMap mm, final int pindex) {
        final long pfn = tail[pindex];
        if (pfn >= 0) {
            unlink(mm, pindex, pfn);
        }
        return pfn;
    }

    private void unlink(final MemMap mm, final int pindex, final long pfn) {
        final long next = mm.lruNext(pfn);
        final long prev = mm.lruPrev(pfn);
        if (prev >= 0) {
            mm.lruNext(prev, next);
        } else {
            head[pindex] = next;
        }
        if (next >= 0) {
            mm.lruPrev(next, prev);
        } else {
            tail[pindex] = prev;
        }
        mm.lruNext(pfn, -1);
        mm.lruPrev(pfn, -1);
        listCount[pindex]--;
    }
}
