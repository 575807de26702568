package org.mm4j.vma.maple;

import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.page.Gfp;
import org.mm4j.slab.KmemCache;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code maple_node} cache: where every maple tree of the model gets its 256-byte nodes ({@code mt_alloc_one},
 * {@code mt_free_one}; 6.18 creates it in {@code maple_tree_init} with {@code SLAB_PANIC}, 256-byte objects,
 * 256-byte aligned, {@code sheaf_capacity} 32). A booted kernel's processes use the slab cache itself
 * ({@link #MapleNodeCache(KmemCache)}): every node is a {@code kmem_cache_alloc} from "maple_node" and every freed
 * node a {@code kmem_cache_free}, so /proc/slabinfo and {@code /sys/kernel/slab/maple_node} move with the trees and
 * {@link #active()} equals the objects the trees hold. A tree built without a kernel (tests, a lone
 * {@code MmStruct}) uses {@link #MapleNodeCache()}, which only counts and hands out model addresses (a bump from
 * {@link #BASE} in 256-byte steps) that {@code mt_dump} prints.
 *
 * <p>Preallocation: as the kernel's {@code vma_iter_prealloc}/{@code mas_preallocate}, a system call that changes
 * the tree first takes the worst case of one store ({@link MapleTree#preallocate}: {@code height * 3 + 1} nodes,
 * {@code GFP_KERNEL}) and fails with -ENOMEM before anything changes when they cannot be had; the store uses them
 * and {@code mas_destroy} gives the rest back. Departure: a call that makes several stores (a split and a merge, an
 * munmap over many VMAs, a fork's copy) takes nodes past that first reserve as the store needs them, with
 * {@code __GFP_NOFAIL} (so failslab passes them by, as {@code should_failslab} does for such calls); memory
 * exhausted all the same is a {@link ModelOutOfMemoryException}.
 *
 * <p>Threads: one cache serves the trees of every process, each written under its own mm's lock, so the counters
 * are atomic; the slab cache is thread safe.
 */
public final class MapleNodeCache {
    /** Where node addresses start (a direct-map-like address: the dump shows kernel pointers). */
    static final long BASE = 0xffff888100000000L;

    private final AtomicLong allocs = new AtomicLong();
    private final AtomicLong frees = new AtomicLong();
    private final AtomicLong next = new AtomicLong();
    /** The slab cache the nodes come from, or null (counting only). */
    private final KmemCache slab;

    /** Counting only: nodes get model addresses, no slab memory. */
    public MapleNodeCache() {
        this.slab = null;
    }

    /** Nodes from the slab cache {@code maple_node} (a booted kernel's). */
    public MapleNodeCache(final KmemCache slab) {
        this.slab = slab;
    }

    MapleNode alloc(final boolean leaf) {
        final long addr;
        if (slab != null) {
            addr = slab.alloc(Gfp.KERNEL | Gfp.NOFAIL);
            if (addr == 0) {
                throw new ModelOutOfMemoryException("mt_alloc_one: kmem_cache_alloc(maple_node, GFP_KERNEL|"
                    + "__GFP_NOFAIL) found no memory for a 256-byte node");
            }
        } else {
            addr = BASE + next.getAndIncrement() * MapleNode.MAPLE_NODE_SIZE;
        }
        allocs.incrementAndGet();
        return new MapleNode(leaf, addr);
    }

    /**
     * One node's memory for {@code mas_preallocate}: {@code kmem_cache_alloc(maple_node, GFP_KERNEL)}, which may
     * fail (0: failslab, memory exhausted); a model address without a slab cache. Not counted until used.
     */
    long allocAddr() {
        return slab != null ? slab.alloc(Gfp.KERNEL) : BASE + next.getAndIncrement() * MapleNode.MAPLE_NODE_SIZE;
    }

    /** A preallocated node put to use ({@link #allocAddr}'s address). */
    MapleNode nodeAt(final boolean leaf, final long addr) {
        allocs.incrementAndGet();
        return new MapleNode(leaf, addr);
    }

    /** Gives back a preallocated node never used ({@code mas_destroy}). */
    void freeAddr(final long addr) {
        if (slab != null) {
            slab.free(addr);
        }
    }

    void free(final MapleNode n) {
        frees.incrementAndGet();
        if (slab != null) {
            slab.free(n.addr);
        }
    }

    /** Nodes allocated so far. */
    public long allocs() {
        return allocs.get();
    }

    /** Nodes freed so far. */
    public long frees() {
        return frees.get();
    }

    /** Nodes in use ({@code active_objs} of {@code maple_node} in /proc/slabinfo). */
    public long active() {
        return allocs.get() - frees.get();
    }

    /** {@code sizeof(struct maple_node)}. */
    public static int objectSize() {
        return MapleNode.MAPLE_NODE_SIZE;
    }
}
