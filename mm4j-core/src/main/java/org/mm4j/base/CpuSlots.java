package org.mm4j.base;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * CPU slots: the model's CPUs ({@code nr_cpus=}). A JVM cannot pin a thread to a CPU, so each thread is mapped to
 * a slot: round-robin on its first use, or explicitly with {@link #pin(int)} (the kmem replayer pins each event to
 * the CPU the trace names).
 *
 * <p>Departure from Linux, named: two threads can share one slot, and a thread's slot does not change under it
 * while it runs, but per-CPU data is still reached by several threads at once. That is exactly the kernel's
 * "preempted and migrated between reading the per-CPU pointer and the cmpxchg" case, and the per-CPU protocols
 * (tid, local lock) must handle it; they never assume one thread per slot.
 *
 * <p>Threads: {@link #current()} is called on hot paths; it allocates nothing after the thread's first call. The
 * thread that pinned itself last (a kmem replay pins per event) finds its slot without the thread-local lookup:
 * {@link #pinned} names it and its slot; any other thread, or a stale read of that field, takes the lookup.
 */
public final class CpuSlots {
    private final int nrCpus;
    private final AtomicInteger next = new AtomicInteger();
    private final ThreadLocal<int[]> slot;
    /**
     * The last thread that called {@link #pin} and its slot (the same array as its thread-local's). Read and written
     * without ordering on purpose: the record's fields are final, so a thread sees either a whole record or an
     * older one, and it uses the record only when it names the thread itself, whose own writes it always sees.
     */
    private Pinned pinned;

    private record Pinned(Thread thread, int[] slot) {
    }

    public CpuSlots(final int nrCpus) {
        if (nrCpus < 1) {
            throw new IllegalArgumentException("nrCpus=" + nrCpus + " (expected: >= 1)");
        }
        this.nrCpus = nrCpus;
        this.slot = ThreadLocal.withInitial(() -> new int[] {Math.floorMod(next.getAndIncrement(), nrCpus)});
    }

    public int nrCpus() {
        return nrCpus;
    }

    /** The calling thread's CPU slot, {@code 0 <= slot < nrCpus}. */
    public int current() {
        final Pinned p = pinned;
        return p != null && p.thread == Thread.currentThread() ? p.slot[0] : slot.get()[0];
    }

    /** Maps the calling thread to {@code cpu} (like running it under {@code taskset}). Returns the old slot. */
    public int pin(final int cpu) {
        if (cpu < 0 || cpu >= nrCpus) {
            throw new IllegalArgumentException("cpu=" + cpu + " (expected: 0 to " + (nrCpus - 1) + ")");
        }
        final Thread t = Thread.currentThread();
        Pinned p = pinned;
        if (p == null || p.thread != t) {
            p = new Pinned(t, slot.get());
            pinned = p;
        }
        final int old = p.slot[0];
        p.slot[0] = cpu;
        return old;
    }
}
