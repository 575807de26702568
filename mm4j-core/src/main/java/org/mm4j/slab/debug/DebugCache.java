package org.mm4j.slab.debug;

/**
 * What the SLUB debug checks read of a {@code struct kmem_cache}: its name, flags and the object layout that
 * {@code calculate_sizes} computed, and how a free pointer is stored. The allocator implements it for its caches;
 * tests implement it over hand-made slabs.
 *
 * <p>Object layout (offsets from the object address {@code p}; the slot starts {@code redLeftPad} earlier):
 * <pre>
 *   p - red_left_pad   left red zone (SLAB_RED_ZONE)            0xbb free / 0xcc allocated
 *   p                  object_size bytes                        0x6b... 0xa5 when free and poisoned
 *   p + object_size    right red zone / word padding to inuse   0xbb / 0xcc (Z), else 0x5a with P
 *   p + inuse          free pointer (if offset >= inuse), alloc track, free track (U), orig_size (U, kmalloc)
 *   ...                padding up to size - red_left_pad        0x5a (POISON_INUSE)
 * </pre>
 */
public interface DebugCache {
    String name();

    /** {@code SLAB_CONSISTENCY_CHECKS} (F): the sanity checks of alloc/free_debug_processing. */
    boolean consistencyChecks();

    /** {@code SLAB_RED_ZONE} (Z): red zones around the object. */
    boolean redZone();

    /** {@code SLAB_POISON} (P): poisoning of free objects and fresh slabs. */
    boolean poison();

    /** {@code SLAB_STORE_USER} (U): alloc/free tracks after the object. */
    boolean storeUser();

    /** {@code SLAB_TRACE} (T): a line per alloc and free. */
    boolean trace();

    /** {@code SLAB_KMALLOC}: a kmalloc cache (with U it tracks orig_size). */
    boolean isKmalloc();

    /** {@code __OBJECT_POISON}: POISON without RCU and without a constructor. */
    boolean objectPoison();

    int objectSize();

    /** {@code s->size}: the slot stride. */
    int size();

    /** {@code s->inuse}. */
    int inuse();

    /** {@code s->offset}: the free pointer's offset from the object. */
    int offset();

    int redLeftPad();

    /** {@code get_freepointer(s, object)}: the next free object's address, 0 for NULL. */
    long getFreePointer(long object);

    /** {@code set_freepointer(s, object, fp)}. */
    void setFreePointer(long object, long fp);

    /**
     * sizeof(orig_size) in the metadata of kmalloc caches with SLAB_STORE_USER: {@code unsigned int} in 6.18 (the
     * word-aligned {@code unsigned long} came later); it must match the layout {@code calculate_sizes} made.
     */
    default int origSizeBytes() {
        return 4;
    }
}
