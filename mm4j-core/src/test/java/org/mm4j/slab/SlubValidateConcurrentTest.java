package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.kernel.Kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * validate of a non-debug cache while other threads allocate and free (local and remote frees, so slabs are
 * created, frozen, put on CPU partial lists and discarded under the walk): no report may be produced. Runs ~2 s;
 * {@code -Dmm4j.stress.seconds=N} for longer.
 */
class SlubValidateConcurrentTest {
    private static final int SECONDS = Integer.getInteger("mm4j.stress.seconds", 2);

    @Test
    void validateRacingFreesReportsNothing() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache s = slub.kmemCacheCreate("vrace", 200, 0, 0, null);
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicBoolean producerDone = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final ConcurrentLinkedQueue<Long> remote = new ConcurrentLinkedQueue<>();
            final AtomicInteger inQueue = new AtomicInteger();
            final Thread producer = new Thread(() -> {
                try {
                    k.cpus().pin(0);
                    final SplittableRandom r = new SplittableRandom(7);
                    final List<Long> held = new ArrayList<>();
                    while (!stop.get()) {
                        final int n = 1 + r.nextInt(120);
                        for (int i = 0; i < n; i++) {
                            final long p = s.alloc();
                            if (p != 0) {
                                held.add(p);
                            }
                        }
                        while (!held.isEmpty()) {
                            final long p = held.remove(held.size() - 1);
                            if (r.nextInt(3) == 0 && inQueue.get() < 4096) {
                                inQueue.incrementAndGet();
                                remote.add(p);
                            } else {
                                s.free(p);
                            }
                        }
                    }
                } catch (final Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "producer");
            final Thread remoteFreer = new Thread(() -> {
                try {
                    k.cpus().pin(1);
                    while (!producerDone.get() || !remote.isEmpty()) {
                        final Long p = remote.poll();
                        if (p == null) {
                            Thread.onSpinWait();
                            continue;
                        }
                        inQueue.decrementAndGet();
                        s.free(p);
                    }
                } catch (final Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "remote-freer");
            producer.start();
            remoteFreer.start();
            int errors = 0;
            int rounds = 0;
            final long end = System.nanoTime() + SECONDS * 1_000_000_000L;
            try {
                while (System.nanoTime() < end && failure.get() == null) {
                    errors += s.validate();
                    rounds++;
                }
            } finally {
                stop.set(true);
                producer.join();
                producerDone.set(true);  // only now can the queue not grow any more
                remoteFreer.join();
            }
            assertNull(failure.get(), () -> "worker failed: " + failure.get());
            assertTrue(rounds > 0);
            assertEquals(0, errors, () -> "validate reported while frees ran: " + k.log().messages().stream()
                .filter(l -> l.contains("vrace") || l.contains("SLUB")).limit(20).toList());
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate(), "quiescent validate");
            s.destroy();
        }
    }
}
