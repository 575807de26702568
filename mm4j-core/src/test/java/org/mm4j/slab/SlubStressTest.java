package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrency proof: producers allocate random sizes (kmalloc through the per-CPU slab paths, through per-thread
 * sheaves, from a named cache, and from a cache with per-CPU sheaves), stamp each object, hand most of them to
 * consumers on the other CPU slot that check the stamp and free them (remote frees), while a shrinker runs
 * kmem_cache_shrink (which seizes each slot's word to flush it). Five threads share two CPU slots, a producer
 * and a consumer on each. Afterwards every object must be accounted for and a full validation walk must find no
 * error.
 *
 * <p>The test proves its races happened, on the model's own counters: it runs at least
 * {@code -Dmm4j.stress.seconds} (3 s), then on (up to a generous deadline) until it has counted
 * {@value #MIN_CPU_CAS_FAILS} {@code cmpxchg_double_cpu_fail} (a {freelist, tid} CAS lost to another thread of
 * the slot), {@value #MIN_FREES_MET_LOCKED} frees that met their CPU slab's word seized by a slow path,
 * {@value #MIN_FREE_FROZEN} frees to another slot's frozen slab ({@code free_frozen}), {@value #MIN_PCS_TRYLOCK_FAILS}
 * per-CPU sheaf try-locks found held by the slot's other thread, {@value #MIN_BARN_GETS} full sheaves taken from a
 * barn, and {@value #MIN_CROSS_REUSE} objects freed by one thread and then allocated by another. A serialised run
 * (one thread) counts 0 of all but the barn's; one slot ({@code -Dmm4j.stress.cpus=1}) has no free_frozen.
 */
class SlubStressTest {
    private static final int SECONDS = Integer.getInteger("mm4j.stress.seconds", 3);
    private static final long DEADLINE_SECONDS = Long.getLong("mm4j.stress.deadline", 120);
    private static final int NR_CPUS = Integer.getInteger("mm4j.stress.cpus", 2);
    private static final long MIN_CPU_CAS_FAILS = 5;
    private static final long MIN_FREES_MET_LOCKED = 5;
    private static final long MIN_FREE_FROZEN = 100;
    private static final long MIN_BARN_GETS = 10;
    private static final long MIN_CROSS_REUSE = 1000;
    private static final long MIN_PCS_TRYLOCK_FAILS = 10;

    @Test
    void producersConsumersAndShrinkerKeepEveryObjectAccountedFor() throws Exception {
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=" + NR_CPUS)) {
            final Slub slub = k.slab();
            final KmemCache named = slub.kmemCacheCreate("stress_obj", 72, 0, SlabFlags.SLAB_HWCACHE_ALIGN, null);
            final KmemCache sheafed = slub.kmemCacheCreate("stress_sheaf", 40,
                KmemCacheArgs.DEFAULT.withSheafCapacity(16));
            final Set<Long> live = ConcurrentHashMap.newKeySet();
            final Map<Long, Integer> lastFreer = new ConcurrentHashMap<>();
            final LongAdder allocs = new LongAdder();
            final LongAdder frees = new LongAdder();
            final LongAdder remoteFrees = new LongAdder();
            final LongAdder crossReuse = new LongAdder();
            final AtomicBoolean stopProducers = new AtomicBoolean();
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final List<BlockingQueue<long[]>> queues = List.of(new ArrayBlockingQueue<>(256),
                new ArrayBlockingQueue<>(256));
            final Release rel = new Release(slub, named, sheafed, live, lastFreer, frees);
            final List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                final int id = p;
                threads.add(new Thread(() -> {
                    k.cpus().pin(id % NR_CPUS);
                    final SplittableRandom rnd = new SplittableRandom(id);
                    final SlabAllocator a = slub.allocator();
                    long stamp = (long) id << 56;
                    final long[] keep = new long[63];
                    int kept = 0;
                    while (!stopProducers.get() && failure.get() == null) {
                        final long[] batch = new long[32 * 3];
                        int n = 0;
                        for (int i = 0; i < 32; i++) {
                            final int kind = rnd.nextInt(4);
                            final long size = 8 + rnd.nextInt(8192 - 8 + 1);
                            final long obj = switch (kind) {
                                case 0 -> slub.kmalloc(size, Gfp.KERNEL);
                                case 1 -> a.kmalloc(size);
                                case 2 -> named.alloc();
                                default -> sheafed.alloc();
                            };
                            if (obj == 0) {
                                throw new AssertionError("allocation failed");
                            }
                            if (!live.add(obj)) {
                                throw new AssertionError("object 0x" + Long.toHexString(obj) + " handed out twice");
                            }
                            final Integer freer = lastFreer.remove(obj);
                            if (freer != null && freer != id) {
                                crossReuse.increment();
                            }
                            allocs.increment();
                            stamp++;
                            slub.segment(obj, 8).set(ValueLayout.JAVA_LONG, 0, stamp);
                            batch[n++] = obj;
                            batch[n++] = stamp;
                            batch[n++] = kind;
                        }
                        // keep a few locally and free them on this thread (local frees)
                        if (kept == keep.length) {
                            for (int i = 0; i < kept; i += 3) {
                                rel.release(a, id, keep[i], keep[i + 1], (int) keep[i + 2]);
                            }
                            kept = 0;
                        }
                        System.arraycopy(batch, 0, keep, kept, 3);
                        kept += 3;
                        final long[] rest = new long[n - 3];
                        System.arraycopy(batch, 3, rest, 0, n - 3);
                        try {
                            queues.get(id).put(rest);
                        } catch (final InterruptedException e) {
                            return;
                        }
                    }
                    for (int i = 0; i < kept; i += 3) {
                        rel.release(a, id, keep[i], keep[i + 1], (int) keep[i + 2]);
                    }
                }, "producer-" + p));
            }
            for (int c = 0; c < 2; c++) {
                final int id = c;
                threads.add(new Thread(() -> {
                    k.cpus().pin((1 - id) % NR_CPUS);  // the other slot than its producer's
                    final SlabAllocator a = slub.allocator();
                    final BlockingQueue<long[]> q = queues.get(id);
                    while (true) {
                        final long[] b;
                        try {
                            b = q.poll(20, TimeUnit.MILLISECONDS);
                        } catch (final InterruptedException e) {
                            return;
                        }
                        if (b == null) {
                            if (stop.get() && q.isEmpty()) {
                                return;
                            }
                            continue;
                        }
                        for (int i = 0; i < b.length; i += 3) {
                            rel.release(a, 2 + id, b[i], b[i + 1], (int) b[i + 2]);
                            remoteFrees.increment();
                        }
                    }
                }, "consumer-" + c));
            }
            threads.add(new Thread(() -> {
                while (!stopProducers.get() && failure.get() == null) {
                    named.shrink();
                    slub.findCache("kmalloc-64").shrink();
                    sheafed.shrink();
                    try {
                        Thread.sleep(5);
                    } catch (final InterruptedException e) {
                        return;
                    }
                }
            }, "shrinker"));
            for (final Thread t : threads) {
                t.setUncaughtExceptionHandler((t1, e) -> failure.compareAndSet(null, e));
                t.start();
            }
            final long start = System.nanoTime();
            final long minEnd = start + TimeUnit.SECONDS.toNanos(SECONDS);
            final long deadline = start + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
            // retry until observed: at least the minimum time, then until every race was counted (or deadline)
            while (failure.get() == null && System.nanoTime() < deadline
                && (System.nanoTime() < minEnd || !observed(slub, crossReuse))) {
                Thread.sleep(20);
            }
            stopProducers.set(true);
            for (final int i : new int[] {0, 1, 4}) {
                threads.get(i).join();
            }
            stop.set(true);
            threads.get(2).join();
            threads.get(3).join();
            if (failure.get() != null) {
                throw new AssertionError("worker failed", failure.get());
            }
            assertEquals(0, live.size(), "every object freed");
            assertEquals(allocs.sum(), frees.sum());
            final String counts = counts(slub, crossReuse) + ", remote frees " + remoteFrees.sum() + ", allocs "
                + allocs.sum() + ", " + (System.nanoTime() - start) / 1_000_000 + " ms";
            System.out.println("SlubStressTest: " + counts);
            int errors = 0;
            for (final KmemCache s : slub.caches()) {
                errors += s.validate();
                assertEquals(0, s.activeObjects(), s.name() + " objects still in use");
            }
            assertEquals(0, errors, String.join("\n", k.log().messages()));
            for (final KmemCache s : slub.caches()) {
                s.shrink();
            }
            assertEquals(0, slub.slabReclaimablePages() + slub.slabUnreclaimablePages() - countSlabPages(slub),
                "page accounting matches the slabs");
            // the races this test exists for happened
            assertTrue(sum(slub, StatItem.CMPXCHG_DOUBLE_CPU_FAIL) >= MIN_CPU_CAS_FAILS, counts);
            assertTrue(event(slub, KmemCache.E_FREE_MET_LOCKED) >= MIN_FREES_MET_LOCKED, counts);
            assertTrue(sum(slub, StatItem.FREE_FROZEN) >= MIN_FREE_FROZEN, counts);
            assertTrue(event(slub, KmemCache.E_PCS_TRYLOCK_FAIL) >= MIN_PCS_TRYLOCK_FAILS, counts);
            assertTrue(sum(slub, StatItem.BARN_GET) >= MIN_BARN_GETS, counts);
            assertTrue(crossReuse.sum() >= MIN_CROSS_REUSE, counts);
            assertTrue(remoteFrees.sum() >= MIN_CROSS_REUSE, counts);
        }
    }

    private static boolean observed(final Slub slub, final LongAdder crossReuse) {
        return sum(slub, StatItem.CMPXCHG_DOUBLE_CPU_FAIL) >= MIN_CPU_CAS_FAILS
            && event(slub, KmemCache.E_FREE_MET_LOCKED) >= MIN_FREES_MET_LOCKED
            && sum(slub, StatItem.FREE_FROZEN) >= MIN_FREE_FROZEN
            && event(slub, KmemCache.E_PCS_TRYLOCK_FAIL) >= MIN_PCS_TRYLOCK_FAILS
            && sum(slub, StatItem.BARN_GET) >= MIN_BARN_GETS
            && crossReuse.sum() >= MIN_CROSS_REUSE;
    }

    private static String counts(final Slub slub, final LongAdder crossReuse) {
        return "cmpxchg_double_cpu_fail " + sum(slub, StatItem.CMPXCHG_DOUBLE_CPU_FAIL)
            + ", frees that met a seized word " + event(slub, KmemCache.E_FREE_MET_LOCKED)
            + ", free_frozen " + sum(slub, StatItem.FREE_FROZEN)
            + ", barn_get " + sum(slub, StatItem.BARN_GET) + ", barn_put " + sum(slub, StatItem.BARN_PUT)
            + ", pcs try-lock failures " + event(slub, KmemCache.E_PCS_TRYLOCK_FAIL)
            + ", objects reused across threads " + crossReuse.sum();
    }

    private static long sum(final Slub slub, final StatItem item) {
        long n = 0;
        for (final KmemCache s : slub.caches()) {
            n += s.stat(item);
        }
        return n;
    }

    private static long event(final Slub slub, final int event) {
        long n = 0;
        for (final KmemCache s : slub.caches()) {
            n += s.modelEvent(event);
        }
        return n;
    }

    private static long countSlabPages(final Slub slub) {
        long pages = 0;
        for (final KmemCache s : slub.caches()) {
            pages += s.nrSlabs() << s.order();
        }
        return pages;
    }

    /** Checks an object's stamp and frees it the way it was allocated, noting who freed it. */
    private record Release(Slub slub, KmemCache named, KmemCache sheafed, Set<Long> live,
                           Map<Long, Integer> lastFreer, LongAdder frees) {
        void release(final SlabAllocator a, final int me, final long obj, final long stamp, final int kind) {
            final long seen = slub.segment(obj, 8).get(ValueLayout.JAVA_LONG, 0);
            if (seen != stamp) {
                throw new AssertionError("object 0x" + Long.toHexString(obj) + " stamp " + Long.toHexString(seen)
                    + " expected " + Long.toHexString(stamp) + ": shared with another owner");
            }
            if (!live.remove(obj)) {
                throw new AssertionError("object 0x" + Long.toHexString(obj) + " freed but not live");
            }
            lastFreer.put(obj, me);  // before the free: once freed, another thread may allocate it at once
            switch (kind) {
                case 0 -> slub.kfree(obj);
                case 1 -> a.kfree(obj);
                case 2 -> named.free(obj);
                default -> sheafed.free(obj);
            }
            frees.increment();
        }
    }
}
