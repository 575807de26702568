package org.mm4j.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.mm4j.Kernel;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.SlabFlags;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The cost of SLUB debugging: alloc+free of a 64-byte object from a cache with one debug flag on
 * ({@code F} consistency checks, {@code Z} red zones, {@code P} poisoning, {@code U} user tracking with a Java
 * stack walk per alloc and free) against the same cache without debugging ({@code none}, which takes the sheaf or
 * per-CPU fast paths), all in one JMH run. {@link #main} runs it and prints each mode's ratio to {@code none}:
 * {@code java -cp mm4j-bench/target/mm4j-benchmarks.jar org.mm4j.bench.SlubDebugBench}, or through JMH's main:
 * {@code java -jar mm4j-bench/target/mm4j-benchmarks.jar SlubDebugBench -f 1 -wi 2 -i 3}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Xmn256m", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class SlubDebugBench {
    @Param({"none", "F", "Z", "P", "U", "FZPU"})
    public String debug;

    private Kernel kernel;
    private KmemCache cache;

    static long flags(final String mode) {
        long f = 0;
        for (int i = 0; i < mode.length(); i++) {
            switch (mode.charAt(i)) {
                case 'F' -> f |= SlabFlags.SLAB_CONSISTENCY_CHECKS;
                case 'Z' -> f |= SlabFlags.SLAB_RED_ZONE;
                case 'P' -> f |= SlabFlags.SLAB_POISON;
                case 'U' -> f |= SlabFlags.SLAB_STORE_USER;
                default -> { }
            }
        }
        return f;
    }

    @Setup(Level.Trial)
    public void setUp() {
        kernel = Kernel.boot("mem=256M nr_cpus=2");
        cache = kernel.slab().kmemCacheCreate("bench-" + debug, 64, 0, flags(debug), null);
        // warm the slabs: one full slab's worth allocated and freed
        final long[] objs = new long[256];
        for (int i = 0; i < objs.length; i++) {
            objs[i] = cache.alloc();
        }
        for (final long o : objs) {
            cache.free(o);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernel.close();
    }

    @Benchmark
    public long allocFree64() {
        final long p = cache.alloc();
        cache.free(p);
        return p;
    }

    /** Runs every mode in one JMH run (short: a shared, loaded machine) and prints ns/op and the ratios. */
    public static void main(final String[] args) throws RunnerException {
        final Options opt = new OptionsBuilder().include(SlubDebugBench.class.getSimpleName())
            .warmupIterations(2).warmupTime(TimeValue.seconds(1))
            .measurementIterations(3).measurementTime(TimeValue.seconds(1)).forks(1).build();
        final Collection<RunResult> results = new Runner(opt).run();
        final Map<String, Double> ns = new LinkedHashMap<>();
        for (final RunResult r : results) {
            ns.put(r.getParams().getParam("debug"), r.getPrimaryResult().getScore());
        }
        final double base = ns.getOrDefault("none", Double.NaN);
        final List<String> lines = new ArrayList<>();
        lines.add("| slub_debug | ns per alloc+free (64 B) | ratio to none |");
        lines.add("|---|---:|---:|");
        ns.forEach((k, v) -> lines.add(String.format("| %s | %.1f | %.1fx |", k, v, v / base)));
        lines.forEach(System.out::println);
    }
}
