package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * The generated trace has the shape of the real capture (samples/slab, 150,000 events of a 6.18 machine): the same
 * statistics computed the same way over both, the generated one within a band of the real one. What the replay's
 * speed depends on (how often the task and CPU change, pointer reuse, object lifetimes, time per event, how
 * well the text compresses) must not be easier in the benchmark's input than in a real capture.
 */
class KmemTraceRealismTest {
    private static final int EVENTS = 150_000;

    /** Statistics of a trace: bursts, CPU changes of a task, pointer reuse, lifetimes, microseconds per event. */
    record Shape(double meanBurst, double medianBurst, double cpuChangesPerKilo, double reusePercent,
                 long lifetimeP25, long lifetimeP50, long lifetimeP90, double microsPerEvent) {
    }

    static Shape shape(final InputStream in) throws IOException {
        try (KmemTraceReader r = new KmemTraceReader(in, (line, msg) -> {
            throw new AssertionError(line + ": " + msg);
        })) {
            final KmemEvent ev = new KmemEvent();
            final Map<Integer, Integer> cpuOf = new HashMap<>();
            final Map<Long, Long> allocatedAt = new HashMap<>();
            final Set<Long> freed = new HashSet<>();
            final long[] bursts = new long[EVENTS + 1];
            final long[] lifetimes = new long[EVENTS + 1];
            int nBursts = 0;
            int nLifetimes = 0;
            long burst = 0;
            int lastPid = Integer.MIN_VALUE;
            long cpuChanges = 0;
            long allocs = 0;
            long reused = 0;
            long n = 0;
            long firstMicros = -1;
            long lastMicros = 0;
            while (r.next(ev)) {
                n++;
                if (firstMicros < 0) {
                    firstMicros = ev.timestampMicros();
                }
                lastMicros = ev.timestampMicros();
                if (ev.pid() == lastPid) {
                    burst++;
                } else {
                    if (burst > 0) {
                        bursts[nBursts++] = burst;
                    }
                    burst = 1;
                    lastPid = ev.pid();
                }
                final Integer was = cpuOf.put(ev.pid(), ev.cpu());
                if (was != null && was != ev.cpu()) {
                    cpuChanges++;
                }
                final int t = ev.type();
                final boolean page = t == KmemEvent.MM_PAGE_ALLOC || t == KmemEvent.MM_PAGE_FREE;
                final long key = page ? ~ev.pfn() : ev.ptr();
                if (t == KmemEvent.KMALLOC || t == KmemEvent.KMEM_CACHE_ALLOC || t == KmemEvent.MM_PAGE_ALLOC) {
                    allocs++;
                    if (freed.contains(key)) {
                        reused++;
                    }
                    allocatedAt.put(key, n);
                } else {
                    final Long at = allocatedAt.remove(key);
                    if (at != null) {
                        lifetimes[nLifetimes++] = n - at;
                    }
                    freed.add(key);
                }
            }
            bursts[nBursts++] = burst;
            Arrays.sort(bursts, 0, nBursts);
            Arrays.sort(lifetimes, 0, nLifetimes);
            return new Shape((double) n / nBursts, bursts[nBursts / 2], 1000.0 * cpuChanges / n,
                100.0 * reused / allocs, lifetimes[nLifetimes / 4], lifetimes[nLifetimes / 2],
                lifetimes[nLifetimes * 9 / 10], (double) (lastMicros - firstMicros) / (n - 1));
        }
    }

    private static void within(final double real, final double generated, final double low, final double high,
                               final String what) {
        assertTrue(generated >= real * low && generated <= real * high,
            what + ": generated " + generated + ", real " + real + " (expected: " + low + "x to " + high + "x)");
    }

    @Test
    void theGeneratedTraceHasTheRealCapturesShape() throws IOException {
        requireOrSkip(Files.exists(KmemTraceReaderTest.SAMPLE), KmemTraceReaderTest.SAMPLE + " absent");
        final Shape real;
        try (InputStream in = TraceInput.open(KmemTraceReaderTest.SAMPLE)) {
            real = shape(in);
        }
        // the generate-kmem defaults: 2 CPUs, 65,536 live
        final Shape gen = shape(new ByteArrayInputStream(KmemTraceGenerator.generate(1, 2, 65_536, EVENTS)));
        within(real.meanBurst(), gen.meanBurst(), 0.7, 1.4, "events per burst of one task, mean");
        assertEquals(real.medianBurst(), gen.medianBurst(), "events per burst of one task, median");
        within(real.reusePercent(), gen.reusePercent(), 0.85, 1.15, "allocations reusing a freed pointer or pfn, %");
        within(real.lifetimeP25(), gen.lifetimeP25(), 0.5, 2.0, "lifetime in events, 25th percentile");
        within(real.lifetimeP50(), gen.lifetimeP50(), 0.7, 1.4, "lifetime in events, median");
        within(real.lifetimeP90(), gen.lifetimeP90(), 0.7, 1.4, "lifetime in events, 90th percentile");
        within(real.microsPerEvent(), gen.microsPerEvent(), 0.7, 1.4, "microseconds per event");
        assertTrue(gen.cpuChangesPerKilo() <= 1, "a task stays on its CPU: " + gen);
    }

    @Test
    void eachTaskStaysOnItsCpuForItsWholeBurstOnAnyCpuCount() throws IOException {
        for (final int cpus : new int[] {1, 2, 8, 64}) {
            final Shape s = shape(new ByteArrayInputStream(KmemTraceGenerator.generate(9, cpus, 4096, 50_000)));
            assertTrue(s.cpuChangesPerKilo() <= 1, cpus + " CPUs: " + s);
            assertTrue(s.meanBurst() > 5 && s.reusePercent() > 30, cpus + " CPUs: " + s);
        }
    }
}
