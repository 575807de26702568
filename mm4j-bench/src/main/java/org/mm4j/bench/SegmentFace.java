package org.mm4j.bench;

import java.lang.foreign.MemorySegment;

/**
 * The caller's side of the rows that hand out {@link MemorySegment}s ({@code mm4j-segment}, {@code floor-segment}),
 * one code for all so that they differ only in the allocator behind it: through the {@link Allocator} interface
 * (the ring's set-up and tear-down, the tests, {@link CpuAb}'s slot form) the segment is kept in
 * {@code refs[slot]}, written and read through it and taken from there to be freed; in the workloads' natural forms
 * ({@link SegmentRow}: the ring, the batch, {@link Allocator#allocWriteFree}) it is a local the workload stores
 * where a program would, written through with {@link #write8(MemorySegment, long, long)}.
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
        write8(held(refs, slot), byteSize, value);
    }

    /** {@link Allocator#write8} through {@code m}: its first and last 8 bytes. */
    static void write8(final MemorySegment m, final long byteSize, final long value) {
        m.set(Memory.LONG, 0, value);
        m.set(Memory.LONG, byteSize - 8, value);
    }

    /** {@link Allocator#read8} through the segment in {@code refs[slot]}. */
    static long read8(final Object[] refs, final int slot, final long offset) {
        return held(refs, slot).get(Memory.LONG, offset);
    }
}
