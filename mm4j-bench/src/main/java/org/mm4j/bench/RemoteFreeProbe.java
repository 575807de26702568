package org.mm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a {@code remote-free-2t-64} iteration is made of, second by second: runs {@link RemoteFreeBench} itself (the
 * same ring, hand-off and consumer thread as the JMH row) outside JMH, the allocators taking turns in rounds of one
 * second each in one JVM, and prints per second the wall ns per object, the producer's and the consumer's thread CPU
 * ns per object, and the hand-offs per 1,000 objects (times the producer found the ring full, the consumer found it
 * empty, then how many of their polls yielded the CPU, producer then consumer); then per allocator the median and 90th percentile of the wall time and the medians of the rest. A second
 * whose wall time is far above the two CPU times summed is time neither thread ran; CPU far above the usual per
 * object with many hand-offs is one side spinning and yielding while the other does not run; two CPU times near
 * their usual values whose sum is close to the wall time means the two threads took turns (one ring-full of objects
 * each: about one hand-off per 1,024 objects on each side) instead of running side by side.
 *
 * <p>Run: {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 java -Xms512m -Xmx512m -Xmn128m
 * -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED -cp mm4j-benchmarks.jar org.mm4j.bench.RemoteFreeProbe
 * SECONDS ALLOCATOR...} (SECONDS per allocator; the first two seconds of each allocator are warm-up and not
 * summarised). Not JMH: one JVM, the allocators' compiled code side by side; for distributions, not rankings.
 * {@code RemoteFreeProbe pinned ROUNDS ALLOCATOR...}: each side's work per object with the two threads pinned to
 * two CPUs and to one ({@link #pinned}).
 */
public final class RemoteFreeProbe {
    static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    private static final int WARMUP_SECONDS = 2;

    private RemoteFreeProbe() {
    }

    public static void main(final String[] args) throws Throwable {
        if (args.length >= 3 && "pinned".equals(args[0])) {
            pinned(Integer.parseInt(args[1]), Arrays.copyOfRange(args, 2, args.length));
            return;
        }
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: RemoteFreeProbe SECONDS ALLOCATOR... | pinned ROUNDS "
                + "ALLOCATOR... (got "
                + Arrays.toString(args) + ")");
        }
        final int seconds = Integer.parseInt(args[0]);
        final String[] names = Arrays.copyOfRange(args, 1, args.length);
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final List<List<double[]>> seen = new ArrayList<>();
        for (final String name : names) {
            seen.add(new ArrayList<>());
        }
        for (int round = 0; round < seconds; round++) {
            for (int k = 0; k < names.length; k++) {
                // each allocator one second per round, in turn: the same background load for all
                final double[] row = runSecond(names[k], mx, round == 0);
                if (row != null) {
                    seen.get(k).add(row);
                }
            }
        }
        System.out.println();
        System.out.println("allocator  seconds  wall-median  wall-p90  prodCPU  consCPU  full/1k  empty/1k  yields/1k");
        for (int k = 0; k < names.length; k++) {
            final List<double[]> rows = seen.get(k);
            System.out.println(String.format(Locale.ROOT, "%-10s %7d %12.1f %9.1f %8.1f %8.1f %8.2f %9.2f %5.2f %5.2f",
                names[k], rows.size(), pct(rows, 0, 50), pct(rows, 0, 90), pct(rows, 1, 50), pct(rows, 2, 50),
                pct(rows, 3, 50), pct(rows, 4, 50), pct(rows, 5, 50), pct(rows, 6, 50)));
        }
    }

    /** Opens {@code name}, runs the pipeline {@value #WARMUP_SECONDS} s (first round) or 1 s, prints, closes. */
    private static double[] runSecond(final String name, final ThreadMXBean mx, final boolean first) {
        final RemoteFreeBench b = new RemoteFreeBench();
        b.reportHandOffs = false;
        b.setUp(Allocators.open(name));
        try {
            final long warm = System.nanoTime() + (first ? WARMUP_SECONDS : 0) * 1_000_000_000L + 200_000_000L;
            while (System.nanoTime() < warm) {
                batch(b, 4096);
            }
            b.drain();
            final long consumerId = b.consumer().threadId();
            final long f0 = b.fullWaits;
            final long e0 = b.emptyWaits();
            final long fy0 = b.fullYields;
            final long ey0 = b.emptyYields();
            final long p0 = mx.getCurrentThreadCpuTime();
            final long c0 = mx.getThreadCpuTime(consumerId);
            final long w0 = System.nanoTime();
            long n = 0;
            do {
                batch(b, 4096);
                n += 4096;
            } while (System.nanoTime() - w0 < 1_000_000_000L);
            b.drain();
            final double[] row = {
                (System.nanoTime() - w0) / (double) n,
                (mx.getCurrentThreadCpuTime() - p0) / (double) n,
                (mx.getThreadCpuTime(consumerId) - c0) / (double) n,
                (b.fullWaits - f0) * 1000.0 / n,
                (b.emptyWaits() - e0) * 1000.0 / n,
                (b.fullYields - fy0) * 1000.0 / n,
                (b.emptyYields() - ey0) * 1000.0 / n};
            System.out.println(String.format(Locale.ROOT,
                "%-10s wall %7.1f ns/obj  prodCPU %6.1f  consCPU %6.1f  full/1k %6.2f  empty/1k %7.2f"
                    + "  yields/1k %6.2f %6.2f", name, row[0], row[1], row[2], row[3], row[4], row[5], row[6]));
            return row;
        } finally {
            b.tearDown();
        }
    }

    // ------------------------------------------------------------------ pinned mode

    private static final MethodHandle SCHED_SETAFFINITY = Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find("sched_setaffinity").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    /** Pinned episodes: warm-up and measured seconds. */
    private static final double PINNED_WARMUP_S = 0.4;
    private static final double PINNED_MEASURE_S = 0.8;

    /**
     * {@code RemoteFreeProbe pinned ROUNDS ALLOCATOR...}: what a cache line crossing between two CPUs costs each
     * allocator's pipeline, on a busy machine too. Per round and allocator two episodes (a fresh allocator each):
     * the producer and the consumer pinned ({@code sched_setaffinity}) to CPUs 0 and 1, <em>apart</em>, so that
     * every line one side wrote the other fetches from the other CPU, then both to CPU 0, <em>one CPU</em>, where
     * nothing crosses. Each side's work is timed in batches of 32 objects ({@code System.nanoTime}; the consumer's
     * by {@link RemoteFreeBench#timeWork}), a batch counted only when no wait for the other side fell into it and
     * it took under {@value RemoteFreeBench#WORK_SAMPLE_MAX_NS} ns, so neither spinning nor a descheduled side
     * counts. Prints the work ns per object of each side, per episode and as medians.
     */
    static void pinned(final int rounds, final String[] names) throws Throwable {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            throw new IllegalStateException("RemoteFreeProbe pinned needs 2 CPUs; this JVM has "
                + Runtime.getRuntime().availableProcessors());
        }
        final List<List<double[]>> seen = new ArrayList<>();
        for (final String name : names) {
            seen.add(new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < names.length; k++) {
                final double[] apart = pinnedEpisode(names[k], true, PINNED_WARMUP_S, PINNED_MEASURE_S);
                final double[] one = pinnedEpisode(names[k], false, PINNED_WARMUP_S, PINNED_MEASURE_S);
                System.out.println(String.format(Locale.ROOT, "round %2d %-26s apart: producer %6.1f consumer %6.1f"
                    + "   one CPU: producer %6.1f consumer %6.1f   work ns per object", round, names[k], apart[0],
                    apart[1], one[0], one[1]));
                if (round > 0) {  // the first round warms the JIT up
                    seen.get(k).add(new double[] {apart[0], apart[1], one[0], one[1]});
                }
            }
        }
        System.out.println();
        System.out.println("allocator                  rounds  apart: producer consumer   one CPU: producer consumer"
            + "   (medians, work ns per object)");
        for (int k = 0; k < names.length; k++) {
            final List<double[]> rows = seen.get(k);
            System.out.println(String.format(Locale.ROOT, "%-26s %6d  %15.1f %8.1f  %17.1f %8.1f", names[k],
                rows.size(), pct(rows, 0, 50), pct(rows, 1, 50), pct(rows, 2, 50), pct(rows, 3, 50)));
        }
    }

    /**
     * One pinned episode of {@code name}: {@code {producer, consumer}} work ns per object (NaN when no batch
     * qualified), the threads on CPUs 0 and 1 ({@code apart}) or both on CPU 0. The calling thread's CPU mask is
     * restored to all CPUs afterwards.
     */
    static double[] pinnedEpisode(final String name, final boolean apart, final double warmupS,
                                  final double measureS) throws Throwable {
        return pinnedEpisode(Allocators.open(name), apart, warmupS, measureS);
    }

    /** {@link #pinnedEpisode(String, boolean, double, double)} over an allocator already open (closed after). */
    static double[] pinnedEpisode(final Allocator al, final boolean apart, final double warmupS,
                                  final double measureS) throws Throwable {
        final RemoteFreeBench b = new RemoteFreeBench();
        b.reportHandOffs = false;
        b.timeWork = true;
        try {
            pin(apart ? 1 : 0);  // the consumer thread, started by setUp, inherits this mask
            b.setUp(al);
        } catch (final Throwable e) {
            al.close();
            pin(-1);
            throw e;
        }
        try {
            if (apart) {
                pin(0);
            }
            final long warm = System.nanoTime() + (long) (warmupS * 1e9);
            while (System.nanoTime() < warm) {
                batch(b, RemoteFreeBench.HANDBACK);
            }
            b.drain();
            final long[] c0 = b.consumerWork();
            long ns = 0;
            long objects = 0;
            final long w0 = System.nanoTime();
            while (System.nanoTime() - w0 < (long) (measureS * 1e9)) {
                final long f0 = b.fullWaits;
                final long t0 = System.nanoTime();
                batch(b, RemoteFreeBench.HANDBACK);
                final long d = System.nanoTime() - t0;
                if (b.fullWaits == f0 && d < RemoteFreeBench.WORK_SAMPLE_MAX_NS) {
                    ns += d;
                    objects += RemoteFreeBench.HANDBACK;
                }
            }
            b.drain();
            final long[] c1 = b.consumerWork();
            return new double[] {ns / (double) objects, (c1[0] - c0[0]) / (double) (c1[1] - c0[1])};
        } finally {
            try {
                b.tearDown();
            } finally {
                pin(-1);
            }
        }
    }

    /** Pins the calling thread to CPU {@code cpu}, or to every CPU of the machine (up to 64) for -1. */
    private static void pin(final int cpu) throws Throwable {
        final int n = Math.min(64, Runtime.getRuntime().availableProcessors());
        final long mask = cpu >= 0 ? 1L << cpu : n == 64 ? -1L : (1L << n) - 1;
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment set = arena.allocate(128);  // a cpu_set_t of 1,024 CPUs, zeroed
            set.set(ValueLayout.JAVA_LONG, 0, mask);
            final int rc = (int) SCHED_SETAFFINITY.invokeExact(0, set.byteSize(), set);
            if (rc != 0) {
                throw new IllegalStateException("sched_setaffinity(0, 128, {0x" + Long.toHexString(mask)
                    + "}) failed: " + rc);
            }
        }
    }

    /** Allocates, writes and hands over {@code n} objects. */
    private static void batch(final RemoteFreeBench b, final int n) {
        for (int i = 0; i < n; i++) {
            b.remoteFree64(BH);
        }
    }

    private static double pct(final List<double[]> rows, final int col, final int p) {
        if (rows.isEmpty()) {
            return Double.NaN;
        }
        final double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return v[Math.min(v.length - 1, (v.length * p) / 100)];
    }
}
