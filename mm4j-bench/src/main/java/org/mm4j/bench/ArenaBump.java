package org.mm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The floor: an FFM {@link SegmentAllocator#slicingAllocator} bumping through one pre-touched segment, with no
 * individual free; when the segment is used up the bump pointer starts again from its base (a real program would
 * need a new arena). Allocations are 16-byte aligned, as malloc's are. Two rows:
 * <ul>
 * <li>{@code arena-bump}: a 64 MiB region, so written objects stream through memory the caches have not seen
 *     for a while (a floor for allocation, not for the cache misses an allocator that reuses memory avoids);</li>
 * <li>{@code arena-bump-256k}: a 256 KiB region that stays cache-resident (L2), the floor for "allocate and
 *     write hot memory". Its objects overlap once the region wraps (after 256 KiB of allocations), which a floor
 *     may do: nothing reads them back.</li>
 * </ul>
 *
 * <p>Threads: one allocating thread at a time (the remote-free workload allocates on its producer thread only);
 * {@link #free} does nothing and may run anywhere.
 */
final class ArenaBump implements Allocator {
    static final long BIG = 64L << 20;
    static final long CACHE_RESIDENT = 256L << 10;
    private static final long ALIGN = 16;

    private final String name;
    private final long capacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;
    private SegmentAllocator bump;
    private long used;

    ArenaBump(final String name, final long capacity) {
        this.name = name;
        this.capacity = capacity;
        this.segment = arena.allocate(capacity, 4096);
        segment.fill((byte) 0); // first touch here, not in the measurement
        reset();
    }

    private void reset() {
        bump = SegmentAllocator.slicingAllocator(segment);
        used = 0;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        final long need = (byteSize + ALIGN - 1) & -ALIGN;
        if (used + need > capacity) {
            reset();
        }
        used += need;
        return bump.allocate(byteSize, ALIGN).address();
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        // no individual free: that is what makes it the floor
    }

    @Override
    public void close() {
        arena.close();
    }
}
