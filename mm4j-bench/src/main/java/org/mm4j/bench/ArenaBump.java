package org.mm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The lower bound: an FFM {@link SegmentAllocator#slicingAllocator} bumping through one pre-touched 64 MiB
 * segment, with no individual free; when the segment is used up the bump pointer starts again from its base
 * (a real program would need a new arena). Allocations are 16-byte aligned, as malloc's are.
 *
 * <p>Threads: one allocating thread at a time (the remote-free workload allocates on its producer thread only);
 * {@link #free} does nothing and may run anywhere.
 */
final class ArenaBump implements Allocator {
    private static final long CAPACITY = 64L << 20;
    private static final long ALIGN = 16;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment = arena.allocate(CAPACITY, 4096);
    private SegmentAllocator bump;
    private long used;

    ArenaBump() {
        segment.fill((byte) 0); // first touch here, not in the measurement
        reset();
    }

    private void reset() {
        bump = SegmentAllocator.slicingAllocator(segment);
        used = 0;
    }

    @Override
    public String name() {
        return "arena-bump";
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        final long need = (byteSize + ALIGN - 1) & -ALIGN;
        if (used + need > CAPACITY) {
            reset();
        }
        used += need;
        return bump.allocate(byteSize, ALIGN).address();
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        // no individual free: that is what makes it the lower bound
    }

    @Override
    public void close() {
        arena.close();
    }
}
