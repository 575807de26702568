package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import org.mm4j.slab.SlabAllocator;

/**
 * Row {@code mm4j-segment-roundup}, information beside the table, not a peer and not a replacement of
 * {@code mm4j-segment}: the {@link Mm4jSegments} caller as a program writes it when its sizes vary and it asks for
 * what kmalloc really gives, {@code allocate(}{@link SlabAllocator#kmallocSizeRoundup kmallocSizeRoundup}{@code
 * (n))} (the kernel's {@code kmalloc_size_roundup}): each kmalloc cache is then asked one size only, so
 * {@link SlabAllocator}'s view cache hands the object's earlier view back instead of a new 40-byte one. The
 * workload's writes stay those of the {@code n} bytes asked (the first and last 8), inside the larger segment; the
 * segment is kept, written, read and freed as {@code mm4j-segment}'s ({@link SegmentFace}; on the ring, the same
 * {@link SegmentRow} step, whose {@link #allocate} here gives the rounded size). What it measures:
 * what the exact-size contract of {@link java.lang.foreign.SegmentAllocator} costs on mixed sizes
 * (docs/speed-history.md, "Tenth pass (issue 13): mixed sizes").
 *
 * <p>Threads: as {@link Mm4jSlab}.
 */
final class Mm4jSegmentsRoundup extends Mm4jSegmentRow {
    Mm4jSegmentsRoundup(final String name) {
        super(name, boot(true));
    }

    /** {@link SlabAllocator#allocate(long)} of {@code kmallocSizeRoundup(byteSize)} bytes, not of {@code byteSize}. */
    @Override
    public MemorySegment allocate(final long byteSize) {
        return mine().allocate(SlabAllocator.kmallocSizeRoundup(byteSize));
    }
}
