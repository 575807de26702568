package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Workloads {@code batch-1024x64} and {@code batch-1024x1k}: one thread allocates 1024 objects, then frees them in
 * allocation order; ns per alloc+free pair (the invocation counts as 1024 operations).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BatchBench extends PeerState {
    static final int BATCH = 1024;
    private final Object[] refs = new Object[BATCH];
    private final long[] addrs = new long[BATCH];

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x64() {
        batch(64);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x1k() {
        batch(1024);
    }

    private void batch(final long size) {
        final Allocator al = a;
        final Object[] r = refs;
        final long[] p = addrs;
        for (int i = 0; i < BATCH; i++) {
            p[i] = al.alloc(size, r, i);
        }
        for (int i = 0; i < BATCH; i++) {
            al.free(p[i], size, r, i);
        }
    }
}
