package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import org.mm4j.Kernel;
import org.mm4j.slab.SlabAllocator;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the rows over {@link SlabAllocator}'s {@code MemorySegment} face ({@link Mm4jSegments},
 * {@link Mm4jSegmentsRoundup}) do alike: a segment is freed by {@link SlabAllocator#free(MemorySegment)}, kept in
 * the caller's slot ({@link SegmentFace}) and written and read through it. They differ only in the size they ask
 * {@link SlabAllocator#allocate(long)} for, so each row writes its own {@link #allocate}, {@link #alloc} and
 * {@link #allocWriteFree} (the last two with the allocation inline, as a program writes it).
 *
 * <p>Threads: as {@link Mm4jSlab}.
 */
abstract class Mm4jSegmentRow extends Mm4jSlab implements SegmentRow {
    Mm4jSegmentRow(final String name, final Kernel kernel) {
        super(name, kernel, true);
    }

    @Override
    public final long alloc(final long byteSize, final Object[] refs, final int slot) {
        return SegmentFace.hold(allocate(byteSize), refs, slot);
    }

    /** alloc-free-64 as a program writes it: the segment in a local, written through, consumed, freed. */
    @Override
    @CompilerControl(CompilerControl.Mode.INLINE)
    public final void allocWriteFree(final long byteSize, final long value, final Object[] refs,
                                     final Blackhole bh) {
        final MemorySegment m = allocate(byteSize);
        SegmentFace.write8(m, byteSize, value);
        bh.consume(m);
        mine().free(m);  // mine() twice, as the mm4j row's alloc and free
    }

    /** {@link SlabAllocator#free(MemorySegment)} of this thread's allocator. */
    @Override
    public final void free(final MemorySegment segment) {
        mine().free(segment);
    }

    @Override
    public final void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        mine().free(SegmentFace.held(refs, slot));
        refs[slot] = null;
    }

    @Override
    public final long nativeAddress(final long address) {
        return address;
    }

    @Override
    public final void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                             final long value) {
        SegmentFace.write8(byteSize, refs, slot, value);
    }

    @Override
    public final long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                            final long offset) {
        return SegmentFace.read8(refs, slot, offset);
    }
}
