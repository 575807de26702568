package org.mm4j.slab;

import static org.mm4j.slab.SlabFlags.CMPXCHG_DOUBLE;
import static org.mm4j.slab.SlabFlags.OBJECT_POISON;
import static org.mm4j.slab.SlabFlags.SLAB_DEBUG_FLAGS;
import static org.mm4j.slab.SlabFlags.SLAB_HWCACHE_ALIGN;
import static org.mm4j.slab.SlabFlags.SLAB_KMALLOC;
import static org.mm4j.slab.SlabFlags.SLAB_NO_CMPXCHG;
import static org.mm4j.slab.SlabFlags.SLAB_POISON;
import static org.mm4j.slab.SlabFlags.SLAB_RED_ZONE;
import static org.mm4j.slab.SlabFlags.SLAB_STORE_USER;
import static org.mm4j.slab.SlabFlags.SLAB_TYPESAFE_BY_RCU;

/**
 * The layout of a cache's objects and slabs: a pure function of (size, align, flags, ctor, nr_cpus,
 * slub_max_order, slub_min_order, slub_min_objects) following {@code calculate_alignment} (mm/slab_common.c),
 * {@code calculate_sizes}, {@code calculate_order}, {@code set_min_partial} and {@code set_cpu_partial}
 * (mm/slub.c) of Linux 6.18 on x86-64 (8-byte words, 64-byte cache lines, 4 KiB pages, CONFIG_SLUB_DEBUG,
 * CONFIG_SLUB_CPU_PARTIAL, no KASAN).
 *
 * <p>Object layout inside a slot of {@link #size} bytes (offsets from the slot start):
 * <pre>
 *  [red_left_pad]  left red zone (RED_ZONE only)
 *  object          object_size bytes; the object pointer handed out points here
 *  ..inuse         word alignment, then 8 bytes of right red zone if it would be empty (RED_ZONE)
 *  free pointer    8 bytes at {@link #offset} when it lives outside the object (RCU, ctor, POISON, ...);
 *                  otherwise at ALIGN_DOWN(object_size / 2, 8) inside the object
 *  tracks          2 x struct track (STORE_USER), + 4 bytes orig_size for kmalloc caches
 *  pad             8 bytes (RED_ZONE), then alignment to {@link #align}
 * </pre>
 * Instances are immutable.
 */
public final class Geometry {
    public static final int PAGE_SIZE = 4096;
    public static final int CACHE_LINE = 64;
    public static final int ARCH_SLAB_MINALIGN = 8;
    public static final int ARCH_KMALLOC_MINALIGN = 8;
    public static final int MAX_OBJS_PER_PAGE = 32767;
    public static final int MAX_PAGE_ORDER = 10;
    public static final int MIN_PARTIAL = 5;
    public static final int MAX_PARTIAL = 10;
    /** {@code sizeof(struct track)} with CONFIG_STACKDEPOT on x86-64: addr 8, handle 4, cpu 4, pid 4, when 8. */
    public static final int TRACK_SIZE = 32;

    private final int objectSize;
    private final int size;
    private final int align;
    private final int offset;
    private final int inuse;
    private final int redLeftPad;
    private final int order;
    private final int objects;
    private final int minOrder;
    private final int minOrderObjects;
    private final int minPartial;
    private final int cpuPartial;
    private final int cpuPartialSlabs;
    private final long flags;

