package org.mm4j.vma.maple;

import java.util.function.Function;

/**
 * An allocation-range maple tree ({@code struct maple_tree} with {@code MT_FLAGS_ALLOC_RANGE}, Linux 6.18
 * {@code lib/maple_tree.c}): a B-tree of ranges over {@code [0, ULONG_MAX]} in which every index belongs to exactly
 * one range, holding an entry or NULL. Leaves are {@code maple_leaf_64} nodes (16 slots, 15 pivots), internal nodes
 * {@code maple_arange_64} (10 slots, 9 pivots, 10 gaps); see {@link MapleNode} for the layout and the invariants,
 * which {@link #validate()} checks.
 *
 * <p>Operations, with the kernel's names: {@link #walk} ({@code mas_walk}), {@link #load} ({@code mtree_load}),
 * {@link #find} ({@code mas_find}), {@link #findRev} ({@code mas_find_rev}), {@link #store}
 * ({@code mas_store_gfp}: exact-fit and slot stores rewrite the leaf in place, other stores build new nodes,
 * split a full node ({@code mas_split}), pull in a sibling when a node falls under its minimum
 * ({@code mas_rebalance}), and a store whose range crosses nodes, or a NULL store that would end a leaf, joins the
 * leftmost and rightmost nodes and drops everything between ({@code mas_wr_spanning_store})),
 * {@link #emptyArea} / {@link #emptyAreaRev} ({@code mas_empty_area} / {@code mas_empty_area_rev}: descend only
 * into children whose {@code gap} fits).
 *
 * <p>How a write rebuilds the tree (mm4j's formulation of the kernel's {@code maple_big_node}): the write
 * descends to the leaf (or the two leaves) it changes, gathers the surviving ranges and the new one into a "big
 * node", coalesces adjacent NULLs, and packs it back into as many nodes as it needs (balanced, never ending a
 * left node on NULL, as {@code mab_no_null_split}); on the way up each parent gathers its children the same way,
 * merges an underfull child with its sibling, and splits when over full. A root with one child is replaced by that
 * child; a new root is added when the top level splits. Node accounting goes through {@link MapleNodeCache}.
 *
 * <p>Threads: the owner's lock guards every write and read (the mm's {@code mmap_lock}; the kernel's tree is
 * {@code MT_FLAGS_LOCK_EXTERN}). mm4j does not model RCU readers: a write frees replaced nodes at once. Reads
 * allocate nothing.
 *
 * @param <T> the entry type (the mm's {@code Vma})
 */
public final class MapleTree<T> {
    /** {@code ULONG_MAX}. */
    public static final long ULONG_MAX = -1L;
    /** {@code MM_MT_FLAGS}: {@code MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN | MT_FLAGS_USE_RCU}. */
    public static final int MM_MT_FLAGS = 0x01 | 0x300 | 0x02;
    /** {@code MT_FLAGS_HEIGHT_OFFSET}: the height is kept in the flags at bit 2 ({@code MT_FLAGS_HEIGHT_MASK}). */
    static final int MT_FLAGS_HEIGHT_OFFSET = 2;
    static final int EINVAL = 22;
    static final int EBUSY = 16;

    private final MapleNodeCache cache;
    private MapleNode root;
    private int height;
    private int nodes;

    public MapleTree(final MapleNodeCache cache) {
        this.cache = cache;
    }

    /** Tree height (0 when empty, 1 for a root leaf), as {@code mt_height}. */
    public int height() {
        return height;
    }

    /** {@code ma_flags}: {@link #MM_MT_FLAGS} with the height. */
    public int flags() {
        return MM_MT_FLAGS | height << MT_FLAGS_HEIGHT_OFFSET;
    }

    /** Nodes this tree holds from the {@code maple_node} cache. */
    public int nodes() {
        return nodes;
    }

    public boolean isEmpty() {
        return root == null;
    }

    /** The root node (tests that corrupt the tree to see {@link #validate()} catch it). */
    MapleNode root() {
        return root;
    }

    // ------------------------------------------------------------------------------------- unsigned compares

    private static boolean lt(final long a, final long b) {
        return a + Long.MIN_VALUE < b + Long.MIN_VALUE;
    }

