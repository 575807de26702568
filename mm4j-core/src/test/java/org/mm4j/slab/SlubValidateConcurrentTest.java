package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

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
 * created, frozen, put on CPU partial lists and discarded under the walk): no report may be produced. Two producers
 * (one per CPU slot) and two remote freers (each on the other slot) run beside the validating thread. The test
 * proves the walks raced with real churn: it runs at least {@code -Dmm4j.stress.seconds} (2 s), then on (up to a
 * generous deadline) until {@value #MIN_OVERLAPPED_ROUNDS} validate rounds were overlapped by slab creations or
 * discards and validate itself met {@value #MIN_VALIDATE_RACES} slabs changing under its walk (or retried its
 * counter comparison). A validate run alone (serialised) counts 0 of both.
 */
class SlubValidateConcurrentTest {
    private static final int SECONDS = Integer.getInteger("mm4j.stress.seconds", 2);
    private static final long DEADLINE_SECONDS = Long.getLong("mm4j.stress.deadline", 120);
    private static final int PRODUCERS = Integer.getInteger("mm4j.stress.producers", 2);
    private static final int MIN_OVERLAPPED_ROUNDS = 20;
    private static final long MIN_VALIDATE_RACES = 20;

    @Test
    void validateRacingFreesReportsNothing() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache s = slub.kmemCacheCreate("vrace", 200, 0, 0, null);
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicInteger producersLeft = new AtomicInteger(PRODUCERS);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final ConcurrentLinkedQueue<Long> remote = new ConcurrentLinkedQueue<>();
            final AtomicInteger inQueue = new AtomicInteger();
            final List<Thread> producers = new ArrayList<>();
            final List<Thread> freers = new ArrayList<>();
            for (int t = 0; t < PRODUCERS; t++) {
                final int id = t;
                producers.add(new Thread(() -> {
                    try {
                        k.cpus().pin(id % 2);
                        final SplittableRandom r = new SplittableRandom(7 + id);
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
                    } finally {
                        producersLeft.decrementAndGet();
                    }
                }, "producer-" + t));
                freers.add(new Thread(() -> {
                    try {
                        k.cpus().pin(1 - id % 2);
                        // only once every producer is done can the queue not grow any more
                        while (producersLeft.get() > 0 || !remote.isEmpty()) {
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
                }, "remote-freer-" + t));
            }
            producers.forEach(Thread::start);
            freers.forEach(Thread::start);
            int errors = 0;
            int rounds = 0;
            int overlapped = 0;
            final long start = System.nanoTime();
            final long minEnd = start + SECONDS * 1_000_000_000L;
            final long deadline = start + DEADLINE_SECONDS * 1_000_000_000L;
            try {
                // retry until observed: at least the minimum time, then until the walks raced (or deadline)
                while (failure.get() == null && System.nanoTime() < deadline && (System.nanoTime() < minEnd
                    || overlapped < MIN_OVERLAPPED_ROUNDS || s.validateRaces() < MIN_VALIDATE_RACES)) {
                    final long changes = s.slabChanges();
                    errors += s.validate();
                    rounds++;
                    if (s.slabChanges() != changes) {
                        overlapped++;
                    }
                }
            } finally {
                stop.set(true);
                for (final Thread t : producers) {
                    t.join();
                }
                for (final Thread t : freers) {
                    t.join();
                }
            }
            assertNull(failure.get(), () -> "worker failed: " + failure.get());
            assertEquals(0, errors, () -> "validate reported while frees ran: " + k.log().messages().stream()
                .filter(l -> l.contains("vrace") || l.contains("SLUB")).limit(20).toList());
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate(), "quiescent validate");
            final String counts = "validate rounds " + rounds + ", overlapped by slab churn " + overlapped
                + ", slabs changing under the walk " + s.validateRaces();
            System.out.println("SlubValidateConcurrentTest: " + counts);
            assertTrue(overlapped >= MIN_OVERLAPPED_ROUNDS, counts);
            assertTrue(s.validateRaces() >= MIN_VALIDATE_RACES, counts);
            s.destroy();
        }
    }
}
