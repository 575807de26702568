package org.mm4j.bench;

import java.lang.foreign.MemorySegment;

/**
 * A row whose allocator hands out {@link MemorySegment}s ({@code mm4j-segment}, {@code floor-segment}): the calls a
 * program holding segments makes, for the workloads that write their operation in each row's natural form. The ring
 * ({@link RingBench#step}) keeps such a row's segment in a local, writes through it, stores it once into the ring's
 * {@code Object[]} and frees the oldest from there, where an address row keeps a {@code long} in a {@code long[]}
 * (docs/speed-history.md, "Tenth pass (issue 13): the ring in JMH").
 *
 * <p>Threads: as the row's {@link Allocator}.
 */
interface SegmentRow {
    /** A segment of exactly {@code byteSize} bytes. */
    MemorySegment allocate(long byteSize);

    /** Gives back a segment {@link #allocate} returned. */
    void free(MemorySegment segment);
}
