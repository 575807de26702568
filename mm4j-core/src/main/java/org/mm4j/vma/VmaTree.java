package org.mm4j.vma;

/**
 * The VMAs of one mm in an augmented red-black tree keyed by {@code vm_start} (5.x {@code mm->mm_rb}), threaded
 * by {@code prev}/{@code next} in address order (5.x {@code vm_prev}/{@code vm_next}).
 *
 * <p>Augmentation: each node keeps {@code subtreeGap}, the largest free gap in front of any VMA of its subtree,
 * where the gap in front of {@code v} is {@code vm_start_gap(v) - vm_end(prev)} (a stack VMA's guard gap counts
 * as used). {@link #highestGap} / {@link #lowestGap} prune subtrees whose gap is too small, so
 * {@code get_unmapped_area} is O(log n) like 5.x {@code unmapped_area_topdown}.
 *
 * <p>Invariants: red-black (no red node has a red child, equal black height), in-order = address order =
 * list order, ranges disjoint, {@code subtreeGap} exact. {@link #validate()} checks them all (tests call it).
 *
 * <p>Threads: only under the owning mm's lock. Lookups allocate nothing. Selected by
 * {@code mm4j.vma_store=rbtree}; the default is the maple tree ({@link MapleVmaStore}).
 */
final class VmaTree extends VmaStore {
    Vma root;

    @Override
    Kind kind() {
        return Kind.RBTREE;
    }

    @Override
    boolean usesVmacache() {
        return true;
    }

    @Override
    String dump(final String label) {
        return null;
    }

    @Override
    void adjusted(final Vma v, final long oldStart, final long oldEnd) {
        adjusted(v);
    }

    /** The free space in front of {@code v}. */
    long gap(final Vma v) {
        final long prevEnd = v.prev == null ? 0 : v.prev.end;
        final long s = startGap(v);
        return s > prevEnd ? s - prevEnd : 0;
    }

    private void recompute(final Vma v) {
        long g = gap(v);
        if (v.left != null && v.left.subtreeGap > g) {
            g = v.left.subtreeGap;
        }
        if (v.right != null && v.right.subtreeGap > g) {
            g = v.right.subtreeGap;
        }
        v.subtreeGap = g;
    }

    /** Recomputes {@code v} and its ancestors (after v's gap or subtree changed). */
    void propagate(Vma v) {
        while (v != null) {
            recompute(v);
            v = v.parent;
        }
    }

    /** After {@code v}'s start or end changed in place (order unchanged): fix its gap and its successor's. */
    void adjusted(final Vma v) {
        propagate(v);
        if (v.next != null) {
            propagate(v.next);
        }
    }

    /** {@code find_vma}: the first VMA with {@code end > addr}, or null. */
    @Override
    Vma find(final long addr) {
        Vma n = root;
        Vma best = null;
        while (n != null) {
            if (Long.compareUnsigned(n.end, addr) > 0) {
                best = n;
                if (Long.compareUnsigned(n.start, addr) <= 0) {
                    break;
                }
                n = n.left;
            } else {
                n = n.right;
            }
        }
        return best;
    }

    /** The last VMA with {@code start < addr}, or null. */
    @Override
    Vma findBefore(final long addr) {
        Vma n = root;
        Vma best = null;
        while (n != null) {
            if (Long.compareUnsigned(n.start, addr) < 0) {
                best = n;
                n = n.right;
            } else {
                n = n.left;
            }
        }
        return best;
    }

    @Override
    void insert(final Vma v) {
        Vma p = null;
        Vma n = root;
        boolean leftChild = false;
        while (n != null) {
            p = n;
            leftChild = Long.compareUnsigned(v.start, n.start) < 0;
            n = leftChild ? n.left : n.right;
        }
        v.parent = p;
        v.left = null;
        v.right = null;
        v.red = true;
        if (p == null) {
            root = v;
            v.prev = null;
            v.next = null;
        } else if (leftChild) {
            p.left = v;
            v.next = p;
            v.prev = p.prev;
        } else {
            p.right = v;
            v.prev = p;
            v.next = p.next;
        }
        linkNeighbours(v);
        propagate(v);
        if (v.next != null) {
            propagate(v.next);
        }
        insertFixup(v);
    }

    /** The child of {@code n} on side {@code left}. */
    private static Vma child(final Vma n, final boolean left) {
        return left ? n.left : n.right;
    }