    private static boolean le(final long a, final long b) {
        return a + Long.MIN_VALUE <= b + Long.MIN_VALUE;
    }

    /** Whether {@code [a, b]} holds {@code size} indices ({@code b - a + 1 >= size} without overflow). */
    private static boolean fits(final long a, final long b, final long size) {
        return le(a, b) && Long.compareUnsigned(b - a, size - 1) >= 0;
    }

    // ------------------------------------------------------------------------------------------------ reads

    /** The slot of {@code n} covering {@code index} (a linear scan of the pivots, as {@code mas_walk} does). */
    static int offsetOf(final MapleNode n, final long index) {
        final long[] p = n.pivot;
        final int end = n.end;
        final long key = index + Long.MIN_VALUE;
        int i = 0;
        while (i < end && p[i] + Long.MIN_VALUE < key) {
            i++;
        }
        return i;
    }

    private MapleNode leafFor(final long index) {
        MapleNode n = root;
        while (!n.leaf) {
            n = (MapleNode) n.slot[offsetOf(n, index)];
        }
        return n;
    }

    /** {@code mtree_load}: the entry at {@code index}, or null. */
    @SuppressWarnings("unchecked")
    public T load(final long index) {
        if (root == null) {
            return null;
        }
        final MapleNode n = leafFor(index);
        return (T) n.slot[offsetOf(n, index)];
    }

    /** {@code mas_walk}: the entry at {@code mas.index} (or null); {@code mas} gets the range it covers. */
    @SuppressWarnings("unchecked")
    public T walk(final MaState mas) {
        if (root == null) {
            mas.index = 0;
            mas.last = ULONG_MAX;
            return null;
        }
        final MapleNode n = leafFor(mas.index);
        final int i = offsetOf(n, mas.index);
        mas.index = n.minOf(i);
        mas.last = n.pivotOf(i);
        return (T) n.slot[i];
    }

    /**
     * {@code mas_find}: the first entry whose range ends at or after {@code mas.index} and starts at or before
     * {@code max}; {@code mas} gets its range. Null (mas unchanged) when there is none.
     */
    @SuppressWarnings("unchecked")
    public T find(final MaState mas, final long max) {
        if (root == null) {
            return null;
        }
        MapleNode n = leafFor(mas.index);
        int i = offsetOf(n, mas.index);
        while (true) {
            for (; i <= n.end; i++) {
                final long lo = n.minOf(i);
                if (lt(max, lo)) {
                    return null;
                }
                final Object e = n.slot[i];
                if (e != null) {
                    mas.index = lo;
                    mas.last = n.pivotOf(i);
                    return (T) e;
                }
            }
            n = nextLeaf(n);
            if (n == null) {
                return null;
            }
            i = 0;
        }
    }

    /**
     * {@code mas_find_rev}: the last entry whose range starts at or before {@code mas.index} and ends at or after
     * {@code min}; {@code mas} gets its range. Null (mas unchanged) when there is none.
     */
    @SuppressWarnings("unchecked")
    public T findRev(final MaState mas, final long min) {
        if (root == null) {
            return null;
        }
        MapleNode n = leafFor(mas.index);
        int i = offsetOf(n, mas.index);
        while (true) {
            for (; i >= 0; i--) {
                final long hi = n.pivotOf(i);
                if (lt(hi, min)) {
                    return null;
                }
                final Object e = n.slot[i];
                if (e != null) {
                    mas.index = n.minOf(i);
                    mas.last = hi;
                    return (T) e;
                }
            }
            n = prevLeaf(n);
            if (n == null) {
                return null;
            }
            i = n.end;
        }
    }

    /** The leaf after {@code n} in index order (through the parent pointers), or null. */
    private static MapleNode nextLeaf(final MapleNode n) {
        MapleNode c = n;
        while (c.parent != null && c.parentSlot == c.parent.end) {
            c = c.parent;
        }
        if (c.parent == null) {
            return null;
        }
        c = (MapleNode) c.parent.slot[c.parentSlot + 1];
        while (!c.leaf) {
            c = (MapleNode) c.slot[0];
        }
        return c;
    }

