package org.mm4j.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct node_barn} (Linux 6.18): a node's depot of full and empty sheaves, at most {@link #maxFull} and
 * {@link #maxEmpty} of each: the kernel's {@link #MAX_FULL_SHEAVES}/{@link #MAX_EMPTY_SHEAVES} for caches with
 * per-CPU sheaves; for caches served only by the JVM's per-thread sheaves, up to about 1 MiB of objects (at most 64 sheaves), since
 * a thread that frees in bursts (a consumer of another thread's objects) would otherwise push most sheaves back
 * through the slab layer (a tuning departure, named). Threads: every field under the barn's spin lock
 * ({@code barn->lock}, a spinlock in the kernel too: the critical sections move one or two references);
 * {@link #nrFull()}/{@link #nrEmpty()} may be read racily, for statistics and for the kernel's {@code data_race}
 * pre-checks that skip the lock when there is nothing to take. Both lists are stacks, as the kernel's
 * ({@code list_add} and {@code list_first_entry}): the sheaf put last, whose objects are the warmest, comes back
 * first.
 *
 * <p>The lists are intrusive, as the kernel's {@code barn_list} is: each sheaf on a list links to the next by its
 * {@link Sheaf#barnNext} (null at the bottom; a sheaf is on at most one barn list, and off every list its link
 * is null). So an exchange touches the barn's own fields (lock word, list heads and counts: one object of about
 * 40 bytes) and the headers of the two sheaves exchanged, which the two sides read and write anyway; with a
 * deque per list it also touched each deque and its array slot, two more lines per list, each a transfer
 * between CPUs when the two sides of a producer/consumer pipeline run on different ones.
 */
final class Barn {
    static final int MAX_FULL_SHEAVES = 10;
    static final int MAX_EMPTY_SHEAVES = 10;

    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(Barn.class, "locked", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Spins before yielding the CPU: a holder that was descheduled must get to run. */
    private static final int SPINS = 64;

    @SuppressWarnings("unused")
    private volatile int locked;
    /** Top of the stack of full sheaves (null: none); linked by {@link Sheaf#barnNext}. */
    private Sheaf full;
    /** Top of the stack of empty sheaves (null: none). */
    private Sheaf empty;
    /** Written under the lock; read racily (plain int reads: some recent count) where the kernel uses data_race. */
    private int nrFull;
    private int nrEmpty;
    private final int maxFull;
    private final int maxEmpty;

    Barn(final int maxFull, final int maxEmpty) {
        this.maxFull = maxFull;
        this.maxEmpty = maxEmpty;
    }

    /** A barn with the kernel's limits. */
    Barn() {
        this(MAX_FULL_SHEAVES, MAX_EMPTY_SHEAVES);
    }

    private void lock() {
        int spins = 0;
        while (!LOCK.compareAndSet(this, 0, 1)) {
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private void unlock() {
        LOCK.setRelease(this, 0);
    }

    /**
     * {@code barn_replace_empty_sheaf}: a full sheaf in exchange for the empty one given, in one lock hold, or
     * null (nothing changed) when the barn has no full sheaf. The empty one goes in whatever the empty limit:
     * the number of sheaves in the barn does not change.
     */
    Sheaf replaceEmpty(final Sheaf emptySheaf) {
        if (nrFull == 0) {  // data_race(barn->nr_full): nothing to take, no lock
            return null;
        }
        lock();
        try {
            final Sheaf s = popFullLocked();
            if (s != null) {
                pushEmptyLocked(emptySheaf);
                nrFull--;
                nrEmpty++;
            }
            return s;
        } finally {
            unlock();
        }
    }

    /**
     * {@code barn_replace_full_sheaf}: an empty sheaf in exchange for the full one given, in one lock hold, or
     * null (nothing changed) when the barn holds its maximum of full sheaves (the kernel's {@code -E2BIG}) or has
     * no empty sheaf ({@code -ENOMEM}).
     */
    Sheaf replaceFull(final Sheaf fullSheaf) {
        if (nrFull >= maxFull || nrEmpty == 0) {  // racy, as the kernel's
            return null;
        }
        lock();
        try {
            // the limit is checked again under the lock (the kernel does not), so that it bounds what barns hold
            final Sheaf s = nrFull < maxFull ? popEmptyLocked() : null;
            if (s != null) {
                pushFullLocked(fullSheaf);
                nrEmpty--;
                nrFull++;
            }
            return s;
        } finally {
            unlock();
        }
    }

    /** {@code barn_get_full_sheaf}-like: a full sheaf, or null. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    Sheaf getFull() {
        if (nrFull == 0) {  // data_race(barn->nr_full)
            return null;
        }
        lock();
        try {
            final Sheaf s = popFullLocked();
            if (s != null) {
                nrFull--;
            }
            return s;
        } finally {
            unlock();
        }
    }

    /** Puts a full sheaf; false (the caller keeps it) when the barn already holds the maximum. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    boolean putFull(final Sheaf sheaf) {
        lock();
        try {
            if (nrFull >= maxFull) {
                return false;
            }
            pushFullLocked(sheaf);
            nrFull++;
            return true;
        } finally {
            unlock();
        }
    }

    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    Sheaf getEmpty() {
        if (nrEmpty == 0) {  // data_race(barn->nr_empty)
            return null;
        }
        lock();
        try {
            final Sheaf s = popEmptyLocked();
            if (s != null) {
                nrEmpty--;
            }
            return s;
        } finally {
            unlock();
        }
    }

    /** Puts an empty sheaf; false when the barn is at its limit (the caller drops it). */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    boolean putEmpty(final Sheaf sheaf) {
        lock();
        try {
            if (nrEmpty >= maxEmpty) {
                return false;
            }
            pushEmptyLocked(sheaf);
            nrEmpty++;
            return true;
        } finally {
            unlock();
        }
    }

    /** {@code barn_shrink}: takes every sheaf out (full ones to be flushed by the caller). */
    Sheaf[] drainAll() {
        lock();
        try {
            final Sheaf[] out = new Sheaf[nrFull + nrEmpty];
            int i = 0;
            for (Sheaf s; (s = popFullLocked()) != null; ) {
                out[i++] = s;
            }
            for (Sheaf s; (s = popEmptyLocked()) != null; ) {
                out[i++] = s;
            }
            assert i == out.length : "barn lists hold " + i + " sheaves, counts say " + out.length;
            nrFull = 0;
            nrEmpty = 0;
            return out;
        } finally {
            unlock();
        }
    }

    /** Objects held in full sheaves (racy; for statistics and accounting after quiescence). */
    long objects() {
        lock();
        try {
            long n = 0;
            for (Sheaf s = full; s != null; s = s.barnNext) {
                n += s.size;
            }
            return n;
        } finally {
            unlock();
        }
    }

    /** {@code list_add(&sheaf->barn_list, &barn->sheaves_full)}; caller holds the lock. */
    private void pushFullLocked(final Sheaf sheaf) {
        full = linkLocked(sheaf, full);
    }

    /** {@code list_first_entry} + {@code list_del} of the full list, or null; caller holds the lock. */
    private Sheaf popFullLocked() {
        final Sheaf s = full;
        if (s != null) {
            full = unlinkLocked(s);
        }
        return s;
    }

    /** {@code list_add(&sheaf->barn_list, &barn->sheaves_empty)}; caller holds the lock. */
    private void pushEmptyLocked(final Sheaf sheaf) {
        empty = linkLocked(sheaf, empty);
    }

    /** The empty list's first sheaf, taken off it, or null; caller holds the lock. */
    private Sheaf popEmptyLocked() {
        final Sheaf s = empty;
        if (s != null) {
            empty = unlinkLocked(s);
        }
        return s;
    }

    /** Links {@code sheaf} on top of the list whose top is {@code top}; returns the new top. Lock held. */
    private Sheaf linkLocked(final Sheaf sheaf, final Sheaf top) {
        assert locked == 1 : "barn lock not held";
        assert sheaf.barnNext == null : "sheaf already on a barn list";
        sheaf.barnNext = top;
        return sheaf;
    }

    /** Unlinks {@code top}, the top of a list; returns the list's new top. Lock held. */
    private Sheaf unlinkLocked(final Sheaf top) {
        assert locked == 1 : "barn lock not held";
        final Sheaf next = top.barnNext;
        top.barnNext = null;
        return next;
    }

    /** The most full sheaves this barn parks. */
    int maxFull() {
        return maxFull;
    }

    int nrFull() {
        return nrFull;
    }

    int nrEmpty() {
        return nrEmpty;
    }
}
