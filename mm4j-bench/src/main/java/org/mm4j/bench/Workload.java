package org.mm4j.bench;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/** The workloads of the peer comparison: row name, the JMH benchmark that measures it, and its thread count. */
public enum Workload {
    ALLOC_FREE_64("alloc-free-64", AllocFreeBench.class, "allocFree64", 1),
    BATCH_1024X64("batch-1024x64", BatchBench.class, "batch1024x64", 1),
    BATCH_1024X1K("batch-1024x1k", BatchBench.class, "batch1024x1k", 1),
    KMALLOC_RANDOM("kmalloc-random-8-8192", KmallocRandomBench.class, "kmallocRandom", 1),
    REMOTE_FREE_2T_64("remote-free-2t-64", RemoteFreeBench.class, "remoteFree64", 2),
    RING_64("ring-64", Ring64Bench.class, "ring64", 1),
    RING_MIXED_16_4096("ring-mixed-16-4096", RingMixedBench.class, "ringMixed", 1);

    private final String label;
    private final String benchmark;
    private final int threads;

    Workload(final String label, final Class<?> bench, final String method, final int threads) {
        this.label = label;
        this.benchmark = bench.getName() + "." + method;
        this.threads = threads;
    }

    /** The name in the JSON rows and the table, e.g. {@code alloc-free-64}. */
    public String label() {
        return label;
    }

    /** The JMH benchmark's full name, {@code class.method}. */
    public String benchmark() {
        return benchmark;
    }

    public int threads() {
        return threads;
    }

    /** A JMH include pattern matching exactly this benchmark. */
    public String includeRegex() {
        return "^" + Pattern.quote(benchmark) + "$";
    }

    public static Workload byLabel(final String label) {
        for (final Workload w : values()) {
            if (w.label.equals(label)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + label + "' (expected one of "
            + String.join(", ", labels()) + ")");
    }

    public static Workload byBenchmark(final String benchmark) {
        for (final Workload w : values()) {
            if (w.benchmark.equals(benchmark)) {
                return w;
            }
        }
        return null;
    }

    public static List<String> labels() {
        return Arrays.stream(values()).map(Workload::label).toList();
    }
}
