package org.mm4j.slab;

/**
 * Receives each leak the {@link LeakDetector} finds: a segment from {@link SlabAllocator#allocate} that was
 * garbage-collected without {@link SlabAllocator#free(java.lang.foreign.MemorySegment)}. Called on the thread that
 * ran {@link LeakDetector#reportLeaks()} (or the tracked allocation that polled the queue), after the report's
 * lines went to the kernel log. A test fails on leaks by collecting them here; an application may log or count
 * them. A listener that throws is noted in the kernel log and the report goes on to the next listener.
 */
@FunctionalInterface
public interface LeakListener {
    void onLeak(LeakDetector.Leak leak);
}
