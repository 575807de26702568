package org.mm4j.slab;

import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct node_barn} (Linux 6.18): a node's depot of full and empty sheaves, at most {@link #maxFull} and
 * {@link #maxEmpty} of each: the kernel's {@link #MAX_FULL_SHEAVES}/{@link #MAX_EMPTY_SHEAVES} for caches with
 * per-CPU sheaves; for caches served only by the JVM's per-thread sheaves, up to about 1 MiB of objects (at most 64 sheaves), since
 * a thread that frees in bursts (a consumer of another thread's objects) would otherwise push most sheaves back
 * through the slab layer (a tuning departure, named). Threads: every field under {@link #lock};
 * {@link #nrFull()}/{@link #nrEmpty()} may be read racily for statistics.
 */
final class Barn {
    static final int MAX_FULL_SHEAVES = 10;
    static final int MAX_EMPTY_SHEAVES = 10;

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Sheaf> full = new ArrayDeque<>();
    private final ArrayDeque<Sheaf> empty = new ArrayDeque<>();
    private volatile int nrFull;
    private volatile int nrEmpty;
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

    /** {@code barn_get_full_sheaf}-like: a full sheaf, or null. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    Sheaf getFull() {
        lock.lock();
        try {
            final Sheaf s = full.pollFirst();
            if (s != null) {
                nrFull--;
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Puts a full sheaf; false (the caller keeps it) when the barn already holds the maximum. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    boolean putFull(final Sheaf sheaf) {
        lock.lock();
        try {
            if (nrFull >= maxFull) {
                return false;
            }
            full.addLast(sheaf);
            nrFull++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    Sheaf getEmpty() {
        lock.lock();
        try {
            final Sheaf s = empty.pollFirst();
            if (s != null) {
                nrEmpty--;
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Puts an empty sheaf; false when the barn is at its limit (the caller drops it). */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the barn lock; volatile for the lock-free size reads
    boolean putEmpty(final Sheaf sheaf) {
        lock.lock();
        try {
            if (nrEmpty >= maxEmpty) {
                return false;
            }
            empty.addLast(sheaf);
            nrEmpty++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** {@code barn_shrink}: takes every sheaf out (full ones to be flushed by the caller). */
    Sheaf[] drainAll() {
        lock.lock();
        try {
            final Sheaf[] out = new Sheaf[full.size() + empty.size()];
            int i = 0;
            for (final Sheaf s : full) {
                out[i++] = s;
            }
            for (final Sheaf s : empty) {
                out[i++] = s;
            }
            full.clear();
            empty.clear();
            nrFull = 0;
            nrEmpty = 0;
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Objects held in full sheaves (racy; for statistics and accounting after quiescence). */
    long objects() {
        lock.lock();
        try {
            long n = 0;
            for (final Sheaf s : full) {
                n += s.size;
            }
            return n;
        } finally {
            lock.unlock();
        }
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
