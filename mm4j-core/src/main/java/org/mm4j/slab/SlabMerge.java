package org.mm4j.slab;

import java.util.List;

/**
 * Cache merging of {@code mm/slab_common.c} (Linux 6.18): {@code slab_unmergeable}, {@code find_mergeable}, which
 * makes a new cache an alias of the oldest compatible one (same merge-relevant flags, the object fits with less
 * than 8 bytes to spare, compatible alignment; never with {@code slab_nomerge}, a constructor, a usercopy region,
 * sheaves or debug flags), and {@code create_unique_id}, the {@code :[flags-]size} name a mergeable cache shows
 * under {@code /sys/kernel/slab}.
 *
 * <p>Threads: called by {@link Slub} with {@code slab_mutex} (its monitor) held; the cache list it reads is
 * guarded by that lock.
 */
final class SlabMerge {
    private SlabMerge() {
    }

    /** {@code slab_unmergeable()}. */
    static boolean unmergeable(final boolean nomerge, final KmemCache s) {
        return nomerge || (s.flags & SlabFlags.SLAB_NEVER_MERGE) != 0 || s.ctor != null || s.usersize != 0
            || s.sheafCapacity > 0 || s.refcount < 0;
    }

    /** {@code find_mergeable()}: the oldest compatible cache, or null (the caller holds slab_mutex). */
    static KmemCache findMergeable(final List<KmemCache> slabCaches, final boolean nomerge, final int sizeArg,
                                   final int alignArg, final long flags, final Ctor ctor) {
        if (nomerge || ctor != null || (flags & SlabFlags.SLAB_NEVER_MERGE) != 0) {
            return null;
        }
        if (alignArg < 0 || (alignArg != 0 && Integer.bitCount(alignArg) != 1)) {
            return null;
        }
        int size = Geometry.alignUp(sizeArg, 8);
        final int align = Geometry.calculateAlignment(flags, alignArg, size);
        size = Geometry.alignUp(size, align);
        for (final KmemCache s : slabCaches) {
            if (unmergeable(nomerge, s) || size > s.size
                || (flags & SlabFlags.SLAB_MERGE_SAME) != (s.flags & SlabFlags.SLAB_MERGE_SAME)
                || (s.size & ~(align - 1)) != s.size || s.size - size >= 8) {
                continue;
            }
            return s;
        }
        return null;
    }

    /** {@code create_unique_id()}: ":[flags-]size" (d = DMA, D = DMA32, a = reclaim, F = checks, A = account). */
    static String uniqueId(final KmemCache s) {
        final StringBuilder sb = new StringBuilder(":");
        if ((s.flags & SlabFlags.SLAB_CACHE_DMA) != 0) {
            sb.append('d');
        }
        if ((s.flags & SlabFlags.SLAB_CACHE_DMA32) != 0) {
            sb.append('D');
        }
        if ((s.flags & SlabFlags.SLAB_RECLAIM_ACCOUNT) != 0) {
            sb.append('a');
        }
        if ((s.flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0) {
            sb.append('F');
        }
        if ((s.flags & SlabFlags.SLAB_ACCOUNT) != 0) {
            sb.append('A');
        }
        if (sb.length() > 1) {
            sb.append('-');
        }
        return sb.append(String.format("%07d", s.size)).toString();
    }
}
