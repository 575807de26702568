package org.mm4j.slab;

import org.mm4j.slab.debug.DebugCache;

/**
 * The {@link DebugCache} view of a {@link KmemCache}: what the SLUB debug checks of {@code org.mm4j.slab.debug}
 * read of a {@code struct kmem_cache} (its layout from {@code calculate_sizes}, its debug flags, its free
 * pointers). A record, so two views of one cache are equal ({@code slab->slab_cache == s} in the checks); made
 * only on the debug paths, never on a fast path.
 *
 * @param s the cache
 */
record KmemCacheDebugView(KmemCache s) implements DebugCache {
    @Override
    public String name() {
        return s.name();
    }

    @Override
    public boolean consistencyChecks() {
        return (s.flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0;
    }

    @Override
    public boolean redZone() {
        return (s.flags & SlabFlags.SLAB_RED_ZONE) != 0;
    }

    @Override
    public boolean poison() {
        return (s.flags & SlabFlags.SLAB_POISON) != 0;
    }

    @Override
    public boolean storeUser() {
        return (s.flags & SlabFlags.SLAB_STORE_USER) != 0;
    }

    @Override
    public boolean trace() {
        return (s.flags & SlabFlags.SLAB_TRACE) != 0;
    }

    @Override
    public boolean isKmalloc() {
        return (s.flags & SlabFlags.SLAB_KMALLOC) != 0;
    }

    @Override
    public boolean objectPoison() {
        return (s.flags & SlabFlags.OBJECT_POISON) != 0;
    }

    @Override
    public int objectSize() {
        return s.objectSize();
    }

    @Override
    public int size() {
        return s.size();
    }

    @Override
    public int inuse() {
        return s.inuse();
    }

    @Override
    public int offset() {
        return s.offset();
    }

    @Override
    public int redLeftPad() {
        return s.redLeftPad();
    }

    @Override
    public long getFreePointer(final long object) {
        return s.getFreePointer(object);
    }

    @Override
    public void setFreePointer(final long object, final long fp) {
        s.setFreePointer(object, fp);
    }

    @Override
    public String toString() {
        return s.name();
    }
}
