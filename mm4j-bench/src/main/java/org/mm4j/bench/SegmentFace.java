package org.mm4j.bench;

import java.lang.foreign.MemorySegment;

/**
 * The caller's side of the rows that hand out {@link MemorySegment}s ({@code mm4j-segment}, {@code floor-segment}),
 * one code for all so that they differ only in the allocator behind it: the segment is kept in {@code refs[slot]}
 * (as a program keeps it), written and read through, and taken from there to be freed.
 */
final class SegmentFace {
    private SegmentFace() {
    }

    /** Keeps {@code m} in {@code refs[slot]}; its address is the row's {@code long}. */
    static long hold(final MemorySegment m, final Object[] refs, final int slot) {
        refs[slot] = m;
        return m.address();
    }

    /** The segment kept in {@code refs[slot]}. */
    static MemorySegment held(final Object[] refs, final int slot) {
        return (MemorySegment) refs[slot];
    }

    /** {@link Allocator#write8} through the segment in {@code refs[slot]}. */
    static void write8(final long byteSize, final Object[] refs, final int slot, final long value) {
        final MemorySegment m = held(refs, slot);
        m.set(Memory.LONG, 0, value);
        m.set(Memory.LONG, byteSize - 8, value);
    }

    /** {@link Allocator#read8} through the segment in {@code refs[slot]}. */
    static long read8(final Object[] refs, final int slot, final long offset) {
        return held(refs, slot).get(Memory.LONG, offset);
    }
}
