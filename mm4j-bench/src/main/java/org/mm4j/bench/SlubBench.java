package org.mm4j.bench;

import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.SlabAllocator;
import org.mm4j.slab.Slub;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.infra.Control;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmarks of SLUB's fast paths, one alloc+free pair per operation:
 * <ul>
 *   <li>{@code cpuSlab*}: the kernel-faithful per-CPU slab path (lockless freelist + tid CAS), through
 *       {@code kmalloc}/{@code kfree} and {@code kmem_cache_alloc}/{@code kmem_cache_free};</li>
 *   <li>{@code sheaves*}: the JVM-facing {@link SlabAllocator} with per-thread sheaves (no lock, no atomic).</li>
 * </ul>
 * Run: {@code java -jar mm4j-bench/target/mm4j-benchmarks.jar SlubBench -f 1 -wi 3 -i 5}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Xmn256m", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class SlubBench {
    private static final int BATCH = 1024;
    private static final int RANDOM = 4096;

    private Kernel kernel;
    private Slub slub;
    private SlabAllocator sheaves;
    private KmemCache cache64;
    private final long[] objs = new long[BATCH];
    private final long[] sizes = new long[RANDOM];
    private int next;

    @Setup(Level.Trial)
    public void boot() {
        kernel = Kernel.boot("mem=512M nr_cpus=2");
        slub = kernel.slab();
        sheaves = slub.allocator();
        cache64 = slub.kmemCacheCreate("bench_64", 64, 0, 0, null);
        final SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < RANDOM; i++) {
            sizes[i] = 8L + r.nextInt(8192 - 8 + 1);
        }
    }

    @TearDown(Level.Trial)
    public void shutdown() {
        kernel.close();
    }

    @Benchmark
    public long cpuSlabKmalloc64() {
        final long p = slub.kmalloc(64, Gfp.KERNEL);
        slub.kfree(p);
        return p;
    }

    @Benchmark
    public long cpuSlabKmemCache64() {
        final long p = cache64.alloc(Gfp.KERNEL);
        cache64.free(p);
        return p;
    }

    @Benchmark
    public long sheavesKmalloc64() {
        final long p = sheaves.kmalloc(64);
        sheaves.kfree(p);
        return p;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long cpuSlabBatch1024x64() {
        for (int i = 0; i < BATCH; i++) {
            objs[i] = slub.kmalloc(64, Gfp.KERNEL);
        }
        for (int i = 0; i < BATCH; i++) {
            slub.kfree(objs[i]);
        }
        return objs[0];
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long sheavesBatch1024x64() {
        for (int i = 0; i < BATCH; i++) {
            objs[i] = sheaves.kmalloc(64);
        }
        for (int i = 0; i < BATCH; i++) {
            sheaves.kfree(objs[i]);
        }
        return objs[0];
    }

    @Benchmark
    public long cpuSlabKmallocRandom() {
        final long p = slub.kmalloc(sizes[next++ & (RANDOM - 1)], Gfp.KERNEL);
        slub.kfree(p);
        return p;
    }

    @Benchmark
    public long sheavesKmallocRandom() {
        final long p = sheaves.kmalloc(sizes[next++ & (RANDOM - 1)]);
        sheaves.kfree(p);
        return p;
    }

    /** Two threads, one allocating, the other freeing what it receives (remote frees), 64-byte objects. */
    @State(Scope.Group)
    public static class Remote {
        private static final VarHandle IDX = MethodHandles.arrayElementVarHandle(long[].class);
        private static final int CAP = 1024;
        Kernel kernel;
        final long[] ring = new long[CAP];
        /** [0] = head (consumer), [16] = tail (producer), on separate cache lines. */
        final long[] idx = new long[32];

        @Setup(Level.Trial)
        public void boot() {
            kernel = Kernel.boot("mem=512M nr_cpus=2");
        }

        @TearDown(Level.Trial)
        public void shutdown() {
            kernel.close();
        }

        boolean offer(final long v, final Control c) {
            final long t = idx[16];
            int spins = 0;
            while (t - (long) IDX.getAcquire(idx, 0) == CAP) {
                if (c.stopMeasurement) {
                    return false;
                }
                backOff(++spins);
            }
            ring[(int) t & (CAP - 1)] = v;
            IDX.setRelease(idx, 16, t + 1);
            return true;
        }

        /** Spin briefly, then yield: on two shared CPUs the other side may be descheduled. */
        @SuppressWarnings("ThreadPriorityCheck") // backoff: on 2 CPUs the other thread needs this CPU
        private static void backOff(final int spins) {
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }

        long poll(final Control c) {
            final long h = idx[0];
            int spins = 0;
            while ((long) IDX.getAcquire(idx, 16) == h) {
                if (c.stopMeasurement) {
                    return 0;
                }
                backOff(++spins);
            }
            final long v = ring[(int) h & (CAP - 1)];
            IDX.setRelease(idx, 0, h + 1);
            return v;
        }
    }

    /** The calling benchmark thread's sheaves. */
    @State(Scope.Thread)
    public static class Mine {
        SlabAllocator a;

        @Setup(Level.Trial)
        public void setup(final Remote r) {
            a = r.kernel.slab().allocator();
        }
    }

    @Benchmark
    @Group("remoteFreeCpuSlab")
    @GroupThreads(1)
    public boolean remoteCpuSlabProducer(final Remote r, final Control c) {
        final long p = r.kernel.slab().kmalloc(64, Gfp.KERNEL);
        if (!r.offer(p, c)) {
            r.kernel.slab().kfree(p);
            return false;
        }
        return true;
    }

    @Benchmark
    @Group("remoteFreeCpuSlab")
    @GroupThreads(1)
    public long remoteCpuSlabConsumer(final Remote r, final Control c) {
        final long p = r.poll(c);
        r.kernel.slab().kfree(p);
        return p;
    }

    @Benchmark
    @Group("remoteFreeSheaves")
    @GroupThreads(1)
    public boolean remoteSheavesProducer(final Remote r, final Mine m, final Control c) {
        final long p = m.a.kmalloc(64);
        if (!r.offer(p, c)) {
            m.a.kfree(p);
            return false;
        }
        return true;
    }

    @Benchmark
    @Group("remoteFreeSheaves")
    @GroupThreads(1)
    public long remoteSheavesConsumer(final Remote r, final Mine m, final Control c) {
        final long p = r.poll(c);
        m.a.kfree(p);
        return p;
    }
}
