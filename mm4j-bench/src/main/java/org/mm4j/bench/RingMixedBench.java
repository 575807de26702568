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
 * Workload {@code ring-mixed-16-4096}: a {@link RingBench} ring of 1024 live objects whose sizes are log-uniform
 * over 16..4096 bytes (every power-of-two band equally likely) from seed {@value #SEED}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RingMixedBench extends RingBench {
    static final int MIN_SIZE = 16;
    static final int MAX_SIZE = 4096;
    static final long SEED = 42;

    public RingMixedBench() {
        super(KmallocRandomBench.logUniform(SEQUENCE, SEED, MIN_SIZE, MAX_SIZE));
    }

    @Benchmark
    public void ringMixed(final Blackhole bh) {
        step(bh);
    }
}
