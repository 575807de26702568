package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Four threads allocating and freeing at once, two on each of two CPU slots, and four sharing one slot (the pcp
 * try-lock and its fallback to the zone lists), with frees crossing threads. Each block carries its owner's stamp,
 * checked on free, so a page handed out twice is caught; the run ends with every invariant and all memory back in
 * the free lists. It proves its race happened: the run goes on (in rounds, up to a generous deadline) until the
 * allocator counted {@value #MIN_TRYLOCK_FAILURES} pcp try-locks that found the lock held by another thread of the
 * slot and the threads freed {@value #MIN_CROSS_FREES} blocks allocated by another thread; a serialised run
 * (one thread) counts neither. Each case runs at least {@code -Dmm4j.stress.seconds}/2 (default 3 s in all).
 */
class BuddyStressTest {
    private static final double SECONDS = Double.parseDouble(System.getProperty("mm4j.stress.seconds", "3"));
    private static final int THREADS = Integer.getInteger("mm4j.stress.threads", 4);
    private static final long MIN_TRYLOCK_FAILURES = 20;
    private static final long MIN_CROSS_FREES = 1000;
    private static final long DEADLINE_SECONDS = Long.getLong("mm4j.stress.deadline", 120);

    @Test
    void fourThreadsOnTwoCpuSlots() throws InterruptedException {
        run("mem=64M nr_cpus=2", SECONDS / 2);
    }

    @Test
    void fourThreadsSharingOneCpuSlot() throws InterruptedException {
        run("mem=64M nr_cpus=1", SECONDS / 2);
    }

    private static void run(final String cmdline, final double seconds) throws InterruptedException {
        try (Kernel k = Kernel.boot(cmdline)) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            final long start = System.nanoTime();
            final long minEnd = start + (long) (seconds * 1e9);
            final long deadline = start + DEADLINE_SECONDS * 1_000_000_000L;
            final ConcurrentLinkedQueue<long[]> handoff = new ConcurrentLinkedQueue<>();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicBoolean stop = new AtomicBoolean();
            final LongAdder crossFrees = new LongAdder();
            final Thread[] threads = new Thread[THREADS];
            for (int t = 0; t < THREADS; t++) {
                final int id = t;
                threads[t] = new Thread(() -> {
                    try {
                        k.cpus().pin(id % k.cpus().nrCpus());
                        work(b, m, id, stop, handoff, crossFrees);
                    } catch (final Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "stress-" + t);
                threads[t].start();
            }
            long reads = 0;
            // retry until observed: at least the minimum time, then until both races were counted (or deadline)
            while (failure.get() == null && System.nanoTime() < deadline && (System.nanoTime() < minEnd
                || b.pcpTrylockFailures() < MIN_TRYLOCK_FAILURES || crossFrees.sum() < MIN_CROSS_FREES)) {
                // racy readers must never fail
                assertTrue(k.procfs().read("/proc/buddyinfo").startsWith("Node 0"));
                assertTrue(k.procfs().read("/proc/vmstat").startsWith("nr_free_pages "));
                reads++;
                Thread.sleep(20);
            }
            stop.set(true);
            for (final Thread t : threads) {
                t.join();
            }
            assertNull(failure.get(), () -> "worker failed: " + failure.get());
            for (long[] blk; (blk = handoff.poll()) != null;) {
                checkStamp(m, blk);
                assertTrue(b.freePages(blk[0], (int) blk[1]));
            }
            assertTrue(reads > 0);
            b.drainAllPages();
            b.checkInvariants();
            assertEquals(0, b.badPageReports());
            assertEquals(b.totalramPages(), b.freePages());
            // the races this test exists for happened (a serialised run counts 0 of each)
            final String counts = cmdline + ": pcp try-locks that met the lock held " + b.pcpTrylockFailures()
                + ", blocks freed by another thread " + crossFrees.sum() + ", "
                + (System.nanoTime() - start) / 1_000_000 + " ms";
            System.out.println("BuddyStressTest: " + counts);
            assertTrue(b.pcpTrylockFailures() >= MIN_TRYLOCK_FAILURES, counts);
            assertTrue(crossFrees.sum() >= MIN_CROSS_FREES, counts);
        }
    }

    private static void work(final BuddyAllocator b, final PhysicalMemory m, final int id, final AtomicBoolean stop,
                             final ConcurrentLinkedQueue<long[]> handoff, final LongAdder crossFrees) {
        final SplittableRandom rnd = new SplittableRandom(42 + id);
        final List<long[]> live = new ArrayList<>();
        long ops = 0;
        while ((ops & 255) != 0 || !stop.get()) {
            ops++;
            final int r = rnd.nextInt(100);
            if (r < 50 && live.size() < 2000) {
                final int order = rnd.nextInt(10) < 8 ? rnd.nextInt(4) : 4 + rnd.nextInt(7);
                final int gfp = (rnd.nextBoolean() ? Gfp.KERNEL : Gfp.HIGHUSER_MOVABLE)
                    | (rnd.nextInt(4) == 0 ? Gfp.COMP : 0) | Gfp.NOWARN;
                final long pfn = b.allocPages(gfp, order);
                if (pfn >= 0) {
                    final long[] blk = {pfn, order, id * 1_000_000_007L + ops, id};
                    m.putLong(PhysicalMemory.pfnToPhys(pfn), blk[2]);
                    m.putLong(PhysicalMemory.pfnToPhys(pfn + (1L << order) - 1) + 8, ~blk[2]);
                    if (rnd.nextInt(8) == 0) {
                        handoff.add(blk);
                    } else {
                        live.add(blk);
                    }
                }
            } else if (r < 95 && !live.isEmpty()) {
                final long[] blk = live.remove(rnd.nextInt(live.size()));
                checkStamp(m, blk);
                if (!b.freePages(blk[0], (int) blk[1])) {
                    throw new AssertionError("free refused for " + blk[0]);
                }
            } else {
                final long[] blk = handoff.poll();
                if (blk != null) {
                    checkStamp(m, blk);
                    if (!b.freePages(blk[0], (int) blk[1])) {
                        throw new AssertionError("cross-thread free refused for " + blk[0]);
                    }
                    if (blk[3] != id) {
                        crossFrees.increment();
                    }
                }
            }
        }
        for (final long[] blk : live) {
            checkStamp(m, blk);
            b.freePages(blk[0], (int) blk[1]);
        }
    }

    private static void checkStamp(final PhysicalMemory m, final long[] blk) {
        final long pfn = blk[0];
        final long last = pfn + (1L << blk[1]) - 1;
        if (m.getLong(PhysicalMemory.pfnToPhys(pfn)) != blk[2]
            || m.getLong(PhysicalMemory.pfnToPhys(last) + 8) != ~blk[2]) {
            throw new AssertionError(String.format("block 0x%x order %d was overwritten: handed out twice?", pfn,
                blk[1]));
        }
    }
}