    private static MapleNode prevLeaf(final MapleNode n) {
        MapleNode c = n;
        while (c.parent != null && c.parentSlot == 0) {
            c = c.parent;
        }
        if (c.parent == null) {
            return null;
        }
        c = (MapleNode) c.parent.slot[c.parentSlot - 1];
        while (!c.leaf) {
            c = (MapleNode) c.slot[c.end];
        }
        return c;
    }

    // ------------------------------------------------------------------------------------------ gap search

    /**
     * {@code mas_empty_area_rev}: the highest range of {@code size} NULL indices inside {@code [min, max]}; on
     * success returns 0 with {@code mas.index}/{@code mas.last} set to it, else {@code -EBUSY} (no such gap) or
     * {@code -EINVAL} (size 0 or min above max).
     */
    public int emptyAreaRev(final MaState mas, final long min, final long max, final long size) {
        return emptyArea(mas, min, max, size, true);
    }

    /** {@code mas_empty_area}: the lowest range of {@code size} NULL indices inside {@code [min, max]}. */
    public int emptyArea(final MaState mas, final long min, final long max, final long size) {
        return emptyArea(mas, min, max, size, false);
    }

    /** Both gap searches: {@code rev} from the top of {@code [min, max]} down, else from the bottom up. */
    private int emptyArea(final MaState mas, final long min, final long max, final long size, final boolean rev) {
        if (size == 0 || lt(max, min)) {
            return -EINVAL;
        }
        if (root == null) {
            if (!fits(min, max, size)) {
                return -EBUSY;
            }
            place(mas, min, max, size, rev);
            return 0;
        }
        return gapIn(root, min, max, size, mas, rev) ? 0 : -EBUSY;
    }

    /**
     * The first gap of {@code size} in {@code n}'s subtree met walking its slots upwards (or downwards, {@code rev})
     * through {@code [min, max]}: slots wholly before the walk's start are passed over, the first slot wholly past
     * its end stops it, and only children whose subtree gap is large enough are descended into.
     */
    private static boolean gapIn(final MapleNode n, final long min, final long max, final long size,
                                 final MaState mas, final boolean rev) {
        final int step = rev ? -1 : 1;
        for (int i = rev ? n.end : 0; i >= 0 && i <= n.end; i += step) {
            final long lo = n.minOf(i);
            final long hi = n.pivotOf(i);
            final boolean below = lt(hi, min);
            final boolean above = lt(max, lo);
            if (rev ? above : below) {
                continue;
            }
            if (rev ? below : above) {
                return false;
            }
            if (n.leaf) {
                if (n.slot[i] == null) {
                    final long a = lt(lo, min) ? min : lo;
                    final long b = lt(max, hi) ? max : hi;
                    if (fits(a, b, size)) {
                        place(mas, a, b, size, rev);
                        return true;
                    }
                }
            } else if (Long.compareUnsigned(n.gap[i], size) >= 0
                && gapIn((MapleNode) n.slot[i], min, max, size, mas, rev)) {
                return true;
            }
        }
        return false;
    }

    /** Sets {@code mas} to the {@code size} indices at the top ({@code rev}) or the bottom of {@code [a, b]}. */
    private static void place(final MaState mas, final long a, final long b, final long size, final boolean rev) {
        mas.index = rev ? b - size + 1 : a;
        mas.last = mas.index + size - 1;
    }

    // ------------------------------------------------------------------------------------------------ writes

    /**
     * The kernel's {@code maple_big_node}: ranges (leaf level: {@code last} and entry) or children (internal
     * level: the child's max and the child) gathered for one level, before they are packed into nodes.
     */
    private static final class Big {
        long min;
        long[] piv = new long[20];
        Object[] slt = new Object[20];
        int n;

        void add(final long last, final Object e) {
            if (e == null && n > 0 && slt[n - 1] == null) {
                piv[n - 1] = last; // adjacent NULLs become one range
                return;
            }
            if (n == piv.length) {
                piv = java.util.Arrays.copyOf(piv, n * 2);
                slt = java.util.Arrays.copyOf(slt, n * 2);
            }
            piv[n] = last;
            slt[n] = e;
            n++;
        }

        void addNode(final MapleNode c) {
            if (n == 0) {
                min = c.min;
            }
            add(c.max, c);
        }

