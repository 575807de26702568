package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

/**
 * Debug caches under concurrency: two producers (one per CPU slot) allocate and fill their objects (within
 * bounds), two consumers, each on the other slot, free them (remote frees), while a fifth thread validates in a
 * loop. A correct program must get no report at all: no false positive from a race between the checks and the
 * allocator. The test proves the race happened: it runs at least {@code mm4j.stress.seconds} (2 s), then on (up
 * to a generous deadline) until {@value #MIN_REMOTE_FREES} objects were freed on the other slot than the one they
 * were allocated on and {@value #MIN_OVERLAPPED_ROUNDS} validate rounds were overlapped by slabs being created or
 * discarded. A serialised run (one thread doing all of it) counts 0 of both.
 */
class SlubDebugStressTest {
    private static final long DEADLINE_SECONDS = Long.getLong("mm4j.stress.deadline", 120);
    private static final int MIN_REMOTE_FREES = 2000;
    private static final int MIN_OVERLAPPED_ROUNDS = 20;
    private static final int NR_CPUS = Integer.getInteger("mm4j.stress.cpus", 2);

    @Test
    void noFalseReportsUnderConcurrency() throws Exception {
        final long millis = (long) (Double.parseDouble(System.getProperty("mm4j.stress.seconds", "2")) * 1000);
        try (Kernel k = Kernel.boot("mem=128M nr_cpus=" + NR_CPUS + " slub_debug=FZPU,kmalloc-96")) {
            final KmemCache s = k.slab().kmemCacheCreate("stress_dbg", 72, 0, SlabFlags.DEBUG_DEFAULT_FLAGS, null);
            final KmemCache k96 = k.slab().findCache("kmalloc-96");
            final AtomicInteger reports = new AtomicInteger();
            final List<String> first = new ArrayList<>();
            k.slab().debug().addListener(r -> {
                if (reports.getAndIncrement() == 0) {
                    synchronized (first) {
                        first.addAll(r.lines());
                    }
                }
            });
            // {object, slot it was allocated on}
            final ArrayBlockingQueue<long[]> handoff = new ArrayBlockingQueue<>(4096);
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicInteger producersLeft = new AtomicInteger(2);
            final AtomicInteger ops = new AtomicInteger();
            final AtomicLong remoteFrees = new AtomicLong();
            final AtomicInteger rounds = new AtomicInteger();
            final AtomicInteger overlapped = new AtomicInteger();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                final int slot = t;
                threads.add(new Thread(() -> {
                    try {
                        k.cpus().pin(slot % NR_CPUS);
                        final SplittableRandom rnd = new SplittableRandom(1 + slot);
                        while (!stop.get()) {
                            final boolean kmalloc = rnd.nextBoolean();
                            final int len = kmalloc ? 65 + rnd.nextInt(32) : 72;
                            final long p = kmalloc ? k.slab().kmalloc(len, Gfp.KERNEL) : s.alloc();
                            final MemorySegment seg = k.slab().segment(p, len);
                            seg.fill((byte) rnd.nextInt(256));
                            seg.set(ValueLayout.JAVA_BYTE, 0, (byte) (kmalloc ? 1 : 0));
                            if (!handoff.offer(new long[] {p, slot % NR_CPUS}, 10, TimeUnit.MILLISECONDS)) {
                                free(k, s, p);  // consumers behind: free it here (a local free)
                            }
                            ops.incrementAndGet();
                        }
                    } catch (final Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        producersLeft.decrementAndGet();
                    }
                }, "producer-" + t));
                threads.add(new Thread(() -> {
                    try {
                        k.cpus().pin((1 - slot) % NR_CPUS);
                        // the consumers drain what is left once both producers are done, then stop
                        while (producersLeft.get() > 0 || !handoff.isEmpty()) {
                            final long[] p = handoff.poll(10, TimeUnit.MILLISECONDS);
                            if (p == null) {
                                continue;
                            }
                            free(k, s, p[0]);
                            if (p[1] != k.cpus().current()) {
                                remoteFrees.incrementAndGet();
                            }
                        }
                    } catch (final Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "consumer-" + t));
            }
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    final long changes = s.slabChanges() + k96.slabChanges();
                    s.validate();
                    k96.validate();
                    rounds.incrementAndGet();
                    if (s.slabChanges() + k96.slabChanges() != changes) {
                        overlapped.incrementAndGet();
                    }
                }
            }, "validator"));
            threads.forEach(Thread::start);
            final long start = System.nanoTime();
            final long minEnd = start + millis * 1_000_000L;
            final long deadline = start + DEADLINE_SECONDS * 1_000_000_000L;
            // retry until observed: at least the minimum time, then until both races were counted (or deadline)
            while (failure.get() == null && System.nanoTime() < deadline && (System.nanoTime() < minEnd
                || remoteFrees.get() < MIN_REMOTE_FREES || overlapped.get() < MIN_OVERLAPPED_ROUNDS)) {
                Thread.sleep(20);
            }
            stop.set(true);
            for (final Thread t : threads) {
                t.join();
            }
            s.validate();
            k96.validate();
            if (failure.get() != null) {
                throw new AssertionError("worker failed", failure.get());
            }
            assertEquals(0, reports.get(), String.join("\n", first));
            assertEquals(0, s.activeObjects());
            final String counts = "ops " + ops.get() + ", remote frees " + remoteFrees.get() + ", validate rounds "
                + rounds.get() + ", overlapped by slab churn " + overlapped.get();
            System.out.println("SlubDebugStressTest: " + counts);
            assertTrue(remoteFrees.get() >= MIN_REMOTE_FREES, counts);
            assertTrue(overlapped.get() >= MIN_OVERLAPPED_ROUNDS, counts);
        }
    }

    private static void free(final Kernel k, final KmemCache s, final long p) {
        if (k.slab().segment(p, 1).get(ValueLayout.JAVA_BYTE, 0) == 1) {
            k.slab().kfree(p);
        } else {
            s.free(p);
        }
    }
}
