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
    @Param({"mm4j", "mm4j-segment", "mm4j-cpu-slab", "glibc-malloc", "glibc-malloc-critical", "jemalloc",
        "mimalloc", "unsafe", "netty-pooled-direct", "heap", "arena-bump", "arena-bump-256k"})
    public String allocator;

    /** The allocator under test, open from {@link #setUp} to {@link #tearDown}; the benchmark thread is CPU 0. */
    protected Allocator a;

    /** Stamp written into the next object (first and last 8 bytes): counts the objects allocated. */
    protected long stamp;

    @Setup(Level.Trial)
    public final void setUp() {
        setUp(Allocators.open(allocator));
    }

    /** Sets the state up over an allocator already open (the tests wrap one to watch what a workload does). */
    final void setUp(final Allocator opened) {
        a = opened;
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