        /** Replaces {@code count} items at {@code at} with {@code repl}'s items. */
        void splice(final int at, final int count, final Big repl) {
            final int tail = n - at - count;
            final int newN = n - count + repl.n;
            final long[] p = new long[Math.max(newN, 1) * 2];
            final Object[] s = new Object[p.length];
            System.arraycopy(piv, 0, p, 0, at);
            System.arraycopy(slt, 0, s, 0, at);
            System.arraycopy(repl.piv, 0, p, at, repl.n);
            System.arraycopy(repl.slt, 0, s, at, repl.n);
            System.arraycopy(piv, at + count, p, at + repl.n, tail);
            System.arraycopy(slt, at + count, s, at + repl.n, tail);
            piv = p;
            slt = s;
            n = newN;
        }
    }

    private MapleNode alloc(final boolean leaf) {
        nodes++;
        return preallocCount > 0 ? cache.nodeAt(leaf, prealloc[--preallocCount]) : cache.alloc(leaf);
    }

    /** Nodes {@link #preallocate} took and no store has used yet (their addresses). */
    private long[] prealloc = new long[4];
    private int preallocCount;

    /**
     * {@code mas_preallocate}: takes the worst case of one store before the tree changes ({@code height * 3 + 1}
     * nodes, {@code mas_prealloc_calc}'s bound for a spanning store); false, with nothing kept, when the cache
     * could not supply them (the caller's -ENOMEM). {@link #destroyPrealloc} gives back what was not used.
     */
    public boolean preallocate() {
        final int want = height * 3 + 1;
        if (prealloc.length < want) {
            prealloc = java.util.Arrays.copyOf(prealloc, want);
        }
        while (preallocCount < want) {
            final long a = cache.allocAddr();
            if (a == 0) {
                destroyPrealloc();
                return false;
            }
            prealloc[preallocCount++] = a;
        }
        return true;
    }

    /** {@code mas_destroy}: frees the preallocated nodes no store used. */
    public void destroyPrealloc() {
        while (preallocCount > 0) {
            cache.freeAddr(prealloc[--preallocCount]);
        }
    }

    private void free(final MapleNode n) {
        nodes--;
        n.parent = null;
        cache.free(n);
    }

    /** Calls {@code action} with the address of every node of the tree (kmemleak's walk of what the mm holds). */
    public void forEachNode(final java.util.function.LongConsumer action) {
        if (root != null) {
            forEachNode(root, action);
        }
        for (int i = 0; i < preallocCount; i++) {
            action.accept(prealloc[i]);
        }
    }

    private static void forEachNode(final MapleNode n, final java.util.function.LongConsumer action) {
        action.accept(n.addr);
        if (!n.leaf) {
            for (int i = 0; i <= n.end; i++) {
                forEachNode((MapleNode) n.slot[i], action);
            }
        }
    }

    private void freeSubtree(final MapleNode n) {
        if (!n.leaf) {
            for (int i = 0; i <= n.end; i++) {
                freeSubtree((MapleNode) n.slot[i]);
            }
        }
        free(n);
    }

    /**
     * {@code mas_store_gfp}: stores {@code entry} (null erases) over {@code [mas.index, mas.last]}. Allocation
     * failure is not modelled (the kernel's {@code vma_iter_prealloc} can fail with -ENOMEM before the write).
     */
    public void store(final MaState mas, final T entry) {
        store(mas.index, mas.last, entry);
    }

    /** {@code mtree_store_range}. */
    public void store(final long first, final long last, final T entry) {
        if (lt(last, first)) {
            throw new IllegalArgumentException(String.format("maple store first=%#x last=%#x (expected: first <= "
                + "last)", first, last));
        }
        final Big top = new Big();
        if (root == null) {
            if (entry == null) {
                return;
            }
            final Big b = new Big();
            if (first != 0) {
                b.add(first - 1, null);
            }
            b.add(last, entry);
            if (last != ULONG_MAX) {
                b.add(ULONG_MAX, null);
            }
            packLeaves(b, null, top);
        } else {
            long rIdx = last;
            if (entry == null && last != ULONG_MAX && leafFor(last).max == last) {
                rIdx = last + 1; // a leaf may not end with NULL: the store spans into the next leaf
            }
            storeIn(root, first, last, rIdx, entry, top);
        }
        setRoot(top);
    }

