package org.mm4j.vma.maple;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code maple_node} cache: where every maple tree of the model gets its 256-byte nodes ({@code mt_alloc_one},
 * {@code mt_free_one}; 6.18 creates it in {@code maple_tree_init} with {@code SLAB_PANIC}, 256-byte objects,
 * 256-byte aligned). The vma layer does not reach the slab allocator, so this counts the objects instead and hands
 * out model addresses (a bump from {@link #BASE} in 256-byte steps) that {@code mt_dump} prints.
 *
 * <p>Threads: one cache serves the trees of every process, each written under its own mm's lock, so the counters
 * are atomic.
 */
public final class MapleNodeCache {
    /** Where node addresses start (a direct-map-like address: the dump shows kernel pointers). */
    static final long BASE = 0xffff888100000000L;

    private final AtomicLong allocs = new AtomicLong();
    private final AtomicLong frees = new AtomicLong();
    private final AtomicLong next = new AtomicLong();

    MapleNode alloc(final boolean leaf) {
        allocs.incrementAndGet();
        return new MapleNode(leaf, BASE + next.getAndIncrement() * MapleNode.MAPLE_NODE_SIZE);
    }

    void free(final MapleNode n) {
        frees.incrementAndGet();
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
