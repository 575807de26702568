package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/** Workload {@code ring-64}: a {@link RingBench} ring of 1024 live 64-byte objects. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Ring64Bench extends RingBench {
    static final int SIZE = 64;

    public Ring64Bench() {
        super(constant(SIZE));
    }

    @Benchmark
    public void ring64(final Blackhole bh) {
        step(bh);
    }
}
