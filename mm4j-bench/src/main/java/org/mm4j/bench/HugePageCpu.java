package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.mm4j.Kernel;
import org.mm4j.slab.SlabAllocator;
import org.mm4j.slab.Slub;

/**
 * {@code mm4j.thp=always} against 4 KiB pages ({@code mm4j.thp=never}) for rings with large live sets, by thread CPU
 * time in <em>one process</em> (the README's "Huge pages for the model's memory"): four kernels ({@code never},
 * {@code always}, and each once more as the control), {@code kmalloc}/{@code kfree} through the thread's sheaves,
 * both ends of every object written, the oldest object's first word read before its free. {@code ring}: the new
 * object replaces the oldest of {@code LIVE}; {@code random}: it replaces a random one (seed 7). Sizes: 64 B or
 * log-uniform over 16..4096 B (seed 42). The variants take turns round by round in a rotating order; prints the
 * median CPU ns per operation over the last two thirds of the rounds and the median of the per-round ratios to the
 * first variant.
 *
 * <p>Run: {@code java -Xms512m -Xmx512m -Xmn128m -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED -cp
 * mm4j-benchmarks.jar org.mm4j.bench.HugePageCpu LIVE 64|mixed ring|random ROUNDS}.
 *
 * <p>Threads: the main thread only. Not JMH: compare the variants of one run, not runs.
 */
public final class HugePageCpu {
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final int SEQUENCE = 1 << 20;
    private static final int OPS = 200_000;
    private static long sink;

    private HugePageCpu() {
    }

    /** One kernel, its thread's allocator and its live objects. */
    private record Variant(String label, Kernel kernel, Slub slab, SlabAllocator allocator, long[] live) {
        static Variant boot(final String label, final String thp, final int live) {
            final Kernel k = Kernel.boot("mem=2G nr_cpus=2" + Mm4jSlab.SHEAVES + " mm4j.thp=" + thp);
            k.cpus().pin(0);
            return new Variant(label, k, k.slab(), k.slab().allocator(), new long[live]);
        }
    }

    public static void main(final String[] args) {
        if (args.length != 4 || !java.util.List.of("64", "mixed").contains(args[1])
            || !java.util.List.of("ring", "random").contains(args[2])) {
            throw new IllegalArgumentException("args=" + Arrays.toString(args)
                + " (expected: LIVE 64|mixed ring|random ROUNDS)");
        }
        final int live = Integer.parseInt(args[0]);
        final boolean mixed = "mixed".equals(args[1]);
        final boolean random = "random".equals(args[2]);
        final int rounds = Integer.parseInt(args[3]);
        final int[] sizes = mixed ? KmallocRandomBench.logUniform(SEQUENCE, 42, 16, 4096) : filled(SEQUENCE, 64);
        final int[] slots = new int[SEQUENCE];
        final Random r = new Random(7);
        for (int i = 0; i < SEQUENCE; i++) {
            slots[i] = random ? r.nextInt(live) : i % live;
        }
        final Variant[] vs = {Variant.boot("4k", "never", live), Variant.boot("thp", "always", live),
            Variant.boot("4k.2", "never", live), Variant.boot("thp.2", "always", live)};
        for (final Variant v : vs) {
            for (int i = 0; i < live; i++) {
                v.live[i] = v.allocator.kmalloc(sizes[i]);
                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, v.slab.nativeAddress(v.live[i]), i);
            }
        }
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final double[][] ns = new double[vs.length][rounds];
        int pos = 0;
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < vs.length; k++) {
                final int i = (k + round) % vs.length;
                final long t0 = mx.getCurrentThreadCpuTime();
                run(vs[i], sizes, slots, pos);
                ns[i][round] = (mx.getCurrentThreadCpuTime() - t0) / (double) OPS;
            }
            pos = (pos + OPS) % SEQUENCE;
        }
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "live=%d %s %s", live, args[1], args[2]));
        final int from = rounds / 3;
        for (int i = 0; i < vs.length; i++) {
            sb.append(String.format(Locale.ROOT, " | %s %.2f x%.3f", vs[i].label, CpuAb.median(ns[i], from, rounds),
                CpuAb.pairedMedian(ns[i], ns[0], from, rounds)));
        }
        System.out.println(sb + (sink == 42 ? " " : ""));
        for (final Variant v : vs) {
            v.kernel.close();
        }
    }

    private static void run(final Variant v, final int[] sizes, final int[] slots, final int from) {
        final SlabAllocator a = v.allocator;
        final Slub slab = v.slab;
        final long[] live = v.live;
        for (int i = 0; i < OPS; i++) {
            final int j = (from + i) % SEQUENCE;
            final int size = sizes[j];
            final long p = a.kmalloc(size);
            final long at = slab.nativeAddress(p);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, at, i);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, at + size - 8, i);
            final int slot = slots[j];
            final long old = live[slot];
            sink += ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, slab.nativeAddress(old));
            a.kfree(old);
            live[slot] = p;
        }
    }

    private static int[] filled(final int n, final int size) {
        final int[] a = new int[n];
        Arrays.fill(a, size);
        return a;
    }
}
