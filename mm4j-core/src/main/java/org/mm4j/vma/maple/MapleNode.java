package org.mm4j.vma.maple;

/**
 * One 256-byte {@code struct maple_node} of an allocation-range tree ({@code MT_FLAGS_ALLOC_RANGE}), in one of
 * the two types such a tree uses (Linux 6.18 {@code lib/maple_tree.c}, {@code include/linux/maple_tree.h}):
 *
 * <pre>
 * maple_leaf_64   (type 1)  parent | pivot[15] | slot[16]                     = 8 + 120 + 128       = 256 bytes
 * maple_arange_64 (type 3)  parent | pivot[9]  | slot[10] | gap[10] | meta    = 8 + 72 + 80 + 80 + 2 (240 used)
 * </pre>
 *
 * <p>Notation: slot {@code i} covers {@code [pivot[i-1] + 1, pivot[i]]} (slot 0 starts at the node's minimum, the
 * last used slot, {@link #end}, ends at the node's maximum, which the parent's pivot implies). A leaf slot holds
 * an entry or NULL (a NULL range is a gap); an internal slot holds a child. {@code gap[i]} is the largest NULL
 * range below child {@code i}.
 *
 * <p>Invariants (checked by {@link MapleTree#validate()}):
 * <ol>
 *   <li>pivots strictly increase inside a node and across the tree (an in-order walk sees increasing ranges
 *       that tile {@code [0, ULONG_MAX]} without holes);</li>
 *   <li>{@code end < slots}, and every node but the root has {@code end >= mt_min_slots} (6 for leaves, 4 for
 *       arange nodes; the kernel's minimum occupancy, {@code (slots / 2) - 2} and {@code (slots / 2) - 1});</li>
 *   <li>no two NULL ranges are adjacent, and only the rightmost leaf may end with NULL (the kernel turns a NULL
 *       store that would end a leaf into a spanning store);</li>
 *   <li>{@code gap[i]} equals the largest NULL range in child {@code i}'s subtree;</li>
 *   <li>{@code child.parent == node} and {@code child.parentSlot == i} (the kernel encodes the slot in the low
 *       bits of the parent pointer); all leaves have the same depth.</li>
 * </ol>
 *
 * <p>Departure: the node keeps its {@link #min}/{@link #max} (the kernel recomputes them while walking, in
 * {@code mas->min}/{@code mas->max}), which the writer uses when it rebuilds a level. Threads: as the tree.
 */
final class MapleNode {
    /** {@code sizeof(struct maple_node)}: nodes come from the {@code maple_node} cache, 256-byte aligned. */
    static final int MAPLE_NODE_SIZE = 256;
    /** {@code MAPLE_RANGE64_SLOTS}: slots of a leaf (and of a range-64 internal node). */
    static final int MAPLE_RANGE64_SLOTS = 16;
    /** {@code MAPLE_ARANGE64_SLOTS}: slots of an allocation-range internal node (it spends the rest on gaps). */
    static final int MAPLE_ARANGE64_SLOTS = 10;
    /** {@code mt_min_slots[maple_leaf_64]}. */
    static final int LEAF_MIN_SLOTS = MAPLE_RANGE64_SLOTS / 2 - 2;
    /** {@code mt_min_slots[maple_arange_64]}. */
    static final int ARANGE_MIN_SLOTS = MAPLE_ARANGE64_SLOTS / 2 - 1;
    /** {@code enum maple_type}: {@code maple_leaf_64}. */
    static final int TYPE_LEAF_64 = 1;
    /** {@code enum maple_type}: {@code maple_arange_64}. */
    static final int TYPE_ARANGE_64 = 3;

    final boolean leaf;
    final long[] pivot;
    /** Entries (leaf) or child nodes (arange). */
    final Object[] slot;
    /** Largest NULL range under each child (arange only; null for leaves). */
    final long[] gap;
    /** The offset of the last used slot ({@code ma_data_end}; the arange metadata's {@code end}). */
    int end;
    MapleNode parent;
    int parentSlot;
    long min;
    long max;
    /** The node's model address (as {@code mt_dump} prints node pointers). */
    final long addr;

    MapleNode(final boolean leaf, final long addr) {
        this.leaf = leaf;
        this.addr = addr;
        final int slots = leaf ? MAPLE_RANGE64_SLOTS : MAPLE_ARANGE64_SLOTS;
        this.pivot = new long[slots - 1];
        this.slot = new Object[slots];
        this.gap = leaf ? null : new long[slots];
    }

    int slots() {
        return slot.length;
    }

    int minSlots() {
        return leaf ? LEAF_MIN_SLOTS : ARANGE_MIN_SLOTS;
    }

    int type() {
        return leaf ? TYPE_LEAF_64 : TYPE_ARANGE_64;
    }

    /** The last index slot {@code i} covers. */
    long pivotOf(final int i) {
        return i < end ? pivot[i] : max;
    }

    /** The first index slot {@code i} covers. */
    long minOf(final int i) {
        return i == 0 ? min : pivot[i - 1] + 1;
    }

    /** {@code ma_meta_gap}: the offset of the largest gap (arange nodes). */
    int maxGapOffset() {
        int best = 0;
        for (int i = 1; i <= end; i++) {
            if (Long.compareUnsigned(gap[i], gap[best]) > 0) {
                best = i;
            }
        }
        return best;
    }

    /** {@code mas_max_gap}: the largest NULL range below this node. */
    long maxGap() {
        if (!leaf) {
            return gap[maxGapOffset()];
        }
        long best = 0;
        for (int i = 0; i <= end; i++) {
            if (slot[i] == null) {
                final long g = pivotOf(i) - minOf(i) + 1;
                if (Long.compareUnsigned(g, best) > 0) {
                    best = g;
                }
            }
        }
        return best;
    }
}
