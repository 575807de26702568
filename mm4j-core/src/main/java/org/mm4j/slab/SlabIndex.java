package org.mm4j.slab;

import org.mm4j.page.MemMap;

/**
 * mm4j's slab index (no kernel counterpart; a named departure): one long per pfn, beside {@code mem_map}
 * ({@link MemMap#slabIndex(long)}), that tells the JVM allocator's free fast path everything it needs about the
 * slab holding an address in one load from a compact table: the cache id, the slab's object count and the page's
 * offset from the slab's head page. The kernel finds the slab of an address through the page's {@code struct
 * page} ({@code virt_to_slab}: a tail page's {@code compound_head}, then the head's {@code slab_cache} and
 * counters), which costs a free two {@code mem_map} lines (64 bytes per page) and a branch on {@code PG_tail}
 * that mixed sizes mispredict; 8 bytes per page keep the entries of a whole working set in a few lines.
 * Everything the kernel shows ({@code /proc}, {@code /sys}, {@code kfree}'s {@code virt_to_slab}, SLUB debug
 * reports) still reads {@code mem_map}; only {@code SlabAllocator}'s fast path reads this index, and anything it
 * does not accept goes to the slow path, which reads {@code mem_map}.
 *
 * <p>Entry of a page of a slab: {@code id << 32 | objects << 16 | (pfn - head)}; 0 for every other page (no slab
 * has 0 objects, so an entry with 0 objects is "not a slab page"). Orders up to 15 and up to 65,535 objects per
 * slab fit (the kernel's {@code MAX_OBJS_PER_PAGE} is 32,767 and {@code MAX_PAGE_ORDER} 10).
 *
 * <p>Invariants and threads: the entries of a slab's pages are written by the thread that makes the slab
 * ({@link SlabPages#newSlab}, before the slab is published) and cleared by the thread that frees it
 * ({@link SlabPages#freeSlab}, before its pages go back to the buddy allocator), or when its cache is destroyed
 * with the slab still in use ({@link SlubShrink#markDestroyed}: frees of its objects then take the slow path,
 * which names the destroyed cache), all plain stores: a reader holding an object of the slab was handed it after
 * the slab was published, and a slab is not freed while it holds a live object. A stale entry read for an
 * invalid pointer is no worse than a stale {@code mem_map} entry: the fast path still checks the object start,
 * the index, the cache and the free key, and refuses the rest.
 */
final class SlabIndex {
    private static final int OBJECTS_SHIFT = 16;
    private static final long MASK = 0xffffL;

    private SlabIndex() {
    }

    /** The entry of page {@code offset} of a slab of cache {@code id} holding {@code objects} objects. */
    static long entry(final int id, final int objects, final long offset) {
        return (long) id << 32 | (long) objects << OBJECTS_SHIFT | offset;
    }

    /** The cache id of an entry (0 for no slab; check {@link #objects} too). */
    static int id(final long entry) {
        return (int) (entry >>> 32);
    }

    /** The slab's object count of an entry; 0 = not a slab page. */
    static long objects(final long entry) {
        return (entry >>> OBJECTS_SHIFT) & MASK;
    }

    /** The pfn of the slab's head page, for a page {@code pfn} with this entry. */
    static long head(final long pfn, final long entry) {
        return pfn - (entry & MASK);
    }

    /** Indexes the {@code 2^order} pages of a new slab of {@code s} at {@code pfn} holding {@code objects}. */
    static void set(final KmemCache s, final long pfn, final int order, final int objects) {
        if (order > 15 || objects > MASK) {
            return;  // not indexable: its frees take the slow path
        }
        for (long i = 0, n = 1L << order; i < n; i++) {
            s.mm.slabIndex(pfn + i, entry(s.id, objects, i));
        }
    }

    /** Forgets the slab at {@code pfn} of order {@code order}: its pages' frees take the slow path. */
    static void clear(final MemMap mm, final long pfn, final int order) {
        for (long i = 0, n = 1L << order; i < n; i++) {
            mm.slabIndex(pfn + i, 0);
        }
    }
}