    private static void setChild(final Vma n, final boolean left, final Vma c) {
        if (left) {
            n.left = c;
        } else {
            n.right = c;
        }
    }

    /** Inserts with the red-black fix-up; {@code side} names the parent's side, the mirror case is the same. */
    private void insertFixup(Vma z) {
        while (z.parent != null && z.parent.red) {
            final Vma p = z.parent;
            final Vma g = p.parent;
            final boolean side = p == g.left;
            final Vma u = child(g, !side);
            if (u != null && u.red) {
                p.red = false;
                u.red = false;
                g.red = true;
                z = g;
            } else {
                if (z == child(p, !side)) {
                    z = p;
                    rotate(z, side);
                }
                z.parent.red = false;
                z.parent.parent.red = true;
                rotate(z.parent.parent, !side);
            }
        }
        root.red = false;
    }

    /**
     * Rotates at {@code x}: {@code toLeft} moves x down to the left (its right child comes up), else the mirror.
     * Recomputes the augmented gap of the two nodes that changed subtrees.
     */
    private void rotate(final Vma x, final boolean toLeft) {
        final Vma y = child(x, !toLeft);
        final Vma inner = child(y, toLeft);
        setChild(x, !toLeft, inner);
        if (inner != null) {
            inner.parent = x;
        }
        y.parent = x.parent;
        if (x.parent == null) {
            root = y;
        } else if (x == x.parent.left) {
            x.parent.left = y;
        } else {
            x.parent.right = y;
        }
        setChild(y, toLeft, x);
        x.parent = y;
        recompute(x);
        recompute(y);
    }

    private void transplant(final Vma u, final Vma v) {
        if (u.parent == null) {
            root = v;
        } else if (u == u.parent.left) {
            u.parent.left = v;
        } else {
            u.parent.right = v;
        }
        if (v != null) {
            v.parent = u.parent;
        }
    }

    @Override
    void erase(final Vma z) {
        final Vma nextV = z.next;
        if (z.prev != null) {
            z.prev.next = z.next;
        } else {
            first = z.next;
        }
        if (z.next != null) {
            z.next.prev = z.prev;
        } else {
            last = z.prev;
        }
        count--;
        Vma x;
        Vma xParent;
        boolean removedBlack;
        if (z.left == null) {
            x = z.right;
            xParent = z.parent;
            removedBlack = !z.red;
            transplant(z, z.right);
        } else if (z.right == null) {
            x = z.left;
            xParent = z.parent;
            removedBlack = !z.red;
            transplant(z, z.left);
        } else {
            Vma y = z.right;
            while (y.left != null) {
                y = y.left;
            }
            removedBlack = !y.red;
            x = y.right;
            if (y.parent == z) {
                xParent = y;
            } else {
                xParent = y.parent;
                transplant(y, y.right);
                y.right = z.right;
                y.right.parent = y;
            }
            transplant(z, y);
            y.left = z.left;
            y.left.parent = y;
            y.red = z.red;
        }
        z.left = null;
        z.right = null;
        z.parent = null;
        z.prev = null;
        z.next = null;
        propagate(xParent);
        if (nextV != null) {
            propagate(nextV);
        }
        if (removedBlack) {
            eraseFixup(x, xParent);
        }
    }

    private static boolean isRed(final Vma n) {
        return n != null && n.red;
    }

    private void eraseFixup(Vma x, Vma parent) {
        while (x != root && !isRed(x)) {
            final boolean side = x == parent.left;
            Vma w = child(parent, !side);
            if (isRed(w)) {
                w.red = false;
                parent.red = true;
                rotate(parent, side);
                w = child(parent, !side);
            }
            if (!isRed(w.left) && !isRed(w.right)) {
                w.red = true;
                x = parent;
                parent = x.parent;
            } else {
                if (!isRed(child(w, !side))) {
                    child(w, side).red = false;
                    w.red = true;
                    rotate(w, !side);
                    w = child(parent, !side);
                }
                w.red = parent.red;
                parent.red = false;
                if (child(w, !side) != null) {
                    child(w, !side).red = false;
                }
                rotate(parent, side);
                x = root;
                parent = null;
            }
        }
        if (x != null) {
            x.red = false;
        }
    }

