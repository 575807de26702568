package org.mm4j.bench;

import org.mm4j.Kernel;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * The buddy page allocator: {@code alloc_pages(GFP_KERNEL, order)} + {@code __free_pages} for order 0 and 3, on one
 * and on two threads (each pinned to its own CPU slot unless {@code slots=1}, where both share one and the pcp
 * trylock falls back to the zone lock). {@code allocFree*}: one block at a time, the per-CPU list fast path.
 * {@code burst*}: 256 blocks then their frees, so the pcp lists refill ({@code rmqueue_bulk}) and drain
 * ({@code free_pcppages_bulk}) under the zone lock; ns per alloc+free pair.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Xmn128m", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BuddyBench {
    static final int BURST = 256;

    @Param({"0", "3"})
    public int order;

    /** CPU slots ({@code nr_cpus=}); with 1, two threads share a slot. */
    @Param({"2"})
    public int slots;

    Kernel kernel;
    BuddyAllocator buddy;

    @Setup(Level.Trial)
    public void boot() {
        kernel = Kernel.boot("mem=256M nr_cpus=" + slots);
        buddy = kernel.buddy();
    }

    @TearDown(Level.Trial)
    public void shutdown() {
        buddy.drainAllPages();
        buddy.checkInvariants();
        kernel.close();
    }

    /** Per benchmark thread: its CPU slot and a burst buffer. */
    @State(Scope.Thread)
    public static class Cpu {
        final long[] pfns = new long[BURST];

        @Setup(Level.Trial)
        public void pin(final BuddyBench b, final ThreadParams t) {
            b.kernel.cpus().pin(t.getThreadIndex() % b.slots);
        }
    }

    private long allocFree() {
        final long pfn = buddy.allocPages(Gfp.KERNEL, order);
        buddy.freePages(pfn, order);
        return pfn;
    }

    private long burst(final Cpu c) {
        final long[] p = c.pfns;
        for (int i = 0; i < BURST; i++) {
            p[i] = buddy.allocPages(Gfp.KERNEL, order);
        }
        for (int i = 0; i < BURST; i++) {
            buddy.freePages(p[i], order);
        }
        return p[0];
    }

    @Benchmark
    @Threads(1)
    public long allocFree1(final Cpu c) {
        return allocFree();
    }

    @Benchmark
    @Threads(2)
    public long allocFree2(final Cpu c) {
        return allocFree();
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BURST)
    public long burst1(final Cpu c) {
        return burst(c);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BURST)
    public long burst2(final Cpu c) {
        return burst(c);
    }
}
