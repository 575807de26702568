package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.mm4j.kernel.Kernel;
import org.mm4j.page.Gfp;

/**
 * Debug caches under concurrency: threads allocate, fill their objects (within bounds), free them from another
 * thread, while a third thread validates in a loop. A correct program must get no report at all: no false
 * positive from a race between the checks and the allocator. Bounded by {@code mm4j.stress.seconds} (2 s).
 */
class SlubDebugStressTest {
    @Test
    void noFalseReportsUnderConcurrency() throws Exception {
        final long millis = (long) (Double.parseDouble(System.getProperty("mm4j.stress.seconds", "2")) * 1000);
        try (Kernel k = Kernel.boot("mem=128M nr_cpus=2 slub_debug=FZPU,kmalloc-96")) {
            final KmemCache s = k.slab().kmemCacheCreate("stress_dbg", 72, 0, SlabFlags.DEBUG_DEFAULT_FLAGS, null);
            final AtomicInteger reports = new AtomicInteger();
            final List<String> first = new ArrayList<>();
            k.slab().debug().addListener(r -> {
                if (reports.getAndIncrement() == 0) {
                    synchronized (first) {
                        first.addAll(r.lines());
                    }
                }
            });
            final java.util.concurrent.ArrayBlockingQueue<Long> handoff = new java.util.concurrent.ArrayBlockingQueue<>(
                4096);
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicBoolean producerDone = new AtomicBoolean();
            final AtomicInteger ops = new AtomicInteger();
            final Thread producer = new Thread(() -> {
                final SplittableRandom rnd = new SplittableRandom(1);
                while (!stop.get()) {
                    final boolean kmalloc = rnd.nextBoolean();
                    final int len = kmalloc ? 65 + rnd.nextInt(32) : 72;
                    final long p = kmalloc ? k.slab().kmalloc(len, Gfp.KERNEL) : s.alloc();
                    final MemorySegment seg = k.slab().segment(p, len);
                    seg.fill((byte) rnd.nextInt(256));
                    seg.set(ValueLayout.JAVA_BYTE, 0, (byte) (kmalloc ? 1 : 0));
                    try {
                        handoff.put(p);
                    } catch (final InterruptedException e) {
                        return;
                    }
                    ops.incrementAndGet();
                }
            });
            final Thread consumer = new Thread(() -> {
                while (!producerDone.get() || !handoff.isEmpty()) {
                    final Long p;
                    try {
                        p = handoff.poll(10, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (final InterruptedException e) {
                        return;
                    }
                    if (p == null) {
                        continue;
                    }
                    if (k.slab().segment(p, 1).get(ValueLayout.JAVA_BYTE, 0) == 1) {
                        k.slab().kfree(p);
                    } else {
                        s.free(p);
                    }
                }
            });
            final Thread validator = new Thread(() -> {
                while (!stop.get()) {
                    s.validate();
                    k.slab().findCache("kmalloc-96").validate();
                }
            });
            producer.start();
            consumer.start();
            validator.start();
            Thread.sleep(millis);
            stop.set(true);
            producer.join();
            producerDone.set(true);  // the consumer drains what is left, then stops
            consumer.join();
            validator.join();
            s.validate();
            k.slab().findCache("kmalloc-96").validate();
            assertTrue(ops.get() > 0, "ops=" + ops.get());
            assertEquals(0, reports.get(), String.join("\n", first));
            assertEquals(0, s.activeObjects());
        }
    }
}
