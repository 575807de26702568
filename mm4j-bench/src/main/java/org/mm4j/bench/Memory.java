package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Native memory by address for the workloads' writes: one segment spanning the whole address space, so a write
 * to an allocator's native address is a plain (bounds-checked against {@code Long.MAX_VALUE}) store, the same
 * for every address allocator.
 */
final class Memory {
    /** Every native address, readable and writable (restricted: the bench runs with native access enabled). */
    @SuppressWarnings("restricted")
    static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** 8 bytes, any alignment (an object's last 8 bytes need not be 8-aligned). */
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private Memory() {
    }
}
