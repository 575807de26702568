package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Workloads {@code batch-1024x64} and {@code batch-1024x1k}: one thread allocates 1024 objects, writing the first
 * and last 8 bytes of each, then frees them in allocation order; ns per alloc+free pair (the invocation counts as
 * 1024 operations). Each object's handle goes to a Blackhole: the address, or a {@link SegmentRow}'s segment.
 *
 * <p>Each row runs the batch in its natural form: an address row keeps the {@code long} in {@link #addrs} (and
 * whatever its {@link Allocator#alloc} keeps in {@link #refs}); a {@link SegmentRow} keeps its segment in a local,
 * writes through it and stores it once into {@link #refs}, from where it is freed ({@link #allocAllSegments}). So
 * the rows differ only in the handle (docs/speed-history.md, "Tenth pass (issue 13): the batch's caller").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BatchBench extends PeerState {
    static final int BATCH = 1024;
    final Object[] refs = new Object[BATCH];
    final long[] addrs = new long[BATCH];

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x64(final Blackhole bh) {
        batch(64, bh);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch1024x1k(final Blackhole bh) {
        batch(1024, bh);
    }

    /** Allocates and writes the whole batch (the tests stop here to look at it). */
    void allocAll(final long size, final Blackhole bh) {
        final Allocator al = a;
        if (al instanceof SegmentRow row) {  // folds to the row's class check, which the calls below need anyway
            allocAllSegments(row, size, bh);
            return;
        }
        final Object[] r = refs;
        final long[] p = addrs;
        long s = stamp;
        for (int i = 0; i < BATCH; i++) {
            final long x = al.alloc(size, r, i);
            al.write8(x, size, r, i, s++);
            bh.consume(x);
            p[i] = x;
        }
        stamp = s;
    }

    void freeAll(final long size) {
        final Allocator al = a;
        if (al instanceof SegmentRow row) {
            freeAllSegments(row);
            return;
        }
        final Object[] r = refs;
        final long[] p = addrs;
        for (int i = 0; i < BATCH; i++) {
            al.free(p[i], size, r, i);
        }
    }

    /**
     * {@link #allocAll} as a program holding segments writes it: each new segment in a local, written through it,
     * handed to {@code bh} and stored once into {@link #refs}. No address stored into {@link #addrs} (the segment
     * has it).
     */
    private void allocAllSegments(final SegmentRow row, final long size, final Blackhole bh) {
        final Object[] r = refs;
        long s = stamp;
        for (int i = 0; i < BATCH; i++) {
            final MemorySegment m = row.allocate(size);
            SegmentFace.write8(m, size, s++);
            bh.consume(m);
            r[i] = m;
        }
        stamp = s;
    }

    /**
     * {@link #freeAll} of a {@link SegmentRow}: each segment freed from {@link #refs}; no {@code null} stored over
     * it (the next batch writes every slot).
     */
    private void freeAllSegments(final SegmentRow row) {
        final Object[] r = refs;
        for (int i = 0; i < BATCH; i++) {
            row.free((MemorySegment) r[i]);
        }
    }

    private void batch(final long size, final Blackhole bh) {
        allocAll(size, bh);
        freeAll(size);
    }
}
