package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import org.mm4j.slab.SlabAllocator;

/**
 * Row {@code mm4j-segment}: mm4j's JVM-facing allocator used as a {@link java.lang.foreign.SegmentAllocator},
 * the API a Java program is most likely to call: {@link SlabAllocator#allocate(long)} returns a
 * {@link MemorySegment} (kept as a program keeps it: a local, or an array of live ones), writes go through the segment
 * and {@link SlabAllocator#free(MemorySegment)} gives it back. The difference to the {@code mm4j} row (kernel
 * addresses through {@code kmalloc}/{@code kfree}) is the cost of the FFM face: a segment object per allocation
 * and the native-to-kernel address translation on free.
 *
 * <p>Threads: as {@link Mm4jSlab}.
 */
final class Mm4jSegments extends Mm4jSegmentRow {
    private Mm4jSegments(final String name) {
        super(name, boot(true));
    }

    /** Not a table row: {@code mm4j-segment} with the leak detector at {@code level} (see LeakDetector). */
    static Allocator withLeakDetection(final String name, final String level) {
        return new Mm4jSegments(name, org.mm4j.Kernel.boot(CMDLINE + SHEAVES
            + " mm4j.leak_detection=" + level));
    }

    private Mm4jSegments(final String name, final org.mm4j.Kernel kernel) {
        super(name, kernel);
    }

    static Allocator open(final String name) {
        return new Mm4jSegments(name);
    }

    /** {@link SlabAllocator#allocate(long)} of this thread's allocator (for the ring's {@link SegmentRow} form). */
    @Override
    public MemorySegment allocate(final long byteSize) {
        return mine().allocate(byteSize);
    }
}
