package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.kernel.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
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
 * sheaves, and from a named cache), stamp each object, hand most of them to consumers on other threads that check
 * the stamp and free them (remote frees), while a shrinker runs kmem_cache_shrink concurrently. Four workers share
 * two CPU slots, which exercises the tid protocol. Afterwards every object must be accounted for and a full
 * validation walk must find no error. Runs ~3 s; {@code -Dmm4j.stress.seconds=N} for a soak.
 */
class SlubStressTest {
    private static final int SECONDS = Integer.getInteger("mm4j.stress.seconds", 3);

    @Test
    void producersConsumersAndShrinkerKeepEveryObjectAccountedFor() throws Exception {
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache named = slub.kmemCacheCreate("stress_obj", 72, 0, SlabFlags.SLAB_HWCACHE_ALIGN, null);
            final KmemCache sheafed = slub.kmemCacheCreate("stress_sheaf", 40,
                KmemCacheArgs.DEFAULT.withSheafCapacity(16));
            final Set<Long> live = ConcurrentHashMap.newKeySet();
            final LongAdder allocs = new LongAdder();
            final LongAdder frees = new LongAdder();
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final List<BlockingQueue<long[]>> queues = List.of(new ArrayBlockingQueue<>(256),
                new ArrayBlockingQueue<>(256));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            final List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                final int id = p;
                threads.add(new Thread(() -> {
                    k.cpus().pin(id);
                    final SplittableRandom rnd = new SplittableRandom(id);
                    final SlabAllocator a = slub.allocator();
                    long stamp = (long) id << 56;
                    final long[] keep = new long[63];
                    int kept = 0;
                    while (System.nanoTime() < deadline && failure.get() == null) {
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
                                release(slub, a, named, sheafed, live, frees, keep[i], keep[i + 1], (int) keep[i + 2]);
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
                        release(slub, a, named, sheafed, live, frees, keep[i], keep[i + 1], (int) keep[i + 2]);
                    }
                }, "producer-" + p));
            }
            for (int c = 0; c < 2; c++) {
                final int id = c;
                threads.add(new Thread(() -> {
                    k.cpus().pin(1 - id);
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
                            release(slub, a, named, sheafed, live, frees, b[i], b[i + 1], (int) b[i + 2]);
                        }
                    }
                }, "consumer-" + c));
            }
            threads.add(new Thread(() -> {
                while (System.nanoTime() < deadline && failure.get() == null) {
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
            for (int i = 0; i < 2; i++) {
                threads.get(i).join();
            }
            threads.get(4).join();
            stop.set(true);
            threads.get(2).join();
            threads.get(3).join();
            if (failure.get() != null) {
                throw new AssertionError("worker failed", failure.get());
            }
            assertEquals(0, live.size(), "every object freed");
            assertEquals(allocs.sum(), frees.sum());
            assertTrue(allocs.sum() > 1000, "work done: " + allocs.sum());
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
        }
    }

    private static long countSlabPages(final Slub slub) {
        long pages = 0;
        for (final KmemCache s : slub.caches()) {
            pages += s.nrSlabs() << s.order();
        }
        return pages;
    }

    private static void release(final Slub slub, final SlabAllocator a, final KmemCache named,
                                final KmemCache sheafed, final Set<Long> live, final LongAdder frees, final long obj,
                                final long stamp, final int kind) {
        final long seen = slub.segment(obj, 8).get(ValueLayout.JAVA_LONG, 0);
        if (seen != stamp) {
            throw new AssertionError("object 0x" + Long.toHexString(obj) + " stamp " + Long.toHexString(seen)
                + " expected " + Long.toHexString(stamp) + ": shared with another owner");
        }
        if (!live.remove(obj)) {
            throw new AssertionError("object 0x" + Long.toHexString(obj) + " freed but not live");
        }
        switch (kind) {
            case 0 -> slub.kfree(obj);
            case 1 -> a.kfree(obj);
            case 2 -> named.free(obj);
            default -> sheafed.free(obj);
        }
        frees.increment();
    }
}
