package org.mm4j.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct slub_percpu_sheaves} of one CPU slot: the main sheaf (never null), the spare (empty, full or
 * null). Guarded by a try-lock ({@code local_trylock_t}): the fast paths try it once and fall back to the CPU
 * slab paths when another thread of the same slot holds it, as the kernel does when the trylock fails.
 * Threads: {@link #main}/{@link #spare} only under the lock.
 */
final class CpuSheaves {
    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(CpuSheaves.class, "locked", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile int locked;
    Sheaf main;
    Sheaf spare;

    CpuSheaves(final int capacity) {
        this.main = new Sheaf(capacity);
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

    /** Objects held (racy unless the slot is quiescent). */
    int objects() {
        return main.size + (spare == null ? 0 : spare.size);
    }
}