    private void setRoot(Big top) {
        while (top.n > 1) {
            final Big up = new Big();
            packInternal(top, null, up);
            top = up;
        }
        MapleNode r = (MapleNode) top.slt[0];
        r.parent = null;
        r.parentSlot = 0;
        while (!r.leaf && r.end == 0) {
            final MapleNode c = (MapleNode) r.slot[0];
            free(r);
            r = c;
            r.parent = null;
            r.parentSlot = 0;
        }
        if (r.leaf && r.end == 0 && r.slot[0] == null) {
            free(r);
            r = null;
        }
        root = r;
        int h = 0;
        for (MapleNode n = r; n != null; n = n.leaf ? null : (MapleNode) n.slot[0]) {
            h++;
        }
        height = h;
    }

    /** The ranges of leaf {@code n} that end before {@code first} (the one containing it cut at first - 1). */
    private static void appendBefore(final Big b, final MapleNode n, final long first) {
        for (int i = 0; i <= n.end; i++) {
            final long hi = n.pivotOf(i);
            if (lt(hi, first)) {
                b.add(hi, n.slot[i]);
            } else {
                if (lt(n.minOf(i), first)) {
                    b.add(first - 1, n.slot[i]);
                }
                return;
            }
        }
    }

    /** The ranges of leaf {@code n} that end after {@code last} (the one containing last + 1 starts there). */
    private static void appendAfter(final Big b, final MapleNode n, final long last) {
        for (int i = 0; i <= n.end; i++) {
            final long hi = n.pivotOf(i);
            if (lt(last, hi)) {
                b.add(hi, n.slot[i]);
            }
        }
    }

    /** Writes into the subtree {@code node}; appends the node(s) that replace it (same range) to {@code out}. */
    private void storeIn(final MapleNode node, final long first, final long last, final long rIdx,
                         final Object entry, final Big out) {
        if (node.leaf) {
            final Big b = new Big();
            b.min = node.min;
            appendBefore(b, node, first);
            b.add(last, entry);
            appendAfter(b, node, last);
            packLeaves(b, node, out);
            return;
        }
        final int i = offsetOf(node, first);
        final int j = offsetOf(node, rIdx);
        Big sub = null;
        if (i == j) {
            sub = new Big();
            storeIn((MapleNode) node.slot[i], first, last, rIdx, entry, sub);
            final MapleNode c = (MapleNode) sub.slt[0];
            if (sub.n == 1 && c.end >= c.minSlots()) {
                // one child replaced by one (mas_replace_node): the parent keeps its pivots, gets the new pointer
                // and the child's gap in place (mas_update_gap); the ancestors' gaps follow on the way up
                node.slot[i] = c;
                c.parent = node;
                c.parentSlot = i;
                node.gap[i] = c.maxGap();
                out.addNode(node);
                return;
            }
        }
        final Big kids = new Big();
        for (int k = 0; k < i; k++) {
            kids.addNode((MapleNode) node.slot[k]);
        }
        if (i == j) {
            for (int k = 0; k < sub.n; k++) {
                kids.addNode((MapleNode) sub.slt[k]);
            }
        } else {
            for (int k = i + 1; k < j; k++) {
                freeSubtree((MapleNode) node.slot[k]);
            }
            spanning((MapleNode) node.slot[i], (MapleNode) node.slot[j], first, last, rIdx, entry, kids);
        }
        for (int k = j + 1; k <= node.end; k++) {
            kids.addNode((MapleNode) node.slot[k]);
        }
        rebalance(kids);
        packInternal(kids, node, out);
    }

