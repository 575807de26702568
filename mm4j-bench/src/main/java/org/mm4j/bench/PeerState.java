package org.mm4j.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What every peer-comparison benchmark state shares: the allocator row under test, opened once per trial.
 * {@link PeerComparison} overrides the {@code allocator} list with the rows available on this machine; each value
 * runs in its own JMH fork, so the call sites on {@link Allocator} stay monomorphic.
 */
@State(Scope.Thread)
public abstract class PeerState {
    @Param({"mm4j", "mm4j-cpu-slab", "glibc-malloc", "glibc-malloc-critical", "jemalloc", "mimalloc", "unsafe",
        "netty-pooled-direct", "heap", "arena-bump"})
    public String allocator;

    /** The allocator under test, open from {@link #setUp} to {@link #tearDown}; the benchmark thread is CPU 0. */
    protected Allocator a;

    @Setup(Level.Trial)
    public final void setUp() {
        a = Allocators.open(allocator);
        a.bindThread(0);
        prepare();
    }

    @TearDown(Level.Trial)
    public final void tearDown() {
        try {
            finish();
        } finally {
            a.close();
            a = null;
        }
    }

    /** What a workload sets up once the allocator is open (live objects, threads). */
    protected void prepare() {
    }

    /** What a workload releases before the allocator closes. */
    protected void finish() {
    }
}
