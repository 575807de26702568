package org.mm4j.slab;

/**
 * {@code kmalloc_size_roundup()} of Linux 6.18 ({@code mm/slab_common.c}): the number of bytes a
 * {@code kmalloc(size)} really gives, so that a caller can ask for the whole bucket up front instead of calling
 * {@code ksize()} afterwards. The rule, case by case:
 * <pre>
 *  size                                   result
 *  0                                      0          (kmalloc(0) returns ZERO_SIZE_PTR)
 *  1 .. KMALLOC_MAX_CACHE_SIZE (8 KiB)    the object size of the kmalloc cache kmalloc_slab() picks:
 *                                         8, 16, 32, 64, 96 (65..96), 128, 192 (129..192), 256, ... 8192
 *  8 KiB + 1 .. KMALLOC_MAX_SIZE (4 MiB)  PAGE_SIZE &lt;&lt; get_order(size)   (a large kmalloc: a page block)
 *  above KMALLOC_MAX_SIZE                 size       (kmalloc fails; the kernel returns the size unchanged)
 * </pre>
 * Sizes are the kernel's {@code size_t}, so a negative {@code long} counts as above {@code KMALLOC_MAX_SIZE} and
 * comes back unchanged ({@link SlabAllocator#allocate} then refuses it). The kmalloc caches' object sizes are the
 * same for every {@code kmalloc_type} and with {@code slub_debug} (which adds red zones and tracking behind the
 * object, not to its size), so no kernel instance is needed.
 *
 * <p>Why a JVM program wants it (docs/speed-history.md, "Tenth pass (issue 13): mixed sizes"):
 * {@link SlabAllocator#allocate} returns a segment of exactly the size asked, a new 40-byte view unless the object
 * last had that size; a program whose sizes vary and that allocates {@code kmallocSizeRoundup(n)} asks each cache for
 * one size only, so its views are reused.
 *
 * <p>Threads: any (a pure function).
 */
final class KmallocSizeRoundup {
    private KmallocSizeRoundup() {
    }

    /** {@code kmalloc_size_roundup(size)}; see the class comment. */
    static long kmallocSizeRoundup(final long size) {
        if (size > 0 && size <= Slub.KMALLOC_MAX_CACHE_SIZE) {
            return Slub.kmallocSize(Slub.kmallocIndex(size));
        }
        if (size > 0 && size <= Slub.KMALLOC_MAX_SIZE) {
            return (long) Geometry.PAGE_SIZE << Geometry.getOrder(size);
        }
        return size;  // 0, and sizes kmalloc refuses
    }
}
