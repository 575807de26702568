package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The safety checks' cost measured in <em>thread CPU time</em>, for a machine too loaded for wall-clock JMH
 * numbers: {@code SafetyCost ALLOCATOR ROUNDS} runs alloc-free-64, ring-64, ring-mixed-16-4096 and batch-1024x64 (the
 * JMH workloads' operations, {@link AllocFreeBench}, {@link RingBench}, {@link BatchBench}) in rounds of {@value #BATCH} operations and
 * prints the median CPU ns per alloc+free pair of each. Start it for {@code mm4j} and for
 * {@code mm4j-double-free-kernel} at the same time, so both see the same background load; descheduled time is not
 * CPU time. Not a JMH benchmark: no fork isolation beyond the separate processes, and CPU time still carries the
 * cache pollution of context switches.
 */
public final class SafetyCost {
    static final int BATCH = 200_000;
    /** Batches of 1,024 per round of batch-1024x64 (about {@link #BATCH} operations). */
    static final int BATCHES = BATCH / 1024;
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    /**
     * The workloads' slots live as long as the run, as the JMH benchmarks' {@code @State} fields do: an object
     * (a segment of {@code mm4j-segment}) stored in them escapes to an old array, with the GC's write barrier
     * and no escape analysis, as in JMH (a fresh local array per call let C2 scalar-replace the single
     * alloc-free slot's segment).
     */
    private static final Object[] ONE = new Object[1];
    /**
     * alloc-free-64's escape, as in JMH: a Blackhole made the way JMH allows outside its harness. Run with JMH's
     * fork flags for compiler blackholes ({@link CpuAb}'s {@code BLACKHOLE_FLAGS}), or its {@code consume}
     * does real work (more for an object than for a {@code long}).
     */
    static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    private static final Object[] BATCH_REFS = new Object[1024];
    private static final long[] BATCH_ADDRS = new long[1024];
    private static final Object[] RING_REFS = new Object[RingBench.SLOTS];
    private static final long[] RING_ADDRS = new long[RingBench.SLOTS];
    private static final int[] RING_LIVE = new int[RingBench.SLOTS];

    private SafetyCost() {
    }

    public static void main(final String[] args) {
        final String name = args.length > 0 ? args[0] : "mm4j";
        final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        final int[] sizes64 = new int[RingBench.SEQUENCE];
        Arrays.fill(sizes64, 64);
        final int[] mixed = KmallocRandomBench.logUniform(RingBench.SEQUENCE, RingMixedBench.SEED,
            RingMixedBench.MIN_SIZE, RingMixedBench.MAX_SIZE);
        try (Allocator a = Allocators.open(name)) {
            a.bindThread(0);
            final double[][] ns = new double[4][rounds];
            long sink = 0;
            for (int r = 0; r < rounds; r++) {
                for (int w = 0; w < 4; w++) {
                    final long t0 = MX.getCurrentThreadCpuTime();
                    final int[] sizes = w == 1 ? sizes64 : mixed;
                    final boolean segments = a instanceof SegmentRow;
                    sink += w == 0 ? allocFree(a) : w == 3 ? segments ? batchSegments(a) : batch(a)
                        : segments ? ringSegments(a, sizes) : ring(a, sizes);
                    ns[w][r] = (MX.getCurrentThreadCpuTime() - t0) / (double) (w == 3 ? BATCHES * 1024 : BATCH);
                }
            }
            final String[] labels = {"alloc-free-64", "ring-64", "ring-mixed-16-4096", "batch-1024x64"};
            for (int w = 0; w < 4; w++) {
                final double[] tail = Arrays.copyOfRange(ns[w], rounds / 3, rounds);  // the first third warms up
                Arrays.sort(tail);
                System.out.printf(Locale.ROOT, "%s %s median %.2f p25 %.2f p75 %.2f CPU ns/op (%d rounds)%n", name,
                    labels[w], tail[tail.length / 2], tail[tail.length / 4], tail[tail.length * 3 / 4],
                    tail.length);
            }
            if (sink == 42) {
                System.out.println();
            }
        }
    }

    /** {@link AllocFreeBench}'s operation: each row's {@link Allocator#allocWriteFree}, the handle in a local. */
    private static long allocFree(final Allocator a) {
        final Object[] refs = ONE;
        final Blackhole bh = BH;
        for (int i = 0; i < BATCH; i++) {
            a.allocWriteFree(AllocFreeBench.SIZE, i, refs, bh);
        }
        return 0;
    }

    /**
     * alloc-free-64 as every row ran it before docs/speed-history.md, "Ninth pass (issue 13)": the handle through
     * {@code refs[0]} for the object rows. {@link CpuAb} runs it for jars that predate
     * {@link Allocator#allocWriteFree} and for
     * variants with the property {@code mm4j.cpuab.slots}.
     */
    private static long allocFreeSlots(final Allocator a) {
        final Object[] refs = ONE;
        final Blackhole bh = BH;
        for (int i = 0; i < BATCH; i++) {
            final long p = a.alloc(AllocFreeBench.SIZE, refs, 0);
            a.write8(p, AllocFreeBench.SIZE, refs, 0, i);
            bh.consume(p);
            a.free(p, AllocFreeBench.SIZE, refs, 0);
        }
        return 0;
    }

    /** {@link BatchBench}'s operation: 1,024 objects of 64 B allocated and written, then freed in order. */
    private static long batch(final Allocator a) {
        final int n = 1024;
        final Object[] refs = BATCH_REFS;
        final long[] addrs = BATCH_ADDRS;
        long s = 0;
        for (int b = 0, i = 0; b < BATCHES; b++, i += n) {
            for (int j = 0; j < n; j++) {
                final long p = a.alloc(64, refs, j);
                a.write8(p, 64, refs, j, i + j);
                s += p;
                addrs[j] = p;
            }
            for (int j = 0; j < n; j++) {
                a.free(addrs[j], 64, refs, j);
            }
        }
        return s;
    }

    /**
     * The batch as JMH runs it: {@link BatchBench#batch1024x64} called {@value #BATCHES} times on one
     * {@link BatchBench} (its arrays in its fields), for comparing {@link CpuAb}'s loop with JMH's; {@link CpuAb}
     * runs it for variants with the property {@code mm4j.cpuab.step}.
     */
    private static long batchStep(final Allocator a) {
        final BatchBench b = new BatchBench();
        b.setUp(a);
        final Blackhole bh = BH;
        for (int i = 0; i < BATCHES; i++) {
            b.batch1024x64(bh);
        }
        return 0;
    }

    /**
     * {@link #batch} for a {@link SegmentRow}, in the natural form of {@link BatchBench} (docs/speed-history.md,
     * "Tenth pass (issue 13): the batch's caller"): each new segment in a local, written through it and stored once
     * into the batch's {@code Object[]}, then freed from there; the sum takes the segment's address, as
     * {@link #batch}'s takes the {@code long}. {@link CpuAb} runs it for the segment rows of jars that have
     * {@link SegmentRow}, unless the variant has the property {@code mm4j.cpuab.slots}.
     */
    static long batchSegments(final Allocator a) {
        final SegmentRow row = (SegmentRow) a;
        final int n = 1024;
        final Object[] refs = BATCH_REFS;
        long s = 0;
        for (int b = 0, i = 0; b < BATCHES; b++, i += n) {
            for (int j = 0; j < n; j++) {
                final MemorySegment m = row.allocate(64);
                SegmentFace.write8(m, 64, i + j);
                s += m.address();
                refs[j] = m;
            }
            for (int j = 0; j < n; j++) {
                row.free((MemorySegment) refs[j]);
            }
        }
        return s;
    }

    /**
     * The ring as JMH runs it: {@link RingBench#step} called once per operation on a {@link Ring64Bench} or
     * {@link RingMixedBench} (its state in their fields, not in locals; {@code sizes} says which), for comparing
     * {@link CpuAb}'s loop with JMH's (docs/speed-history.md, "Ninth pass (issue 13)"); {@link CpuAb} runs it for
     * variants with the property {@code mm4j.cpuab.step}.
     */
    private static long ringStep(final Allocator a, final int[] sizes) {
        final RingBench b = Arrays.equals(sizes, RingBench.constant(Ring64Bench.SIZE)) ? new Ring64Bench()
            : new RingMixedBench();
        b.setUp(a);
        final Blackhole bh = BH;
        for (int i = 0; i < BATCH; i++) {
            b.step(bh);
        }
        b.finish();
        return 0;
    }

    /**
     * {@link #ring} for a {@link SegmentRow}, in the natural form of {@link RingBench#step} (docs/speed-history.md,
     * "Tenth pass (issue 13): the ring in JMH"): the new segment in a local, stored once into the ring's
     * {@code Object[]} (its size into the sizes, as the address rows store theirs), written through the local, the
     * oldest freed from there; the sum takes the segment's address, as {@link #ring}'s takes the {@code long}.
     * {@link CpuAb} runs it for the segment rows of jars that have {@link SegmentRow}, unless the variant has the
     * property {@code mm4j.cpuab.slots}.
     */
    static long ringSegments(final Allocator a, final int[] sizes) {
        final SegmentRow row = (SegmentRow) a;
        final int slots = RingBench.SLOTS;
        final Object[] refs = RING_REFS;
        final int[] live = RING_LIVE;
        for (int j = 0; j < RingBench.LIVE; j++) {
            refs[j] = row.allocate(sizes[j]);
            live[j] = sizes[j];
        }
        int oldest = 0;
        int spare = RingBench.LIVE;
        long s = 0;
        for (int i = 0; i < BATCH; i++) {
            final int n = sizes[(RingBench.LIVE + i) & (RingBench.SEQUENCE - 1)];
            final MemorySegment m = row.allocate(n);
            refs[spare] = m;
            live[spare] = n;
            SegmentFace.write8(m, n, i);
            s += m.address();
            row.free((MemorySegment) refs[oldest]);
            spare = oldest;
            oldest = oldest + 1 == slots ? 0 : oldest + 1;
        }
        for (int i = 0, o = oldest; i < RingBench.LIVE; i++, o = o + 1 == slots ? 0 : o + 1) {
            row.free((MemorySegment) refs[o]);
            refs[o] = null;
        }
        return s;
    }

    /** {@value RingBench#LIVE} live objects, each freed {@value RingBench#LIVE} operations after its allocation. */
    private static long ring(final Allocator a, final int[] sizes) {
        final int slots = RingBench.SLOTS;
        final Object[] refs = RING_REFS;
        final long[] addrs = RING_ADDRS;
        final int[] live = RING_LIVE;
        for (int j = 0; j < RingBench.LIVE; j++) {
            addrs[j] = a.alloc(sizes[j], refs, j);
            live[j] = sizes[j];
        }
        int oldest = 0;
        int spare = RingBench.LIVE;
        long s = 0;
        for (int i = 0; i < BATCH; i++) {
            final int n = sizes[(RingBench.LIVE + i) & (RingBench.SEQUENCE - 1)];
            final long p = a.alloc(n, refs, spare);
            a.write8(p, n, refs, spare, i);
            s += p;
            addrs[spare] = p;
            live[spare] = n;
            a.free(addrs[oldest], live[oldest], refs, oldest);
            spare = oldest;
            oldest = oldest + 1 == slots ? 0 : oldest + 1;
        }
        for (int i = 0, o = oldest; i < RingBench.LIVE; i++, o = o + 1 == slots ? 0 : o + 1) {
            a.free(addrs[o], live[o], refs, o);
        }
        return s;
    }
}