    private Geometry(final int objectSize, final int size, final int align, final int offset, final int inuse,
                     final int redLeftPad, final int order, final long flags) {
        this.objectSize = objectSize;
        this.size = size;
        this.align = align;
        this.offset = offset;
        this.inuse = inuse;
        this.redLeftPad = redLeftPad;
        this.order = order;
        this.objects = orderObjects(order, size);
        this.minOrder = getOrder(size);
        this.minOrderObjects = orderObjects(minOrder, size);
        this.flags = flags;
        // set_min_partial: clamp(ilog2(size) / 2, MIN_PARTIAL, MAX_PARTIAL)
        this.minPartial = Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, ilog2(size) / 2));
        // set_cpu_partial: objects kept on a CPU's partial list; none for debug caches
        final int nr;
        if ((flags & SLAB_DEBUG_FLAGS) != 0) {
            nr = 0;
        } else if (size >= PAGE_SIZE) {
            nr = 6;
        } else if (size >= 1024) {
            nr = 24;
        } else if (size >= 256) {
            nr = 52;
        } else {
            nr = 120;
        }
        this.cpuPartial = nr;
        // slub_set_cpu_partial: the limit is kept in slabs, assuming half-full slabs
        this.cpuPartialSlabs = (nr * 2 + objects - 1) / objects;
    }

    /**
     * Computes the geometry a cache created with these parameters gets.
     *
     * @param objectSize       the object size asked for (1 .. 4 MiB)
     * @param alignArg         the alignment asked for (0 = none); {@code calculate_alignment} and, for
     *                         {@link SlabFlags#SLAB_KMALLOC} caches, the kmalloc power-of-two rule apply
     * @param flags            the cache flags after {@code slub_debug} was applied
     * @param hasCtor          whether a constructor is given (moves the free pointer out of the object)
     * @param nrCpus           {@code num_present_cpus()} ({@code nr_cpus=})
     * @param maxOrder         {@code slub_max_order} (3 by default)
     * @param minOrder         {@code slub_min_order}
     * @param minObjects       {@code slub_min_objects} (0 = derived from nrCpus)
     * @param useFreeptrOffset {@code kmem_cache_args.use_freeptr_offset} (RCU caches only)
     * @param freeptrOffset    {@code kmem_cache_args.freeptr_offset}
     * @throws IllegalArgumentException when the kernel would fail the creation (-EINVAL), naming the reason
     */
    public static Geometry compute(final int objectSize, final int alignArg, final long flags, final boolean hasCtor,
                                   final int nrCpus, final int maxOrder, final int minOrder, final int minObjects,
                                   final boolean useFreeptrOffset, final int freeptrOffset) {
        if (objectSize <= 0 || objectSize > (PAGE_SIZE << MAX_PAGE_ORDER)) {
            throw new IllegalArgumentException("object size " + objectSize + " (expected: 1 to "
                + (PAGE_SIZE << MAX_PAGE_ORDER) + ")");
        }
        if (alignArg < 0 || (alignArg != 0 && Integer.bitCount(alignArg) != 1)) {
            throw new IllegalArgumentException("align " + alignArg + " (expected: 0 or a power of two)");
        }
        if (useFreeptrOffset && ((flags & SLAB_TYPESAFE_BY_RCU) == 0 || freeptrOffset < 0
            || freeptrOffset >= objectSize || (freeptrOffset & 7) != 0)) {
            throw new IllegalArgumentException("freeptr_offset " + freeptrOffset + " (expected: a multiple of 8"
                + " below the object size " + objectSize + ", in a SLAB_TYPESAFE_BY_RCU cache)");
        }
        int align = alignArg;
        if ((flags & SLAB_KMALLOC) != 0) {
            align = Math.max(Math.max(align, ARCH_KMALLOC_MINALIGN), Integer.lowestOneBit(objectSize));
        }
        align = calculateAlignment(flags, align, objectSize);
        long f = flags;

        // calculate_sizes()
        int size = alignUp(objectSize, 8);
        if ((flags & SLAB_POISON) != 0 && (flags & SLAB_TYPESAFE_BY_RCU) == 0 && !hasCtor) {
            f |= OBJECT_POISON;
        } else {
            f &= ~OBJECT_POISON;
        }
        if ((flags & SLAB_RED_ZONE) != 0 && size == objectSize) {
            size += 8;
        }
        final int inuse = size;
        final boolean origSize = (flags & SLAB_STORE_USER) != 0 && (flags & SLAB_KMALLOC) != 0;
        final int offset;
        if (((flags & SLAB_TYPESAFE_BY_RCU) != 0 && !useFreeptrOffset) || (flags & SLAB_POISON) != 0 || hasCtor
            || ((flags & SLAB_RED_ZONE) != 0 && (objectSize < 8 || origSize))) {
            offset = size;
            size += 8;
        } else if ((flags & SLAB_TYPESAFE_BY_RCU) != 0) {
            offset = freeptrOffset;
        } else {
            offset = alignDown(objectSize / 2, 8);
        }
        if ((flags & SLAB_STORE_USER) != 0) {
            size += 2 * TRACK_SIZE;
            if ((flags & SLAB_KMALLOC) != 0) {
                size += 4;
            }
        }
        int redLeftPad = 0;
        if ((flags & SLAB_RED_ZONE) != 0) {
            size += 8;
            redLeftPad = alignUp(8, align);
            size += redLeftPad;
        }
        size = alignUp(size, align);
        final int order = calculateOrder(size, nrCpus, maxOrder, minOrder, minObjects);
        if (order < 0 || orderObjects(order, size) == 0) {
            throw new IllegalArgumentException("object size " + objectSize + " gives slab size " + size
                + " that fits no slab up to order " + MAX_PAGE_ORDER);
        }
        if ((f & SLAB_NO_CMPXCHG) == 0) {
            f |= CMPXCHG_DOUBLE;
        }
        return new Geometry(objectSize, size, align, offset, inuse, redLeftPad, order, f);
    }

    /** Geometry of a cache with neither debug flags nor ctor, for the given boot parameters. */
    public static Geometry compute(final int objectSize, final int align, final long flags, final int nrCpus) {
        return compute(objectSize, align, flags, false, nrCpus, 3, 0, 0, false, 0);
    }

    /** {@code calculate_alignment()} of mm/slab_common.c. */
    public static int calculateAlignment(final long flags, final int align, final int size) {
        int a = align;
        if ((flags & SLAB_HWCACHE_ALIGN) != 0) {
            int ralign = CACHE_LINE;
            while (size <= ralign / 2) {
                ralign /= 2;
            }
            a = Math.max(a, ralign);
        }
        a = Math.max(a, ARCH_SLAB_MINALIGN);
        return alignUp(a, 8);
    }

    /** {@code calculate_order()} of mm/slub.c (6.x): -1 when no order up to MAX_PAGE_ORDER fits. */
    public static int calculateOrder(final int size, final int nrCpus, final int maxOrder, final int minOrderArg,
                                     final int minObjectsArg) {
        int minObjects = minObjectsArg;
        if (minObjects == 0) {
            minObjects = 4 * (fls(nrCpus) + 1);
        }
        final int maxObjects = Math.max(orderObjects(maxOrder, size), 1);
        minObjects = Math.min(minObjects, maxObjects);
        final int minOrder = Math.max(minOrderArg, getOrder((long) minObjects * size));
        if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) {
            return getOrder((long) size * MAX_OBJS_PER_PAGE) - 1;
        }
        for (int fraction = 16; fraction > 1; fraction /= 2) {
            final int order = calcSlabOrder(size, minOrder, maxOrder, fraction);
            if (order <= maxOrder) {
                return order;
            }
        }
        final int order = getOrder(size);
        return order <= MAX_PAGE_ORDER ? order : -1;
    }

    private static int calcSlabOrder(final int size, final int minOrder, final int maxOrder, final int fract) {
        int order;
        for (order = minOrder; order <= maxOrder; order++) {
            final long slabSize = (long) PAGE_SIZE << order;
            final long rem = slabSize % size;
            if (rem <= slabSize / fract) {
                break;
            }
        }
        return order;
    }

    /** {@code order_objects()}: objects of {@code size} in a slab of {@code order}. */
    public static int orderObjects(final int order, final int size) {
        return (int) (((long) PAGE_SIZE << order) / size);
    }

    /** {@code get_order()}: the smallest order whose block holds {@code bytes} (bytes > 0). */
    public static int getOrder(final long bytes) {
        final long pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
        return pages <= 1 ? 0 : 64 - Long.numberOfLeadingZeros(pages - 1);
    }

    /** {@code fls()}: 1-based index of the most significant set bit, 0 for 0. */
    public static int fls(final int x) {
        return 32 - Integer.numberOfLeadingZeros(x);
    }

    private static int ilog2(final int x) {
        return 31 - Integer.numberOfLeadingZeros(x);
    }

    static int alignUp(final int x, final int a) {
        return (x + a - 1) & -a;
    }

    static int alignDown(final int x, final int a) {
        return x & -a;
    }

    public int objectSize() {
        return objectSize;
    }

    /** {@code s->size}: the stride of objects in a slab (slab_size in sysfs). */
    public int size() {
        return size;
    }

    public int align() {
        return align;
    }

    /** {@code s->offset}: where the free pointer lives, from the object start. */
    public int offset() {
        return offset;
    }

    /** {@code s->inuse}: where metadata starts. */
    public int inuse() {
        return inuse;
    }

    public int redLeftPad() {
        return redLeftPad;
    }

    /** {@code oo_order(s->oo)}. */
    public int order() {
        return order;
    }

    /** {@code oo_objects(s->oo)}: objs_per_slab. */
    public int objects() {
        return objects;
    }

    /** {@code oo_order(s->min)}: the fallback order when the preferred one cannot be had. */
    public int minOrder() {
        return minOrder;
    }

    public int minOrderObjects() {
        return minOrderObjects;
    }

    public int minPartial() {
        return minPartial;
    }

    /** {@code s->cpu_partial} (objects). */
    public int cpuPartial() {
        return cpuPartial;
    }

    /** {@code s->cpu_partial_slabs}. */
    public int cpuPartialSlabs() {
        return cpuPartialSlabs;
    }

    /** The flags with the internal bits calculate_sizes and kmem_cache_open set. */
    public long flags() {
        return flags;
    }

    /** Whether the free pointer lies outside the object ({@code freeptr_outside_object}). */
    public boolean freeptrOutsideObject() {
        return offset >= inuse;
    }

    @Override
    public String toString() {
        return "object_size=" + objectSize + " slab_size=" + size + " align=" + align + " offset=" + offset
            + " inuse=" + inuse + " red_left_pad=" + redLeftPad + " order=" + order + " objs_per_slab=" + objects
            + " min_partial=" + minPartial + " cpu_partial=" + cpuPartial;
    }
}
