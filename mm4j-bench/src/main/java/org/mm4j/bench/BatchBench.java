package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Workloads {@code batch-1024x64} and {@code batch-1024x1k}: one thread allocates 1024 objects, writing the first
 * and last 8 bytes of each, then frees them in allocation order; ns per alloc+free pair (the invocation counts as
 * 1024 operations). Each address goes to a Blackhole.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BatchBench extends PeerState {
    static final int BATCH = 1024;
    final Object[] refs = new Object[BATCH];
    final long[] addrs = new long[BATCH];

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x64(final Blackhole bh) {
        batch(64, bh);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x1k(final Blackhole bh) {
        batch(1024, bh);
    }

    /** Allocates and writes the whole batch (the tests stop here to look at it). */
    void allocAll(final long size, final Blackhole bh) {
        final Allocator al = a;
        final Object[] r = refs;
        final long[] p = addrs;
        long s = stamp;
        for (int i = 0; i < BATCH; i++) {
            final long x = al.alloc(size, r, i);
            al.write8(x, size, r, i, s++);
            bh.consume(x);
            p[i] = x;
        }
        stamp = s;
    }

    void freeAll(final long size) {
        final Allocator al = a;
        final Object[] r = refs;
        final long[] p = addrs;
        for (int i = 0; i < BATCH; i++) {
            al.free(p[i], size, r, i);
        }
    }

    private void batch(final long size, final Blackhole bh) {
        allocAll(size, bh);
        freeAll(size);
    }
}
