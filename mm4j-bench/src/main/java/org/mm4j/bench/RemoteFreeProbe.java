package org.mm4j.bench;

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
 */
public final class RemoteFreeProbe {
    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    private static final int WARMUP_SECONDS = 2;

    private RemoteFreeProbe() {
    }

    public static void main(final String[] args) {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: RemoteFreeProbe SECONDS ALLOCATOR... (got "
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
                batch(b);
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
                batch(b);
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

    private static void batch(final RemoteFreeBench b) {
        for (int i = 0; i < 4096; i++) {
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
