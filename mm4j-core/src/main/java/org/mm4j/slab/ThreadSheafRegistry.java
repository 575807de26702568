package org.mm4j.slab;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The owners of per-thread sheaves and their reaper: mm4j's thread-exit hook. The JVM has none, and a thread that
 * ends leaves its {@link SlabAllocator}'s sheaves (up to {@code 2 x mm4j.sheaves} objects per cache it used)
 * where no one else may touch them while it lives.
 *
 * <p>Design:
 * <ol>
 *   <li>Every platform thread's allocator with sheaves registers here when it is created
 *       ({@link Slub#allocator()}). Virtual threads do not: they share one allocator without sheaves (see
 *       {@link Slub#allocator()}), unless one asks for its own ({@link Slub#confinedAllocator()}).</li>
 *   <li>A daemon thread, {@code mm4j-sheaf-reaper} (started on the first registration, stopped by
 *       {@link #close()}), polls the registered owners with {@link Thread#isAlive()} and returns the sheaves of
 *       each ended one to the slab layer. It parks while nothing is registered; it polls every
 *       {@value #MIN_POLL_MILLIS} ms after a registration or a reap, doubling up to {@value #MAX_POLL_MILLIS} ms
 *       while nothing ends, so an ended thread's sheaves go back within about {@value #MAX_POLL_MILLIS} ms and
 *       an idle process costs one scan per {@value #MAX_POLL_MILLIS} ms.</li>
 *   <li>Slow paths reap too, without waiting for the daemon: {@code flush_all} (shrink, validate, destroy) and
 *       an allocation about to fail ({@link Slub#reclaimStranded()}).</li>
 * </ol>
 *
 * <p>Invariants: (1) only the owner touches its sheaves while it is alive; (2) the sheaves of an ended owner are
 * flushed exactly once, by whichever reaper comes first (the daemon, a shrink, an allocation about to fail): the
 * flush runs under the allocator's monitor and sets its {@code reaped} flag, so a second reaper waits for the
 * first and then finds nothing to do (two concurrent {@code shrink()}s can no longer free the same objects
 * twice); (3) {@code isAlive() == false} happens-after everything the ended thread did, so its plain sheaf fields
 * are read safely.
 *
 * <p>Threads: every method may be called from any thread. Lock order: an allocator's monitor, then the slab locks
 * of {@link KmemCache} (the flush takes them); no reaper holds a slab lock when it takes an allocator's monitor.
 */
final class ThreadSheafRegistry {
    static final long MIN_POLL_MILLIS = 1;
    static final long MAX_POLL_MILLIS = 64;

    private final Set<SlabAllocator> owners = ConcurrentHashMap.newKeySet();
    private final AtomicLong registered = new AtomicLong();
    private final AtomicLong reapedThreads = new AtomicLong();
    private final AtomicLong reapedObjects = new AtomicLong();
    private Thread reaper;  // guarded by this
    private volatile boolean kicked;
    private volatile boolean stopped;
    /** Tests only: the daemon stops reaping (slow-path reapers still run). */
    private volatile boolean daemonPaused;

    /** Registers the allocator of the calling platform thread; starts the reaper on first use. */
    void register(final SlabAllocator a) {
        owners.add(a);
        registered.incrementAndGet();
        final Thread r;
        synchronized (this) {
            if (stopped) {
                return;
            }
            if (reaper == null) {
                reaper = Thread.ofPlatform().daemon().name("mm4j-sheaf-reaper").unstarted(this::run);
                reaper.start();
            }
            r = reaper;
        }
        kicked = true;
        LockSupport.unpark(r);
    }

    private void run() {
        long poll = MIN_POLL_MILLIS;
        while (!stopped) {
            if (owners.isEmpty()) {
                LockSupport.park(this);
                poll = MIN_POLL_MILLIS;
                continue;
            }
            final int n = daemonPaused ? 0 : reapEnded();
            if (n > 0 || kicked) {
                kicked = false;
                poll = MIN_POLL_MILLIS;
            } else {
                poll = Math.min(poll * 2, MAX_POLL_MILLIS);
            }
            LockSupport.parkNanos(this, poll * 1_000_000L);
        }
    }

    /** Flushes the sheaves of every registered owner that has ended. Returns how many were reaped by this call. */
    int reapEnded() {
        int n = 0;
        for (final SlabAllocator a : owners) {
            if (!a.owner().isAlive() && reap(a)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Flushes the sheaves of {@code a}, whose owner must have ended, exactly once. Returns true when this call
     * flushed them, false when another reaper did (this call then returns after that flush completed).
     */
    boolean reap(final SlabAllocator a) {
        final long objects;
        synchronized (a) {
            if (a.reaped) {
                return false;
            }
            objects = a.flushAllCaches();
            a.reaped = true;
        }
        owners.remove(a);
        reapedThreads.incrementAndGet();
        reapedObjects.addAndGet(objects);
        return true;
    }

    /** The registered allocators (weakly consistent; may include one being reaped). */
    Iterable<SlabAllocator> owners() {
        return owners;
    }

    /** Registered owners that have ended and are not yet reaped (what the reaper has still to do). */
    int endedOwners() {
        int n = 0;
        for (final SlabAllocator a : owners) {
            if (!a.owner().isAlive()) {
                n++;
            }
        }
        return n;
    }

    int liveOwners() {
        return owners.size();
    }

    long registered() {
        return registered.get();
    }

    long reapedThreads() {
        return reapedThreads.get();
    }

    long reapedObjects() {
        return reapedObjects.get();
    }

    void pauseDaemon(final boolean paused) {
        daemonPaused = paused;
    }

    /** Stops the reaper and waits for it (a flush in progress completes first). Called before memory is freed. */
    void close() {
        final Thread r;
        synchronized (this) {
            stopped = true;
            r = reaper;
        }
        if (r != null) {
            LockSupport.unpark(r);
            boolean interrupted = false;
            while (r.isAlive()) {
                try {
                    r.join();
                } catch (final InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
