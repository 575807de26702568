package org.mm4j.bench;

import java.util.concurrent.TimeUnit;
import org.mm4j.kernel.Kernel;
import org.mm4j.page.Gfp;
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

/**
 * What each slub_debug flag costs: {@code kmem_cache_alloc} + {@code kmem_cache_free} of a 64-byte object in a
 * cache created with the flags of {@code debug} ({@code none}, or letters as in {@code slub_debug=}: F consistency
 * checks, Z red zone, P poison, U store user), ns per pair.
 * Run: {@code java -jar mm4j-bench/target/mm4j-benchmarks.jar SlubDebugOverhead -f 1 -wi 3 -i 5}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Xmn128m", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class SlubDebugOverheadBench {
    @Param({"none", "F", "Z", "P", "U", "FZPU"})
    public String debug;

    private Kernel kernel;
    private KmemCache cache;

    /** The SLAB_* flags of slub_debug letters ("none" = 0). */
    static long flags(final String letters) {
        if (letters.equals("none")) {
            return 0;
        }
        long f = 0;
        for (final char c : letters.toCharArray()) {
            f |= switch (c) {
                case 'F' -> SlabFlags.SLAB_CONSISTENCY_CHECKS;
                case 'Z' -> SlabFlags.SLAB_RED_ZONE;
                case 'P' -> SlabFlags.SLAB_POISON;
                case 'U' -> SlabFlags.SLAB_STORE_USER;
                default -> throw new IllegalArgumentException("debug letter '" + c + "' (expected: F, Z, P, U)");
            };
        }
        return f;
    }

    @Setup(Level.Trial)
    public void boot() {
        kernel = Kernel.boot(Mm4jSlab.CMDLINE);
        cache = kernel.slab().kmemCacheCreate("bench_debug_64", 64, 0, flags(debug), null);
    }

    @TearDown(Level.Trial)
    public void shutdown() {
        cache.destroy();
        kernel.close();
    }

    @Benchmark
    public long allocFree64() {
        final long p = cache.alloc(Gfp.KERNEL);
        cache.free(p);
        return p;
    }
}
