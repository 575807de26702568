package org.mm4j.slab;

/**
 * Where SLUB debugging ({@code slub_debug=}, issue 4) plugs into the slow paths. Caches whose flags contain any
 * of {@link SlabFlags#SLAB_DEBUG_FLAGS} never use the lockless per-CPU freelist nor sheaves: every allocation
 * goes through {@code alloc_single_from_partial}/{@code alloc_single_from_new_slab} under the node's list_lock and
 * calls {@link #allocDebugProcessing}, every free goes through {@code free_to_partial_list} and calls
 * {@link #freeDebugProcessing}, as in mm/slub.c. The default methods do nothing (no checks).
 *
 * <p>Threads: hooks run on the allocating/freeing thread, with the cache node's list_lock held for the
 * processing calls (so they are serialized per node with {@code validate}).
 */
public interface SlubDebugHooks {
    SlubDebugHooks NONE = new SlubDebugHooks() { };

    /** {@code setup_slab_debug}: a new slab of {@code s} at pfn {@code slab}, before its objects are set up. */
    default void setupSlab(final KmemCache s, final long slab) {
    }

    /** {@code setup_object_debug}/{@code init_object}: one object of a new slab (object pointer, phys). */
    default void setupObject(final KmemCache s, final long slab, final long objectPhys) {
    }

    /** {@code alloc_debug_processing}: false refuses the object (it is then leaked, as the kernel does). */
    default boolean allocDebugProcessing(final KmemCache s, final long slab, final long objectPhys,
                                         final int origSize) {
        return true;
    }

    /** {@code free_debug_processing} for one object: false refuses the free (nothing is changed). */
    default boolean freeDebugProcessing(final KmemCache s, final long slab, final long objectPhys) {
        return true;
    }

    /** Extra checks of one slab during {@code validate}; returns the number of errors found. */
    default int validateSlab(final KmemCache s, final long slab) {
        return 0;
    }
}
