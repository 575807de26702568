package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Workload {@code alloc-free-64}: one thread allocates 64 bytes and frees them at once; ns per pair. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AllocFreeBench extends PeerState {
    static final long SIZE = 64;
    private final Object[] refs = new Object[1];

    @Benchmark
    public void allocFree64() {
        final Allocator al = a;
        final long p = al.alloc(SIZE, refs, 0);
        al.free(p, SIZE, refs, 0);
    }
}
