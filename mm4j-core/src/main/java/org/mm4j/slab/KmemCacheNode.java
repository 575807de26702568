package org.mm4j.slab;

import org.mm4j.page.MemMap;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct kmem_cache_node}: one per cache per NUMA node. Holds the node partial list (and the full list of
 * STORE_USER debug caches), linked through the {@link MemMap#LRU_NEXT}/{@link MemMap#LRU_PREV} fields of each
 * slab's head page, and the node's slab counters.
 *
 * <p>Invariants (under {@link #listLock}): a slab is on the partial list iff its head page has
 * {@link #ON_PARTIAL} in its private word (the kernel's PG_workingset); such a slab is not frozen and has at
 * least one free object; {@link #nrPartial} counts the list. {@link #nrSlabs}/{@link #totalObjects} are atomics
 * changed without the lock (as the kernel's atomic_long_t). Threads: list fields only under {@link #listLock}
 * (each list method asserts it, as the kernel's {@code lockdep_assert_held(&n->list_lock)}).
 */
final class KmemCacheNode {
    /** Private-word bit: the slab is on its node's partial list. */
    static final long ON_PARTIAL = 1;
    /** Private-word bit: the slab is on its node's full list (STORE_USER caches). */
    static final long ON_FULL = 2;

    final int nid;
    final ReentrantLock listLock = new ReentrantLock();
    volatile long nrPartial;
    long partialHead = -1;
    long partialTail = -1;
    long fullHead = -1;
    long nrFull;
    final AtomicLong nrSlabs = new AtomicLong();
    final AtomicLong totalObjects = new AtomicLong();
    final Barn barn;

    KmemCacheNode(final int nid, final Barn barn) {
        this.nid = nid;
        this.barn = barn;
    }

    /** {@code add_partial} ({@code __add_partial}, the lock asserted): to the head (DEACTIVATE_TO_HEAD) or the tail. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under list_lock (asserted); volatile for the lock-free readers (slabinfo, get_partial checks)
    void addPartial(final MemMap mm, final long slab, final boolean tail) {
        assert listLock.isHeldByCurrentThread() : "list_lock of node " + nid + " not held";
        if (partialHead < 0) {
            mm.lruNext(slab, -1);
            mm.lruPrev(slab, -1);
            partialHead = slab;
            partialTail = slab;
        } else if (tail) {
            mm.lruNext(slab, -1);
            mm.lruPrev(slab, partialTail);
            mm.lruNext(partialTail, slab);
            partialTail = slab;
        } else {
            mm.lruPrev(slab, -1);
            mm.lruNext(slab, partialHead);
            mm.lruPrev(partialHead, slab);
            partialHead = slab;
        }
        mm.privateWord(slab, mm.privateWord(slab) | ON_PARTIAL);
        nrPartial++;
    }

    /** {@code remove_partial}. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under list_lock (asserted); volatile for the lock-free readers (slabinfo, get_partial checks)
    void removePartial(final MemMap mm, final long slab) {
        assert listLock.isHeldByCurrentThread() : "list_lock of node " + nid + " not held";
        final long next = mm.lruNext(slab);
        final long prev = mm.lruPrev(slab);
        if (prev >= 0) {
            mm.lruNext(prev, next);
        } else {
            partialHead = next;
        }
        if (next >= 0) {
            mm.lruPrev(next, prev);
        } else {
            partialTail = prev;
        }
        mm.lruNext(slab, -1);
        mm.lruPrev(slab, -1);
        mm.privateWord(slab, mm.privateWord(slab) & ~ON_PARTIAL);
        nrPartial--;
    }

    /** {@code add_full} (STORE_USER caches only, as in the kernel). */
    void addFull(final MemMap mm, final long slab) {
        assert listLock.isHeldByCurrentThread() : "list_lock of node " + nid + " not held";
        mm.lruPrev(slab, -1);
        mm.lruNext(slab, fullHead);
        if (fullHead >= 0) {
            mm.lruPrev(fullHead, slab);
        }
        fullHead = slab;
        mm.privateWord(slab, mm.privateWord(slab) | ON_FULL);
        nrFull++;
    }

    /** {@code remove_full}; a no-op for a slab that is not on the full list. */
    void removeFull(final MemMap mm, final long slab) {
        assert listLock.isHeldByCurrentThread() : "list_lock of node " + nid + " not held";
        if ((mm.privateWord(slab) & ON_FULL) == 0) {
            return;
        }
        final long next = mm.lruNext(slab);
        final long prev = mm.lruPrev(slab);
        if (prev >= 0) {
            mm.lruNext(prev, next);
        } else {
            fullHead = next;
        }
        if (next >= 0) {
            mm.lruPrev(next, prev);
        }
        mm.lruNext(slab, -1);
        mm.lruPrev(slab, -1);
        mm.privateWord(slab, mm.privateWord(slab) & ~ON_FULL);
        nrFull--;
    }
}
