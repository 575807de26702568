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
 * <p>Concurrency: everything here is touched only with the lock held: the allocator takes it with
 * {@link #tryLock()} (the kernel's {@code pcp_spin_trylock}; on failure it goes to the zone's buddy lists, as
 * Linux does when a drain or an interrupt holds the pcp), drains take it with {@link #lock()}. Two threads mapped
 * to one CPU slot therefore never corrupt the lists. The event counters ({@code pgalloc} ...) are written under
 * the lock and read racily by /proc/vmstat, like the kernel's per-CPU vm events. Pages on these lists have
 * refcount 0 and are not PG_buddy; they count neither as free (NR_FREE_PAGES) nor as allocated.
 */
final class Pcp extends PcpFields {
    static final int NR_PCP_LISTS = MigrateType.PCPTYPES * (Zone.PAGE_ALLOC_COSTLY_ORDER + 1);
    /** CONFIG_PCP_BATCH_SCALE_MAX default. */
    static final int PCP_BATCH_SCALE_MAX = 5;
    /** PCPF_PREV_FREE_HIGH_ORDER / PCPF_FREE_HIGH_BATCH. */
    static final int PCPF_PREV_FREE_HIGH_ORDER = 1;
    static final int PCPF_FREE_HIGH_BATCH = 2;

    static final int PAD = 8;
    static final int HEAD = PAD;
    static final int TAIL = PAD + NR_PCP_LISTS;
    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(PcpFields.class, "locked", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // trailing padding: the next object on the heap starts a cache line further
    long q00;
    long q01;
    long q02;
    long q03;
    long q04;
    long q05;
    long q06;
    long q07;

    Pcp() {
        Arrays.fill(lists, -1L);
    }

    long head(final int pindex) {
        return lists[HEAD + pindex];
    }

    int listCount(final int pindex) {
        return listCounts[2 * PAD + pindex];
    }

    static int pindex(final int mt, final int order) {
        return MigrateType.PCPTYPES * order + mt;
    }

    static int pindexToOrder(final int pindex) {
        return pindex / MigrateType.PCPTYPES;
    }

    /** {@code pcp_spin_trylock}: one CAS of the lock word. */
    boolean tryLock() {
        if (casLocked(0, 1)) {
            assert setOwner(Thread.currentThread());
            return true;
        }
        return false;
    }

    void lock() {
        while (!casLocked(0, 1)) {
            Thread.onSpinWait();
        }
        assert setOwner(Thread.currentThread());
    }

    void unlock() {
        assert isHeldByCurrentThread() : "pcp unlock by a thread that does not hold it";
        assert setOwner(null);
        soLocked(0);
    }

    /**
     * Whether the calling thread holds the lock: for assertions only ({@code lockdep_assert_held}); the owner is
     * recorded only when assertions are enabled, so without {@code -ea} the lock costs one CAS and one store.
     */
    boolean isHeldByCurrentThread() {
        return lvLocked() == 1 && owner == Thread.currentThread();
    }

    private boolean setOwner(final Thread t) {
        owner = t;
        return true;
    }

    private boolean casLocked(final int expect, final int update) {
        return LOCK.compareAndSet(this, expect, update);
    }

    private void soLocked(final int value) {
        LOCK.setRelease(this, value);
    }

    private int lvLocked() {
        return (int) LOCK.getVolatile(this);
    }

    /** {@code list_add}: pushes at the head (lock held). */
    void addHead(final MemMap mm, final int pindex, final long pfn) {
        assert isHeldByCurrentThread() : "pcp list_add without the pcp lock";
        PageList.addHead(mm, lists, HEAD + pindex, lists, TAIL + pindex, pfn);
        listCounts[2 * PAD + pindex]++;
    }

    /** {@code list_add_tail} (lock held). */
    void addTail(final MemMap mm, final int pindex, final long pfn) {
        assert isHeldByCurrentThread() : "pcp list_add_tail without the pcp lock";
        PageList.addTail(mm, lists, HEAD + pindex, lists, TAIL + pindex, pfn);
        listCounts[2 * PAD + pindex]++;
    }

    /** Removes and returns the first page of a list, or -1 (lock held). */
    long removeHead(final MemMap mm, final int pindex) {
        return remove(mm, pindex, lists[HEAD + pindex]);
    }

    /** Removes and returns the last page of a list ({@code list_last_entry}), or -1 (lock held). */
    long removeTail(final MemMap mm, final int pindex) {
        return remove(mm, pindex, lists[TAIL + pindex]);
    }

    private long remove(final MemMap mm, final int pindex, final long pfn) {
        assert isHeldByCurrentThread() : "pcp list_del without the pcp lock";
        if (pfn >= 0) {
            PageList.unlink(mm, lists, HEAD + pindex, lists, TAIL + pindex, pfn);
            listCounts[2 * PAD + pindex]--;
        }
        return pfn;
    }
}

/** Leading padding of {@link Pcp} (fields of a superclass come first in the object). */
abstract class PcpPad {
    long p00;
    long p01;
    long p02;
    long p03;
    long p04;
    long p05;
    long p06;
    long p07;
}

/** The fields of {@link Pcp}, between two paddings (agrona/JCTools style). */
abstract class PcpFields extends PcpPad {
    /** The lock word: 0 free, 1 held ({@code casLocked}/{@code soLocked}/{@code lvLocked}). */
    volatile int locked;
    /** The holder, recorded only with assertions on (written and read by the holder, under the lock). */
    Thread owner;
    /** Padding, list heads, list tails, padding: one array, so no other CPU's data shares its cache lines. */
    final long[] lists = new long[Pcp.PAD + 2 * Pcp.NR_PCP_LISTS + Pcp.PAD];
    final int[] listCounts = new int[2 * Pcp.PAD + Pcp.NR_PCP_LISTS + 2 * Pcp.PAD];
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
    /** When {@code decay_pcp_high} last ran here (BuddyAllocator.vmstatNow): the kernel's vmstat_update tick. */
    long lastDecay;

}
