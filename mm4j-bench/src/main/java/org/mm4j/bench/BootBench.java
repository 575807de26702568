package org.mm4j.bench;

import org.mm4j.Kernel;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Boot of a model kernel: {@code Kernel.boot("mem=X nr_cpus=2")}, one boot per measured invocation
 * ({@link Mode#SingleShotTime}: the time of that one boot, in ms), and the resident memory it added
 * ({@code rssMiB}: VmRSS from {@code /proc/self/statm} after the boot minus before it; Linux only, -1 elsewhere).
 * Memory is reserved lazily ({@code mmap} with {@code MAP_NORESERVE}) and struct pages are deferred, so neither
 * should grow with {@code mem=}. The heap is fixed and pre-touched, so heap objects of the boot add no resident
 * pages; each kernel is closed (unmapped) after its measurement.
 *
 * <p>{@code java -jar mm4j-bench/target/mm4j-benchmarks.jar BootBench -f 3}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Xmn128m", "-XX:+AlwaysPreTouch",
    "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 20, batchSize = 1)
@Measurement(iterations = 30, batchSize = 1)
public class BootBench {
    private static final Path STATM = Path.of("/proc/self/statm");
    private static final long PAGE = 4096;

    @Param({"1G", "64G", "256G"})
    public String mem;

    private Kernel kernel;
    private long rssBefore;

    /** Resident memory added by the boot, MiB (one boot per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Resident {
        public double rssMiB;

        @Setup(Level.Iteration)
        public void reset() {
            rssMiB = 0;
        }
    }

    @Setup(Level.Invocation)
    public void before() {
        System.gc();
        rssBefore = residentBytes();
    }

    @Benchmark
    public Kernel boot(final Resident r) {
        kernel = Kernel.boot("mem=" + mem + " nr_cpus=2");
        final long after = residentBytes();
        r.rssMiB += after < 0 ? -1 : (after - rssBefore) / (double) (1 << 20);
        return kernel;
    }

    @TearDown(Level.Invocation)
    public void close() {
        if (kernel != null) {
            kernel.close();
            kernel = null;
        }
    }

    /** VmRSS in bytes, or -1 without /proc. */
    static long residentBytes() {
        try {
            if (!Files.exists(STATM)) {
                return -1;
            }
            final String[] f = Files.readString(STATM).trim().split(" ");
            return Long.parseLong(f[1]) * PAGE;
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