    /**
     * Top-down search ({@code unmapped_area_topdown}): the highest {@code addr} with {@code [addr, addr+length)}
     * free (guard gaps counted as used), {@code low <= addr}, {@code addr + length <= high}; -1 if none.
     */
    @Override
    long highestGap(final long length, final long low, final long high) {
        // the space above the last VMA
        final long lastEnd = last == null ? 0 : last.end;
        if (Long.compareUnsigned(lastEnd, high) < 0) {
            final long from = Math.max(lastEnd, low);
            if (high - from >= length && Long.compareUnsigned(from, high) <= 0) {
                return high - length;
            }
        }
        return gapIn(root, length, low, high, true);
    }

    /** Bottom-up search ({@code unmapped_area}): the lowest fitting {@code addr}; -1 if none. */
    @Override
    long lowestGap(final long length, final long low, final long high) {
        final long r = gapIn(root, length, low, high, false);
        if (r != -1) {
            return r;
        }
        final long lastEnd = last == null ? 0 : last.end;
        final long from = Math.max(lastEnd, low);
        if (Long.compareUnsigned(from, high) < 0 && high - from >= length) {
            return from;
        }
        return -1;
    }

    /**
     * The gap below {@code n} or in its subtree that fits {@code length} in {@code [low, high)}: the highest one
     * ({@code top}, its top {@code length} bytes) or the lowest (its bottom). The subtree on the side the search
     * starts from (right top-down, left bottom-up) is tried first, unless it lies wholly outside the range; then
     * the gap below {@code n}; then the other subtree, unless that lies wholly outside. Subtrees whose largest gap
     * is smaller than {@code length} are skipped.
     */
    private long gapIn(final Vma n, final long length, final long low, final long high, final boolean top) {
        if (n == null || n.subtreeGap < length) {
            return -1;
        }
        // right: gaps after n.end, useless when n.end >= high; left: gaps before n.start, useless when n.start <= low
        final boolean rightUseful = Long.compareUnsigned(n.end, high) < 0;
        final boolean leftUseful = Long.compareUnsigned(n.start, low) > 0;
        if (top ? rightUseful : leftUseful) {
            final long r = gapIn(top ? n.right : n.left, length, low, high, top);
            if (r != -1) {
                return r;
            }
        }
        final long gapEnd = Math.min(startGap(n), high);
        final long gapStart = Math.max(n.prev == null ? 0 : n.prev.end, low);
        if (gapEnd > gapStart && gapEnd - gapStart >= length) {
            return top ? gapEnd - length : gapStart;
        }
        if (!(top ? leftUseful : rightUseful)) {
            return -1;
        }
        return gapIn(top ? n.left : n.right, length, low, high, top);
    }

    /** Checks every invariant; throws IllegalStateException naming the first broken one. */
    @Override
    void validate() {
        if (root != null && root.red) {
            throw new IllegalStateException("red root");
        }
        blackHeight(root);
        validateList();
        final int[] idx = {0};
        final Vma[] order = new Vma[count];
        inorder(root, order, idx);
        Vma v = first;
        for (int i = 0; i < count; i++, v = v.next) {
            if (order[i] != v) {
                throw new IllegalStateException("tree order differs from list at " + v);
            }
        }
    }

    private void inorder(final Vma n, final Vma[] out, final int[] idx) {
        if (n == null) {
            return;
        }
        inorder(n.left, out, idx);
        if (idx[0] >= out.length) {
            throw new IllegalStateException("tree holds more nodes than count");
        }
        out[idx[0]++] = n;
        inorder(n.right, out, idx);
    }

    private int blackHeight(final Vma n) {
        if (n == null) {
            return 1;
        }
        if (n.left != null && n.left.parent != n || n.right != null && n.right.parent != n) {
            throw new IllegalStateException("broken parent link under " + n);
        }
        if (n.red && (isRed(n.left) || isRed(n.right))) {
            throw new IllegalStateException("red node with red child: " + n);
        }
        final int l = blackHeight(n.left);
        final int r = blackHeight(n.right);
        if (l != r) {
            throw new IllegalStateException("black height differs under " + n);
        }
        long g = gap(n);
        if (n.left != null) {
            g = Math.max(g, n.left.subtreeGap);
        }
        if (n.right != null) {
            g = Math.max(g, n.right.subtreeGap);
        }
        if (g != n.subtreeGap) {
            throw new IllegalStateException("rb_subtree_gap " + n.subtreeGap + " != " + g + " at " + n);
        }
        return l + (n.red ? 0 : 1);
    }
}
