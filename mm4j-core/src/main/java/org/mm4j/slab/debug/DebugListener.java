package org.mm4j.slab.debug;

/**
 * Receives each SLUB debug report as an object, on the thread that found the corruption, after its lines went to
 * the kernel log and before the allocator repairs the bytes ({@code restore_bytes}). A listener must not call
 * back into the allocator of the reporting cache (the node's list lock may be held). A listener that throws is
 * removed, with a note in the kernel log.
 */
@FunctionalInterface
public interface DebugListener {
    void onReport(DebugReport report);
}
