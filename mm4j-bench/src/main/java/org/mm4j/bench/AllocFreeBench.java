package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Workload {@code alloc-free-64}: one thread allocates 64 bytes, writes its first and last 8 bytes, hands the
 * allocation to a Blackhole and frees it; ns per pair. Each row does it in its own natural form,
 * {@link Allocator#allocWriteFree}: the handle (an address, or a segment, buffer or array) held in a local. The
 * best case of every allocator with a per-thread cache (the same object comes back each time): the ring workloads
 * ({@link RingBench}) are the ones with a live set.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AllocFreeBench extends PeerState {
    static final long SIZE = 64;
    final Object[] refs = new Object[1];

    @Benchmark
    public void allocFree64(final Blackhole bh) {
        a.allocWriteFree(SIZE, stamp++, refs, bh);
    }
}
