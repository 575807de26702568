package org.mm4j.slab;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random programs on 2-8 platform threads plus virtual threads (sharing two CPU slots), with sheaves on and off:
 * allocations through every API (thread sheaves, kmalloc on the CPU slab, a named cache, a cache with per-CPU
 * sheaves, kmalloc-8 whose key shares the free pointer's word), frees, own-allocator flushes, a concurrent
 * shrinker and validator, and injected misuse: the same object freed twice in a row, A-B-A (p, q, p), and an
 * object freed earlier by any thread (usually another) freed again. Every object is stamped when allocated and
 * checked when freed; a global map of live addresses proves no address is ever live twice.
 *
 * <p>Injections run while the other workers stand still between operations (a write lock; ordinary operations,
 * the shrinker and the validator hold the read lock), so the object injected is certainly free, not in flight
 * between two owners: every injection must be refused. At the end every cache validates clean, no object is
 * left, and the buddy allocator is back to its free page count from before the program.
 */
class SafetyStressProperties {
    private static final int OPS = Integer.getInteger("mm4j.safety.ops", 1500);
    private static final int[] SIZES = {8, 16, 64, 96, 192, 512, 1024, 4096};

    /** A live object and how it has to be freed. */
    private record Obj(long addr, int api, long stamp) {
    }

    @Property(tries = 8)
    void injectedDoubleFreesAreAlwaysRefusedAndNoAddressIsLiveTwice(
        @ForAll @IntRange(min = 2, max = 8) final int platform, @ForAll @IntRange(min = 0, max = 12) final int virtuals,
        @ForAll final boolean sheaves, @ForAll final long seed) throws Exception {
        try (Kernel k = Kernel.boot("mem=128M nr_cpus=2 mm4j.sheaves=" + (sheaves ? 32 : 0))) {
            final Slub slub = k.slab();
            final KmemCache named = slub.kmemCacheCreate("stress_safe", 72, 0, 0, null);
            final KmemCache sheafed = slub.kmemCacheCreate("stress_safe_pcs", 40,
                KmemCacheArgs.DEFAULT.withSheafCapacity(16));
            k.buddy().drainAllPages();
            final long freeAtStart = k.buddy().freePages();
            final ReentrantReadWriteLock world = new ReentrantReadWriteLock();
            final ConcurrentHashMap<Long, Long> live = new ConcurrentHashMap<>();
            final AtomicLongArray freed = new AtomicLongArray(64);
            final AtomicInteger freedAt = new AtomicInteger();
            final LongAdder injected = new LongAdder();
            final LongAdder refused = new LongAdder();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicBoolean done = new AtomicBoolean();
            final int workers = platform + virtuals;

            final class Worker implements Runnable {
                private final int id;
                private final SplittableRandom rnd;
                private final List<Obj> mine = new ArrayList<>();
                private long stamp;

                Worker(final int id) {
                    this.id = id;
                    this.rnd = new SplittableRandom(seed * 31 + id);
                    this.stamp = (long) (id + 1) << 40;
                }

                private Obj alloc(final int api) {
                    final long addr = switch (api) {
                        case 0 -> slub.allocator().kmalloc(SIZES[rnd.nextInt(SIZES.length)]);
                        case 1 -> slub.kmalloc(SIZES[rnd.nextInt(SIZES.length)], Gfp.KERNEL);
                        case 2 -> rnd.nextBoolean() ? named.alloc() : slub.allocator().alloc(named);
                        case 3 -> sheafed.alloc();
                        default -> slub.allocator().kmalloc(8);
                    };
                    assertTrue(addr != 0, "out of memory");
                    final long s = ++stamp;
                    k.memory().putLong(addr - PhysicalMemory.PAGE_OFFSET, s);
                    final Long other = live.putIfAbsent(addr, s);
                    assertNull(other, () -> "0x" + Long.toHexString(addr) + " is live twice");
                    return new Obj(addr, api, s);
                }

                private void free(final Obj o, final boolean mustSucceed) {
                    if (mustSucceed) {
                        assertEquals(o.stamp, k.memory().getLong(o.addr - PhysicalMemory.PAGE_OFFSET),
                            "stamp overwritten: a second owner");
                        assertTrue(live.remove(o.addr, o.stamp));
                    }
                    switch (o.api) {
                        case 0, 4 -> slub.allocator().kfree(o.addr);
                        case 1 -> slub.kfree(o.addr);
                        case 2 -> {
                            if (rnd.nextBoolean()) {
                                named.free(o.addr);
                            } else {
                                slub.allocator().free(named, o.addr);
                            }
                        }
                        default -> sheafed.free(o.addr);
                    }
                    if (mustSucceed) {
                        freed.set(freedAt.getAndIncrement() & 63, (long) o.api << 60 | o.addr - PhysicalMemory.PAGE_OFFSET);
                    }
                }

                /** Frees {@code o} again (it is free): must be refused. */
                private void inject(final Obj o) {
                    injected.increment();
                    try {
                        free(o, false);
                    } catch (final IllegalStateException | IllegalArgumentException e) {
                        refused.increment();
                        return;
                    }
                    throw new AssertionError("double free of 0x" + Long.toHexString(o.addr) + " (api " + o.api
                        + ") accepted");
                }

                @Override
                public void run() {
                    try {
                        for (int i = 0; i < OPS && failure.get() == null; i++) {
                            final int op = rnd.nextInt(100);
                            if (op < 88) {
                                world.readLock().lock();
                                try {
                                    if (op < 46 || mine.isEmpty()) {
                                        mine.add(alloc(rnd.nextInt(5)));
                                    } else if (op < 86) {
                                        free(mine.remove(rnd.nextInt(mine.size())), true);
                                    } else {
                                        slub.allocator().flush();
                                    }
                                } finally {
                                    world.readLock().unlock();
                                }
                                continue;
                            }
                            world.writeLock().lock();
                            try {
                                if (op < 92) {  // the same object twice in a row
                                    final Obj p = alloc(rnd.nextInt(5));
                                    free(p, true);
                                    inject(p);
                                } else if (op < 96) {  // A-B-A
                                    final int api = rnd.nextInt(5);
                                    final Obj p = alloc(api);
                                    final Obj q = alloc(api);
                                    free(p, true);
                                    free(q, true);
                                    inject(p);
                                } else {  // freed earlier, by any thread
                                    final long e = freed.get(rnd.nextInt(64));
                                    final long addr = (e & ((1L << 60) - 1)) + PhysicalMemory.PAGE_OFFSET;
                                    if (e != 0 && !live.containsKey(addr)) {
                                        inject(new Obj(addr, (int) (e >>> 60), 0));
                                    }
                                }
                            } finally {
                                world.writeLock().unlock();
                            }
                        }
                        world.readLock().lock();
                        try {
                            for (final Obj o : mine) {
                                free(o, true);
                            }
                        } finally {
                            world.readLock().unlock();
                        }
                    } catch (final Throwable t) {
                        failure.compareAndSet(null, new AssertionError("worker " + id + ": " + t, t));
                    }
                }
            }

            final Thread shrinker = new Thread(() -> {
                final List<KmemCache> caches = List.of(named, sheafed, slub.kmallocCache(8, Gfp.KERNEL),
                    slub.kmallocCache(64, Gfp.KERNEL), slub.kmallocCache(1024, Gfp.KERNEL));
                int round = 0;
                while (!done.get() && failure.get() == null) {
                    world.readLock().lock();
                    try {
                        final KmemCache s = caches.get(round++ % caches.size());
                        if (round % 2 == 0) {
                            s.shrink();
                        } else {
                            final int errors = s.validate();
                            if (errors != 0) {
                                failure.compareAndSet(null, new AssertionError("validate " + s.name() + ": " + errors
                                    + "\n" + String.join("\n", k.log().messages())));
                            }
                        }
                    } catch (final Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        world.readLock().unlock();
                    }
                    Thread.onSpinWait();
                }
            });
            shrinker.start();
            final List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                final Worker worker = new Worker(w);
                threads.add(w < platform ? Thread.ofPlatform().start(worker) : Thread.ofVirtual().start(worker));
            }
            for (final Thread t : threads) {
                t.join();
            }
            done.set(true);
            shrinker.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(injected.sum(), refused.sum(), "every injected misuse refused");
            assertTrue(live.isEmpty());
            for (final KmemCache s : slub.caches()) {
                s.shrink();  // returns the sheaves of the ended threads, the barns, the CPU slabs
                assertEquals(0, s.activeObjects(), s.name());
                assertEquals(0, s.validate(), () -> s.name() + "\n" + String.join("\n", k.log().messages()));
                s.shrink();
            }
            k.buddy().drainAllPages();
            assertEquals(freeAtStart, k.buddy().freePages(), "the buddy allocator's free pages");
        }
    }
}