    /**
     * {@code mas_wr_spanning_store}: {@code first} lies in {@code l}, {@code rIdx} in {@code r}, two nodes of one
     * level; everything between them is already freed. Appends the nodes covering {@code [l.min, r.max]}.
     */
    private void spanning(final MapleNode l, final MapleNode r, final long first, final long last,
                          final long rIdx, final Object entry, final Big out) {
        if (l.leaf) {
            final Big b = new Big();
            b.min = l.min;
            appendBefore(b, l, first);
            b.add(last, entry);
            appendAfter(b, r, last);
            free(l);
            free(r);
            packLeaves(b, null, out);
            return;
        }
        final int li = offsetOf(l, first);
        final int rj = offsetOf(r, rIdx);
        final Big kids = new Big();
        for (int k = 0; k < li; k++) {
            kids.addNode((MapleNode) l.slot[k]);
        }
        for (int k = li + 1; k <= l.end; k++) {
            freeSubtree((MapleNode) l.slot[k]);
        }
        for (int k = 0; k < rj; k++) {
            freeSubtree((MapleNode) r.slot[k]);
        }
        spanning((MapleNode) l.slot[li], (MapleNode) r.slot[rj], first, last, rIdx, entry, kids);
        for (int k = rj + 1; k <= r.end; k++) {
            kids.addNode((MapleNode) r.slot[k]);
        }
        free(l);
        free(r);
        rebalance(kids);
        packInternal(kids, null, out);
    }

    /**
     * {@code mas_rebalance}: every node of the level {@code kids} that fell under its minimum is joined with its
     * right sibling (the left one at the right edge), and the pair is packed again (one node, or two halves).
     */
    private void rebalance(final Big kids) {
        int k = 0;
        while (kids.n > 1 && k < kids.n) {
            final MapleNode c = (MapleNode) kids.slt[k];
            if (c.end >= c.minSlots()) {
                k++;
                continue;
            }
            final int a = k + 1 < kids.n ? k : k - 1;
            final MapleNode l = (MapleNode) kids.slt[a];
            final MapleNode r = (MapleNode) kids.slt[a + 1];
            final Big merged = new Big();
            merged.min = l.min;
            for (final MapleNode m : new MapleNode[] {l, r}) {
                for (int i = 0; i <= m.end; i++) {
                    if (m.leaf) {
                        merged.add(m.pivotOf(i), m.slot[i]);
                    } else {
                        merged.addNode((MapleNode) m.slot[i]);
                    }
                }
            }
            free(l);
            free(r);
            final Big repl = new Big();
            if (l.leaf) {
                packLeaves(merged, null, repl);
            } else {
                rebalance(merged);
                packInternal(merged, null, repl);
            }
            kids.splice(a, 2, repl);
            k = a;
        }
    }

    /**
     * Packs leaf ranges into leaves: in place into {@code old} for an exact-fit or slot store (same number of
     * slots, at most two changed: {@code wr_exact_fit}, {@code wr_slot_store}), into one new node when it fits,
     * else split evenly into nodes of at most 15 ranges, moving a split point that would end a node on NULL.
     */
    private void packLeaves(final Big b, final MapleNode old, final Big out) {
        pack(b, old, out, true);
    }

    /** Packs children into arange nodes; in place when only child pointers changed (same pivots). */
    private void packInternal(final Big kids, final MapleNode old, final Big out) {
        pack(kids, old, out, false);
    }

    /** {@link #packLeaves} ({@code leaf}) and {@link #packInternal}: they differ in node size and in-place test. */
    private void pack(final Big b, final MapleNode old, final Big out, final boolean leaf) {
        final int n = b.n;
        if (n <= (leaf ? MapleNode.MAPLE_RANGE64_SLOTS : MapleNode.MAPLE_ARANGE64_SLOTS)) {
            if (old != null && n == old.end + 1 && (leaf ? changedSlots(old, b) <= 2 : samePivots(old, b))) {
                fill(old, b, 0, n, b.min);
                out.addNode(old);
                return;
            }
            final MapleNode m = alloc(leaf);
            fill(m, b, 0, n, b.min);
            if (old != null) {
                free(old);
            }
            out.addNode(m);
            return;
        }
        if (old != null) {
            free(old);
        }
        split(b, leaf, out);
    }

    @SuppressWarnings("ReferenceEquality") // a slot changed when it holds another VMA or node object: identity
    private static int changedSlots(final MapleNode old, final Big b) {
        int changed = 0;
        for (int i = 0; i < b.n; i++) {
            if (b.slt[i] != old.slot[i] || b.piv[i] != old.pivotOf(i)) {
                changed++;
            }
        }
        return changed;
    }

