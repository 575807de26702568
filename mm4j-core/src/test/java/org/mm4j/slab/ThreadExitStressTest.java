package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thread exits under fire: waves of short-lived platform and virtual threads allocate random kmalloc sizes
 * through {@link Slub#allocator()}, stamp every object, free some themselves, leave the rest to be freed by other
 * threads (after they ended), and end, with sheaves still full; meanwhile a chaos thread runs
 * {@code kmem_cache_shrink}, {@code validate} and its own flush, and the reaper returns ended threads' sheaves.
 * Every address is live at most once (a set of live addresses), every stamp survives, every {@code validate} is
 * clean, and at the end every object is accounted for and the page allocator is back at its initial free count.
 * Runs ~3 s; {@code -Dmm4j.stress.seconds=N} for a soak.
 */
class ThreadExitStressTest {
    private static final int SECONDS = Integer.getInteger("mm4j.stress.seconds", 3);
    private static final int[] SIZES = {8, 64, 96, 192, 256, 1024, 4096};

    @Test
    void threadExitsWithConcurrentShrinkValidateAndFlush() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final long initialFree = quietFreePages(k);
            final Set<Long> live = ConcurrentHashMap.newKeySet();
            final ConcurrentLinkedQueue<long[]> orphans = new ConcurrentLinkedQueue<>();  // {kaddr, stamp}
            final AtomicLong stamps = new AtomicLong(1);
            final AtomicLong allocated = new AtomicLong();
            final AtomicLong freed = new AtomicLong();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicBoolean stop = new AtomicBoolean();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);

            final Runnable worker = () -> {
                try {
                    final SlabAllocator a = slub.allocator();
                    final SplittableRandom rnd = new SplittableRandom(stamps.getAndIncrement());
                    final long[] mine = new long[rnd.nextInt(1, 200)];
                    final long[] myStamps = new long[mine.length];
                    for (int i = 0; i < mine.length; i++) {
                        final int size = SIZES[rnd.nextInt(SIZES.length)];
                        final long p = a.kmalloc(size);
                        if (p == 0) {
                            throw new AssertionError("kmalloc(" + size + ") failed");
                        }
                        if (!live.add(p)) {
                            throw new AssertionError("0x" + Long.toHexString(p) + " handed out twice");
                        }
                        allocated.incrementAndGet();
                        mine[i] = p;
                        myStamps[i] = stamps.getAndIncrement();
                        slub.segment(p, 8).set(ValueLayout.JAVA_LONG, 0, myStamps[i]);
                    }
                    for (int i = 0; i < mine.length; i++) {
                        if (rnd.nextInt(3) == 0) {
                            orphans.add(new long[] {mine[i], myStamps[i]});  // freed by another thread later
                        } else {
                            check(slub, mine[i], myStamps[i]);
                            live.remove(mine[i]);
                            a.kfree(mine[i]);
                            freed.incrementAndGet();
                        }
                    }
                    // about a third of each worker's objects become orphans; free more of them than that on
                    // average, and everything past 4,096, so the live set stays bounded however many waves a
                    // fast machine runs (an unbounded queue exhausted mem=64M after ~1,200 waves)
                    freeOrphans(slub, a, orphans, live, freed,
                        rnd.nextInt(1, 50) + Math.max(0, orphans.size() - 4096));
                } catch (final Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            final Thread chaos = Thread.ofPlatform().name("chaos").start(() -> {
                final SplittableRandom rnd = new SplittableRandom(42);
                try {
                    while (!stop.get()) {
                        final KmemCache c = slub.kmallocCache(SIZES[rnd.nextInt(SIZES.length)], 0);
                        switch (rnd.nextInt(3)) {
                            case 0 -> c.shrink();
                            case 1 -> {
                                final int errors = c.validate();
                                if (errors != 0) {
                                    throw new AssertionError("validate(" + c.name() + ") = " + errors);
                                }
                            }
                            default -> {
                                final SlabAllocator a = slub.allocator();
                                a.free(a.allocate(64));
                                a.flush();
                            }
                        }
                        Thread.yield();
                    }
                } catch (final Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            int waves = 0;
            while (System.nanoTime() < deadline && failure.get() == null) {
                final List<Thread> wave = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    wave.add(Thread.ofPlatform().start(worker));
                    wave.add(Thread.ofVirtual().start(worker));
                }
                for (final Thread t : wave) {
                    t.join();
                }
                waves++;
            }
            stop.set(true);
            chaos.join();
            final int nrWaves = waves;
            if (failure.get() != null) {
                throw new AssertionError("after " + nrWaves + " waves", failure.get());
            }
            final Thread last = Thread.ofPlatform().start(() -> freeOrphans(slub, slub.allocator(), orphans, live,
                freed, Integer.MAX_VALUE));
            last.join();
            assertTrue(orphans.isEmpty());
            assertTrue(live.isEmpty(), live.size() + " objects never freed");
            assertEquals(allocated.get(), freed.get());
            ThreadSheavesTest.await(() -> slub.endedThreadSheafOwners() == 0, "every ended thread reaped");
            slub.allocator().flush();
            for (final KmemCache c : slub.caches()) {
                assertEquals(0, c.validate(), c.name());
                assertEquals(0, c.activeObjects(), c.name());
            }
            final long endFree = quietFreePages(k);
            if (endFree != initialFree) {
                System.err.println(k.procfs().read("/proc/slabinfo"));
            }
            assertEquals(initialFree, endFree, "every page back in the buddy free lists");
            assertTrue(k.log().messages().stream().noneMatch(l -> l.contains("BUG")), "no slab error reported");
        }
    }

    private static void check(final Slub slub, final long p, final long stamp) {
        final long got = slub.segment(p, 8).get(ValueLayout.JAVA_LONG, 0);
        if (got != stamp) {
            throw new AssertionError("0x" + Long.toHexString(p) + ": stamp " + got + ", expected " + stamp);
        }
    }

    private static void freeOrphans(final Slub slub, final SlabAllocator a, final ConcurrentLinkedQueue<long[]> q,
                                    final Set<Long> live, final AtomicLong freed, final int max) {
        for (int i = 0; i < max; i++) {
            final long[] o = q.poll();
            if (o == null) {
                return;
            }
            check(slub, o[0], o[1]);
            live.remove(o[0]);
            a.kfree(o[0]);
            freed.incrementAndGet();
        }
    }

    /** Free pages with every cache shrunk and every CPU's page lists drained. */
    private static long quietFreePages(final Kernel k) {
        for (final KmemCache c : k.slab().caches()) {
            c.shrink();
        }
        k.buddy().drainAllPages();
        return k.buddy().freePages();
    }
}
