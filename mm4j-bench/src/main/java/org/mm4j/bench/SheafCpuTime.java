package org.mm4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.LongSupplier;

import org.mm4j.Kernel;
import org.mm4j.slab.SlabAllocator;

/**
 * The fast path of {@code Slub.allocator()} timed by the calling thread's CPU time rather than wall time: on a
 * machine whose load is many times its core count JMH's wall-clock scores swing by 10x within one fork, while CPU
 * time leaves out the time the thread sat descheduled. Workloads as in the JMH peer comparison: alloc-free-64
 * (one kmalloc(64) + kfree) and ring-64 (a ring of 1,024 live 64-byte objects, the oldest replaced), on a platform
 * thread (per-thread sheaves), on a virtual thread (the shared allocator, per-CPU slab paths) and on a virtual
 * thread with its own sheaves ({@code confinedAllocator()}); wall time for the virtual threads, as the JVM keeps no
 * CPU time for them. Prints the median
 * of 8 rounds of 4 million operations after 2 warm-up rounds, in ns per alloc+free pair. Not JMH: a check to run on
 * two commits when the machine is too busy for JMH.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp mm4j-bench/target/mm4j-benchmarks.jar
 * org.mm4j.bench.SheafCpuTime}
 */
public final class SheafCpuTime {
    private static final int OPS = 4_000_000;
    private static final int ROUNDS = 10;
    private static final int WARMUP = 2;
    static long sink;

    private SheafCpuTime() {
    }

    public static void main(final String[] args) throws InterruptedException {
        try (Kernel k = Kernel.boot("mem=512M nr_cpus=2")) {
            Thread.ofPlatform().start(() -> run(k, "platform", k.slab().allocator())).join();
            Thread.ofVirtual().start(() -> run(k, "virtual", k.slab().allocator())).join();
            Thread.ofVirtual().start(() -> run(k, "virtual, confinedAllocator()", k.slab().confinedAllocator())).join();
        }
    }

    @SuppressWarnings("UnusedVariable") // k keeps the booted kernel in the signature of each run: alive while it runs
    private static void run(final Kernel k, final String kind, final SlabAllocator a) {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final boolean cpuTime = !Thread.currentThread().isVirtual();  // the JVM has no CPU time for a virtual thread
        final LongSupplier clock = cpuTime ? mx::getCurrentThreadCpuTime : System::nanoTime;
        final long[] ring = new long[1024];
        for (int i = 0; i < ring.length; i++) {
            ring[i] = a.kmalloc(64);
        }
        final double[] allocFree = new double[ROUNDS - WARMUP];
        final double[] ringOps = new double[ROUNDS - WARMUP];
        for (int round = 0; round < ROUNDS; round++) {
            final long c0 = clock.getAsLong();
            for (int i = 0; i < OPS; i++) {
                final long p = a.kmalloc(64);
                sink += p;
                a.kfree(p);
            }
            final long c1 = clock.getAsLong();
            int j = 0;
            for (int i = 0; i < OPS; i++) {
                a.kfree(ring[j]);
                ring[j] = a.kmalloc(64);
                j = (j + 1) & (ring.length - 1);
            }
            final long c2 = clock.getAsLong();
            if (round >= WARMUP) {
                allocFree[round - WARMUP] = (c1 - c0) / (double) OPS;
                ringOps[round - WARMUP] = (c2 - c1) / (double) OPS;
            }
        }
        for (final long p : ring) {
            a.kfree(p);
        }
        System.out.printf("%-30s alloc-free-64 %6.2f ns   ring-64 %6.2f ns   (%s, median of %d rounds)%n", kind,
            median(allocFree), median(ringOps), cpuTime ? "CPU time" : "wall time", allocFree.length);
    }

    private static double median(final double[] v) {
        final double[] s = v.clone();
        Arrays.sort(s);
        return (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