    private static boolean samePivots(final MapleNode old, final Big kids) {
        for (int i = 0; i < kids.n; i++) {
            if (kids.piv[i] != old.pivotOf(i)) {
                return false;
            }
        }
        return true;
    }

    /** {@code mas_split} / {@code mab_calc_split}: even parts, none ending on NULL but the last. */
    private void split(final Big b, final boolean leaf, final Big out) {
        final int per = leaf ? MapleNode.MAPLE_RANGE64_SLOTS - 1 : MapleNode.MAPLE_ARANGE64_SLOTS;
        final int parts = (b.n + per - 1) / per;
        int pos = 0;
        long lo = b.min;
        for (int p = 0; p < parts; p++) {
            final int left = parts - p;
            int take = (b.n - pos + left - 1) / left;
            if (leaf && left > 1 && b.slt[pos + take - 1] == null) {
                take++;
            }
            final MapleNode m = alloc(leaf);
            fill(m, b, pos, take, lo);
            lo = m.max + 1;
            pos += take;
            out.addNode(m);
        }
    }

    /** Writes {@code count} items of {@code b} from {@code pos} into {@code m}; links children, sets gaps. */
    private static void fill(final MapleNode m, final Big b, final int pos, final int count, final long min) {
        m.min = min;
        m.end = count - 1;
        m.max = b.piv[pos + count - 1];
        for (int k = 0; k < m.slot.length; k++) {
            m.slot[k] = k < count ? b.slt[pos + k] : null;
        }
        for (int k = 0; k < m.pivot.length; k++) {
            m.pivot[k] = k < count - 1 ? b.piv[pos + k] : 0;
        }
        if (!m.leaf) {
            for (int k = 0; k < m.gap.length; k++) {
                if (k < count) {
                    final MapleNode c = (MapleNode) m.slot[k];
                    c.parent = m;
                    c.parentSlot = k;
                    m.gap[k] = c.maxGap();
                } else {
                    m.gap[k] = 0;
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------- validation

    /**
     * {@code mt_validate}: checks every invariant of {@link MapleNode} and the node count; throws
     * IllegalStateException naming the node and the broken rule.
     */
    public void validate() {
        if (root == null) {
            if (nodes != 0 || height != 0) {
                throw new IllegalStateException("empty tree holds " + nodes + " nodes, height " + height);
            }
            return;
        }
        if (root.parent != null) {
            throw new IllegalStateException("root has a parent");
        }
        final int[] state = new int[3]; // counted nodes, leaf depth, previous entry was NULL (1) / not (0)
        state[1] = -1;
        state[2] = 0;
        validateNode(root, 0, ULONG_MAX, 1, state);
        if (state[0] != nodes) {
            throw new IllegalStateException("tree holds " + state[0] + " nodes, counted " + nodes);
        }
        if (state[1] != height) {
            throw new IllegalStateException("leaves at depth " + state[1] + ", height " + height);
        }
    }

    private long validateNode(final MapleNode n, final long min, final long max, final int depth,
                              final int[] state) {
        state[0]++;
        final String at = String.format("node %#x [%x-%x]", n.addr, min, max);
        if (n.min != min || n.max != max) {
            throw new IllegalStateException(at + ": node range " + Long.toHexString(n.min) + "-"
                + Long.toHexString(n.max) + " differs from its parent's pivots");
        }
        if (n.end < 0 || n.end >= n.slots()) {
            throw new IllegalStateException(at + ": end " + n.end);
        }
        if (n != root && n.end < n.minSlots()) {
            throw new IllegalStateException(at + ": underflow, end " + n.end + " < mt_min_slots " + n.minSlots());
        }
        for (int i = 0; i <= n.end; i++) {
            if (lt(n.pivotOf(i), n.minOf(i))) {
                throw new IllegalStateException(at + ": pivots not increasing at slot " + i);
            }
        }
        if (n.end > 0 && !lt(n.pivot[n.end - 1], max)) {
            throw new IllegalStateException(at + ": pivot " + (n.end - 1) + " reaches the node max");
        }
        if (n.leaf) {
            if (state[1] == -1) {
                state[1] = depth;
            } else if (state[1] != depth) {
                throw new IllegalStateException(at + ": leaf at depth " + depth + ", others at " + state[1]);
            }
            for (int i = 0; i <= n.end; i++) {
                final boolean isNull = n.slot[i] == null;
                if (isNull && state[2] == 1) {
                    throw new IllegalStateException(at + ": sequential NULLs end at slot " + i);
                }
                state[2] = isNull ? 1 : 0;
            }
            if (n.slot[n.end] == null && max != ULONG_MAX) {
                throw new IllegalStateException(at + ": a leaf other than the rightmost ends with NULL");
            }
            return n.maxGap();
        }
        long best = 0;
        for (int i = 0; i <= n.end; i++) {
            if (!(n.slot[i] instanceof MapleNode c)) {
                throw new IllegalStateException(at + ": slot " + i + " holds no child");
            }
            if (c.parent != n || c.parentSlot != i) {
                throw new IllegalStateException(at + ": child " + i + " has a wrong parent pointer");
            }
            final long g = validateNode(c, n.minOf(i), n.pivotOf(i), depth + 1, state);
            if (g != n.gap[i]) {
                throw new IllegalStateException(at + ": gap[" + i + "] = " + Long.toHexString(n.gap[i])
                    + " but the largest gap below is " + Long.toHexString(g));
            }
            if (Long.compareUnsigned(g, best) > 0) {
                best = g;
            }
        }
        return best;
    }

    // ----------------------------------------------------------------------------------------------- dump

    /**
     * {@code mt_dump(mt, mt_dump_hex)}: the tree line, then each node (range, address, depth, type, parent; for
     * arange nodes the gaps and the {@code end}/{@code gap} metadata; the slot/pivot pairs), then its children or
     * entries, indented two spaces per level. {@code entryName} renders an entry (the kernel prints pointers; the
     * slot lists show its first word); {@code label} stands where the kernel prints the tree's address.
     */
    public String dump(final String label, final Function<? super T, String> entryName) {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format("maple_tree(%s) flags %X, height %d root %s%n", label, flags(), height,
            root == null ? "(null)" : ptr(root.addr)));
        if (root == null) {
            sb.append("(empty)\n");
        } else {
            dumpNode(sb, root, 0, entryName);
        }
        return sb.toString();
    }

    private static String ptr(final long addr) {
        return String.format("%#x", addr);
    }

    private static void range(final StringBuilder sb, final long min, final long max, final int depth) {
        sb.append("  ".repeat(depth));
        if (min == max) {
            sb.append(String.format("%x: ", min));
        } else {
            sb.append(String.format("%x-%x: ", min, max));
        }
    }

    @SuppressWarnings("unchecked")
    private void dumpNode(final StringBuilder sb, final MapleNode n, final int depth,
                          final Function<? super T, String> entryName) {
        range(sb, n.min, n.max, depth);
        sb.append(String.format("node %s depth %d type %d parent %s contents: ", ptr(n.addr), depth, n.type(),
            n.parent == null ? ptr(n.addr | 1) : ptr(n.parent.addr | n.parentSlot << 3 | 6)));
        if (!n.leaf) {
            for (final long g : n.gap) {
                sb.append(String.format("%x ", g));
            }
            sb.append(String.format("| %02X %02X| ", n.end, n.maxGapOffset()));
        }
        for (int i = 0; i < n.pivot.length; i++) {
            sb.append(slotText(n.slot[i], entryName)).append(' ').append(String.format("%X ", n.pivot[i]));
        }
        sb.append(slotText(n.slot[n.pivot.length], entryName)).append('\n');
        for (int i = 0; i <= n.end; i++) {
            if (n.leaf) {
                range(sb, n.minOf(i), n.pivotOf(i), depth + 1);
                sb.append(n.slot[i] == null ? "(null)" : entryName.apply((T) n.slot[i])).append('\n');
            } else {
                dumpNode(sb, (MapleNode) n.slot[i], depth + 1, entryName);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private String slotText(final Object s, final Function<? super T, String> entryName) {
        if (s == null) {
            return "(null)";
        }
        if (s instanceof MapleNode c) {
            return ptr(c.addr);
        }
        final String name = entryName.apply((T) s);
        final int sp = name.indexOf(' ');
        return sp < 0 ? name : name.substring(0, sp);
    }
}
