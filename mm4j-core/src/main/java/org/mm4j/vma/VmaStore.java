package org.mm4j.vma;

import org.mm4j.vma.maple.MapleNodeCache;

import java.util.Locale;

/**
 * Where an mm keeps its VMAs: the interface the address-space code uses ({@code find_vma}, the gap searches of
 * {@code get_unmapped_area}, link and unlink), with two implementations chosen by the boot option
 * {@code mm4j.vma_store=}: {@link Kind#MAPLE} (the default, Linux 6.1+: {@code mm->mm_mt}, {@link MapleVmaStore})
 * and {@link Kind#RBTREE} (Linux 3.15-6.0: {@code mm->mm_rb} with {@code rb_subtree_gap} plus the per-thread
 * vmacache, {@link VmaTree}).
 *
 * <p>Both keep the address-ordered {@code prev}/{@code next} links of {@link Vma} (5.x {@code vm_prev}/
 * {@code vm_next}), {@link #first}, {@link #last} and {@link #count} ({@code mm->map_count}): the syscall code
 * walks them. With the maple tree they are a cache of what {@code vma_prev}/{@code vma_next} return, and
 * {@link #validate()} checks that the two agree.
 *
 * <p>Invariants: the list is in address order, VMAs never overlap, {@code count} is the list's length, and the
 * index (tree) holds exactly the listed VMAs, each over its own {@code [start, end)}; between the calls of one
 * syscall the index may briefly lag (a VMA grown over a neighbour that is unlinked next). Threads: only under the
 * owning mm's lock; lookups allocate nothing.
 */
public abstract sealed class VmaStore permits VmaTree, MapleVmaStore {
    /** {@code stack_guard_gap}: 256 pages. */
    static final long STACK_GUARD_GAP = 256L << 12;

    /** The VMA store a boot selects ({@code mm4j.vma_store=maple|rbtree}). */
    public enum Kind {
        /** Linux 6.18's maple tree ({@code mm->mm_mt}); no vmacache. */
        MAPLE,
        /** The 5.x augmented rbtree with the per-thread vmacache. */
        RBTREE;

        /** The system property tests use to run every VMA test over one store (the boot option wins). */
        public static final String PROPERTY = "mm4j.vma_store";

        /** Parses the option's value; IllegalArgumentException naming it otherwise. */
        public static Kind parse(final String value) {
            if (value != null) {
                switch (value.strip().toLowerCase(Locale.ROOT)) {
                    case "maple" -> {
                        return MAPLE;
                    }
                    case "rbtree" -> {
                        return RBTREE;
                    }
                    default -> { }
                }
            }
            throw new IllegalArgumentException("mm4j.vma_store=" + value + " (expected: maple or rbtree)");
        }

        /** The store of a boot that does not name one: {@link #PROPERTY} when set, else {@link #MAPLE}. */
        public static Kind defaultKind() {
            final String p = System.getProperty(PROPERTY);
            return p == null || p.isBlank() ? MAPLE : parse(p);
        }

        public String optionValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    Vma first;
    Vma last;
    int count;
    long stackGuardGap = STACK_GUARD_GAP;

    static VmaStore create(final Kind kind, final MapleNodeCache cache) {
        return kind == Kind.MAPLE ? new MapleVmaStore(cache) : new VmaTree();
    }

    abstract Kind kind();

    /** Whether {@code find_vma} goes through the per-thread vmacache first (the rbtree era). */
    abstract boolean usesVmacache();

    /** {@code find_vma}: the first VMA with {@code end > addr}, or null. */
    abstract Vma find(long addr);

    /** The last VMA with {@code start < addr}, or null. */
    abstract Vma findBefore(long addr);

    /** Links {@code v} (not overlapping a listed VMA once the current syscall is done). */
    abstract void insert(Vma v);

    /** Unlinks {@code v}. */
    abstract void erase(Vma v);

    /** {@code v}'s range changed in place from {@code [oldStart, oldEnd)} (order unchanged). */
    abstract void adjusted(Vma v, long oldStart, long oldEnd);

    /**
     * Top-down search ({@code unmapped_area_topdown}): the highest {@code addr} with {@code [addr, addr+length)}
     * free (guard gaps counted as used), {@code low <= addr}, {@code addr + length <= high}; -1 if none.
     */
    abstract long highestGap(long length, long low, long high);

    /** Bottom-up search ({@code unmapped_area}): the lowest fitting {@code addr}; -1 if none. */
    abstract long lowestGap(long length, long low, long high);

    /** Checks every invariant; throws IllegalStateException naming the first broken one. */
    abstract void validate();

    /** An {@code mt_dump}-style picture of the index, or null when it is not a maple tree. */
    abstract String dump(String label);

    /** {@code vma_iter_prealloc}: the nodes one store may need (maple tree); false when they cannot be had. */
    boolean preallocate() {
        return true;
    }

    /** {@code vma_iter_free} / {@code mas_destroy}: gives back the preallocated nodes no store used. */
    void destroyPrealloc() {
    }

    /** Calls {@code action} with the address of every maple_node of the index (none for the rbtree). */
    void forEachNode(final java.util.function.LongConsumer action) {
    }

    /** {@code vm_start_gap}: the start less the guard gap of a VM_GROWSDOWN VMA. */
    long startGap(final Vma v) {
        if ((v.flags & VmFlags.VM_GROWSDOWN) != 0) {
            final long s = v.start - stackGuardGap;
            return Long.compareUnsigned(s, v.start) > 0 ? 0 : s;
        }
        return v.start;
    }

    /** The list's invariants: links, ranges, order, count. */
    void validateList() {
        Vma prevV = null;
        int n = 0;
        for (Vma v = first; v != null; v = v.next) {
            n++;
            if (v.prev != prevV) {
                throw new IllegalStateException("broken prev link at " + v);
            }
            if (Long.compareUnsigned(v.start, v.end) >= 0 || (v.start & 0xfff) != 0 || (v.end & 0xfff) != 0) {
                throw new IllegalStateException("bad range " + v);
            }
            if (prevV != null && Long.compareUnsigned(prevV.end, v.start) > 0) {
                throw new IllegalStateException("overlap " + prevV + " / " + v);
            }
            prevV = v;
        }
        if (prevV != last || n != count) {
            throw new IllegalStateException("list/count mismatch: " + n + " vs " + count);
        }
    }

    /** Links {@code v} into the list after {@code p} (null: at the head). */
    void linkAfter(final Vma p, final Vma v) {
        v.prev = p;
        v.next = p == null ? first : p.next;
        linkNeighbours(v);
    }

    /** Points {@code v}'s already set {@code prev}/{@code next} (or the list's ends) back at it; counts it. */
    final void linkNeighbours(final Vma v) {
        if (v.prev != null) {
            v.prev.next = v;
        } else {
            first = v;
        }
        if (v.next != null) {
            v.next.prev = v;
        } else {
            last = v;
        }
        count++;
    }

    /** Unlinks {@code v} from the list. */
    void unlink(final Vma v) {
        if (v.prev != null) {
            v.prev.next = v.next;
        } else {
            first = v.next;
        }
        if (v.next != null) {
            v.next.prev = v.prev;
        } else {
            last = v.prev;
        }
        v.prev = null;
        v.next = null;
        count--;
    }
}
