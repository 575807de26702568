package org.mm4j.vma;

import org.mm4j.vma.maple.MaState;
import org.mm4j.vma.maple.MapleNodeCache;
import org.mm4j.vma.maple.MapleTree;

/**
 * The VMAs of one mm in a maple tree, as Linux 6.1+ keeps them ({@code mm->mm_mt}, written through
 * {@code mm/vma.c}'s {@code vma_iterator}): each VMA is stored over {@code [vm_start, vm_end - 1]}, the unmapped
 * space between them is NULL, and the arange nodes' gaps drive {@code get_unmapped_area}.
 *
 * <pre>
 * find_vma(addr)         mt_find(mm_mt, addr, ULONG_MAX)           {@link #find}
 * find_vma_prev / vma_prev   mas_find_rev from addr - 1            {@link #findBefore}
 * vma_iter_store_new     mas_store_gfp over [start, end - 1]       {@link #insert}
 * vma_iter_clear         a NULL store over the VMA's own range     {@link #erase}
 * vma_expand / vma_shrink  store the new range, clear what it left {@link #adjusted}
 * unmapped_area_topdown  mas_empty_area_rev, then the guard-gap retry    {@link #highestGap}
 * unmapped_area          mas_empty_area, then the guard-gap retry        {@link #lowestGap}
 * </pre>
 *
 * <p>Invariants: those of {@link MapleTree} and {@link VmaStore}; the tree's entries, in order, are the listed
 * VMAs, each over exactly its range. There is no vmacache: 6.1 removed it ({@code /proc/vmstat} prints no
 * {@code vmacache_*} counters). Threads: only under the owning mm's lock; lookups allocate nothing (one
 * {@link MaState} per store, reused).
 */
final class MapleVmaStore extends VmaStore {
    private final MapleTree<Vma> mt;
    private final MaState mas = new MaState();

    MapleVmaStore(final MapleNodeCache cache) {
        this.mt = new MapleTree<>(cache);
    }

    @Override
    Kind kind() {
        return Kind.MAPLE;
    }

    @Override
    boolean usesVmacache() {
        return false;
    }

    /** The tree itself (tests, the dump). */
    MapleTree<Vma> tree() {
        return mt;
    }

    @Override
    Vma find(final long addr) {
        mas.set(addr);
        return mt.find(mas, MapleTree.ULONG_MAX);
    }

    @Override
    Vma findBefore(final long addr) {
        if (addr == 0) {
            return null;
        }
        mas.set(addr - 1);
        return mt.findRev(mas, 0);
    }

    @Override
    void insert(final Vma v) {
        mt.store(v.start, v.end - 1, v);
        // the list position by start, as the rbtree orders it (robust to a neighbour the syscall is resizing)
        Vma p = findBefore(v.start);
        while (p != null && Long.compareUnsigned(p.start, v.start) >= 0) {
            p = p.prev;
        }
        for (Vma n = p == null ? first : p.next; n != null && Long.compareUnsigned(n.start, v.start) < 0;
             n = n.next) {
            p = n;
        }
        linkAfter(p, v);
    }

    @Override
    void erase(final Vma v) {
        unlink(v);
        clearOwn(v, v.start, v.end - 1);
    }

    @Override
    void adjusted(final Vma v, final long oldStart, final long oldEnd) {
        mt.store(v.start, v.end - 1, v);
        if (oldStart < v.start) {
            clearOwn(v, oldStart, Math.min(oldEnd, v.start) - 1);
        }
        if (oldEnd > v.end) {
            clearOwn(v, Math.max(oldStart, v.end), oldEnd - 1);
        }
    }

    /** NULL over the parts of {@code [lo, hi]} that still hold {@code v} (a neighbour may already own the rest). */
    private void clearOwn(final Vma v, final long lo, final long hi) {
        long from = lo;
        while (Long.compareUnsigned(from, hi) <= 0) {
            mas.set(from);
            final Vma e = mt.find(mas, hi);
            if (e == null) {
                return;
            }
            final long s = Math.max(mas.index, lo);
            final long l = Math.min(mas.last, hi);
            if (e == v) {
                mt.store(s, l, null);
            }
            if (l == hi) {
                return;
            }
            from = l + 1;
        }
    }

    @Override
    long highestGap(final long length, final long low, final long high) {
        long hi = high;
        while (Long.compareUnsigned(low, hi) < 0) {
            if (mt.emptyAreaRev(mas, low, hi - 1, length) != 0) {
                return -1;
            }
            final long gapEnd = mas.last + 1;
            final Vma next = find(gapEnd);
            if (next != null && startGap(next) < gapEnd) {
                hi = startGap(next); // the next VMA's stack guard gap takes the top: look below it
                continue;
            }
            return gapEnd - length;
        }
        return -1;
    }

    @Override
    long lowestGap(final long length, final long low, final long high) {
        long lo = low;
        while (Long.compareUnsigned(lo, high) < 0) {
            if (mt.emptyArea(mas, lo, high - 1, length) != 0) {
                return -1;
            }
            final long addr = mas.index;
            final Vma next = find(addr);
            if (next != null && startGap(next) < addr + length) {
                lo = next.end; // the gap is too small once the guard gap is taken: look above that VMA
                continue;
            }
            return addr;
        }
        return -1;
    }

    @Override
    void validate() {
        mt.validate();
        validateList();
        final MaState it = new MaState();
        Vma v = first;
        long from = 0;
        int n = 0;
        while (true) {
            it.set(from);
            final Vma e = mt.find(it, MapleTree.ULONG_MAX);
            if (e == null) {
                break;
            }
            if (e != v) {
                throw new IllegalStateException("maple entry " + e + " at " + Long.toHexString(it.index)
                    + " differs from the list's " + v);
            }
            if (it.index != v.start || it.last != v.end - 1) {
                throw new IllegalStateException("maple range " + Long.toHexString(it.index) + "-"
                    + Long.toHexString(it.last) + " differs from " + v);
            }
            n++;
            v = v.next;
            from = it.last + 1;
        }
        if (n != count) {
            throw new IllegalStateException("maple tree holds " + n + " VMAs, map_count " + count);
        }
    }

    @Override
    boolean preallocate() {
        return mt.preallocate();
    }

    @Override
    void destroyPrealloc() {
        mt.destroyPrealloc();
    }

    @Override
    void forEachNode(final java.util.function.LongConsumer action) {
        mt.forEachNode(action);
    }

    @Override
    String dump(final String label) {
        return mt.dump(label, MapleVmaStore::entryName)
            + String.format("# %d VMAs in %d maple_node objects (%d bytes)%n", count, mt.nodes(),
            (long) mt.nodes() * MapleNodeCache.objectSize());
    }

    private static String entryName(final Vma v) {
        final String name = v.file != null ? " " + v.file.path() : v.specialName != null ? " " + v.specialName
            : v.anonName != null ? " [anon:" + v.anonName + "]" : "";
        return String.format("vma@%x %s%s", v.start, VmFlags.toString(v.flags), name);
    }
}
