package org.mm4j.vma;

import static org.mm4j.vma.Errno.EACCES;
import static org.mm4j.vma.Errno.EBADF;
import static org.mm4j.vma.Errno.EEXIST;
import static org.mm4j.vma.Errno.EFAULT;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.Errno.EOPNOTSUPP;
import static org.mm4j.vma.Errno.EOVERFLOW;
import static org.mm4j.vma.Errno.EPERM;
import static org.mm4j.vma.VmFlags.VM_ACCESS_FLAGS;
import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_DONTCOPY;
import static org.mm4j.vma.VmFlags.VM_DONTEXPAND;
import static org.mm4j.vma.VmFlags.VM_EXEC;
import static org.mm4j.vma.VmFlags.VM_GROWSDOWN;
import static org.mm4j.vma.VmFlags.VM_HUGETLB;
import static org.mm4j.vma.VmFlags.VM_IO;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_LOCKED_MASK;
import static org.mm4j.vma.VmFlags.VM_MAYEXEC;
import static org.mm4j.vma.VmFlags.VM_MAYREAD;
import static org.mm4j.vma.VmFlags.VM_MAYSHARE;
import static org.mm4j.vma.VmFlags.VM_MAYWRITE;
import static org.mm4j.vma.VmFlags.VM_NOHUGEPAGE;
import static org.mm4j.vma.VmFlags.VM_NORESERVE;
import static org.mm4j.vma.VmFlags.VM_PFNMAP;
import static org.mm4j.vma.VmFlags.VM_READ;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_SPECIAL;
import static org.mm4j.vma.VmFlags.VM_WIPEONFORK;
import static org.mm4j.vma.VmFlags.VM_WRITE;

import org.mm4j.base.ModelOutOfMemoryException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * A process address space ({@code mm_struct}) with the memory system calls of Linux 6.18 and its merge/split
 * rules ({@code mm/mmap.c}, {@code mm/vma.c}, {@code mm/mprotect.c}, {@code mm/mremap.c}, {@code mm/madvise.c},
 * {@code mm/mlock.c}); the VMA structure is the 5.x one (augmented rbtree + list + vmacache), see
 * {@link VmaTree}.
 *
 * <p>Results: each syscall returns what the kernel returns: an address or 0 on success, {@code -errno} on failure
 * ({@link Errno#isError}); {@code brk} returns the (possibly unchanged) break. Bad arguments never corrupt the
 * tree: every check that can fail runs before the first change, except where the kernel itself leaves partial
 * effects (a failing mprotect/mlock/madvise over several VMAs keeps the changes made before the failure).
 *
 * <p>Layout (x86-64, 4-level paging): {@link #TASK_SIZE}, {@code mmap_base} below the stack
 * ({@link #mmapBaseFor}), top-down placement through the tree's subtree gaps, or the legacy bottom-up layout.
 *
 * <p>Threads: every syscall and fault holds this mm's monitor (the model's {@code mmap_lock} taken for write);
 * {@link #findVma} from other threads must hold it too. Page tables are owned by {@link PageTables}.
 */
public final class MmStruct {
    public static final long PAGE_SIZE = 4096;
    public static final long PAGE_MASK = ~(PAGE_SIZE - 1);
    public static final long TASK_SIZE = 0x7ffffffff000L;
    public static final long DEFAULT_MAP_WINDOW = TASK_SIZE;
    public static final long PMD_SIZE = 2L << 20;
    public static final long SIZE_128M = 128L << 20;
    public static final int DEFAULT_MAX_MAP_COUNT = 65530;
    public static final int ANON_VMA_NAME_MAX_LEN = 80;

    final VmaTree tree = new VmaTree();
    private final IntSupplier maxMapCount;
    /** The vmacaches of the threads that used this mm (for the vmstat counters). */
    private final java.util.Queue<VmaCache> caches = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final ThreadLocal<VmaCache> vmacache = ThreadLocal.withInitial(() -> new VmaCache(caches));
    /** The cache of the first thread that looked up (the usual single-threaded case skips the ThreadLocal). */
    private VmaCache firstCache;
    /** {@code mm->vmacache_seqnum}: bumped on every change of the VMA set ({@code vmacache_invalidate}). */
    long seqnum;

    long mmapBase;
    long mmapLegacyBase = pageAlign(TASK_SIZE / 3);
    boolean topdown = true;
    long mmapMinAddr = PAGE_SIZE;
    long rlimitStack = 8L << 20;
    long startBrk;
    long brk;
    long startStack;
    /** {@code mm->def_flags}: flags every new mapping gets ({@code VM_LOCKED} after mlockall(MCL_FUTURE)). */
    long defFlags;
    /** Whether /proc/PID/maps ends with the {@code [vsyscall]} gate VMA. */
    boolean gateVma = true;
    PageTables pageTables;
    /** Replay in trace-address mode: the address the next non-fixed placement takes if it is free, or -1. */
    private long placementOverride = -1;

    public MmStruct(final IntSupplier maxMapCount) {
        this.maxMapCount = maxMapCount;
        this.mmapBase = mmapBaseFor(rlimitStack, 0);
    }

    public MmStruct() {
        this(() -> DEFAULT_MAX_MAP_COUNT);
    }

    // ------------------------------------------------------------------------------------------------ layout

    static long pageAlign(final long x) {
        return (x + PAGE_SIZE - 1) & PAGE_MASK;
    }

    /** x86 {@code mmap_base()}: TASK_SIZE less the clamped stack gap and {@code rnd}. */
    public static long mmapBaseFor(final long rlimitStack, final long rnd) {
        return mmapBaseFor(rlimitStack, rnd, 0);
    }

    /** As above, with {@code stackRandomPad} the stack's maximal randomization (0 when ASLR is off). */
    public static long mmapBaseFor(final long rlimitStack, final long rnd, final long stackRandomPad) {
        long gap = rlimitStack;
        final long pad = stackRandomPad + VmaTree.STACK_GUARD_GAP;
        if (gap + pad > gap) {
            gap += pad;
        }
        final long gapMax = TASK_SIZE / 6 * 5;
        if (gap < SIZE_128M) {
            gap = SIZE_128M;
        } else if (gap > gapMax) {
            gap = gapMax;
        }
        return pageAlign(TASK_SIZE - gap - rnd);
    }

    /**
     * Replay support: the next non-fixed placement ({@code get_unmapped_area} without MAP_FIXED) returns
     * {@code addr} when that range is free, as the logged kernel chose it; -1 clears.
     */
    public synchronized void setPlacementOverride(final long addr) {
        this.placementOverride = addr;
    }

    public long mmapBase() {
        return mmapBase;
    }

    public void setMmapBase(final long base) {
        this.mmapBase = base;
    }

    /** {@code MMF_TOPDOWN}: false selects the legacy bottom-up layout from {@link #mmapLegacyBase}. */
    public void setTopdown(final boolean topdown) {
        this.topdown = topdown;
    }

    public boolean topdown() {
        return topdown;
    }

    public void setLegacyBase(final long base) {
        this.mmapLegacyBase = base;
    }

    public void setMmapMinAddr(final long addr) {
        this.mmapMinAddr = addr;
    }

    public void setRlimitStack(final long bytes) {
        this.rlimitStack = bytes;
    }

    public void setStackGuardGap(final long bytes) {
        tree.stackGuardGap = bytes;
    }

    public long startBrk() {
        return startBrk;
    }

    public long brkValue() {
        return brk;
    }

    /** Sets {@code start_brk} and {@code brk} (exec's {@code set_brk}). */
    public void setBrk(final long startBrk, final long brk) {
        this.startBrk = startBrk;
        this.brk = brk;
    }

    public long startStack() {
        return startStack;
    }

    public void setStartStack(final long addr) {
        this.startStack = addr;
    }

    public void setGateVma(final boolean present) {
        this.gateVma = present;
    }

    public int mapCount() {
        return tree.count;
    }

    int maxMapCount() {
        return maxMapCount.getAsInt();
    }

    /** The VMAs in address order (a snapshot). */
    public synchronized List<Vma> vmas() {
        final List<Vma> out = new ArrayList<>(tree.count);
        for (Vma v = tree.first; v != null; v = v.next) {
            out.add(v);
        }
        return out;
    }

    /** Checks the tree's invariants (tests). */
    public synchronized void validate() {
        tree.validate();
    }

    // ------------------------------------------------------------------------------------------------ lookup

    /**
     * {@code find_vma}: the first VMA with {@code end > addr}, or null. A vmacache hit costs four compares; a
     * miss walks the tree. Allocates nothing (after the calling thread's first lookup).
     */
    public Vma findVma(final long addr) {
        VmaCache c = firstCache;
        if (c == null || c.owner != Thread.currentThread()) {
            c = vmacache.get();
            if (firstCache == null) {
                firstCache = c; // one racy publication of a complete object: any winner is correct
            }
        }
        c.findCalls++;
        if (c.seqnum != seqnum) {
            c.seqnum = seqnum;
            c.flush();
        } else {
            final Vma[] vs = c.vmas;
            int idx = VmaCache.hash(addr);
            for (int i = 0; i < VmaCache.VMACACHE_SIZE; i++) {
                final Vma v = vs[idx];
                if (v != null && v.start <= addr && v.end > addr) {
                    c.findHits++;
                    return v;
                }
                idx = (idx + 1) & (VmaCache.VMACACHE_SIZE - 1);
            }
        }
        final Vma v = tree.find(addr);
        if (v != null) {
            c.vmas[VmaCache.hash(addr)] = v;
        }
        return v;
    }

    /** {@code find_vma} without the cache (the tree walk alone). */
    public Vma findVmaNoCache(final long addr) {
        return tree.find(addr);
    }

    /** {@code find_vma_prev}: {@code [0]} = find_vma(addr), {@code [1]} = the VMA before it (either may be null). */
    public Vma[] findVmaPrev(final long addr) {
        final Vma v = findVma(addr);
        return new Vma[] {v, v != null ? v.prev : tree.last};
    }

    /** {@code find_vma_intersection}: the first VMA overlapping {@code [start, end)}, or null. */
    public Vma findVmaIntersection(final long start, final long end) {
        final Vma v = findVma(start);
        return v != null && v.start < end ? v : null;
    }

    /** {@code vma_lookup}: the VMA containing {@code addr}, or null. */
    public Vma vmaLookup(final long addr) {
        final Vma v = findVma(addr);
        return v != null && v.start <= addr ? v : null;
    }

    /** {@code find_extend_vma}: the VMA containing addr, growing a stack down to it when allowed; or null. */
    public synchronized Vma findExtendVma(final long addr) {
        final long a = addr & PAGE_MASK;
        final Vma v = findVma(a);
        if (v != null && v.start <= a) {
            return v;
        }
        if (v != null && (v.flags & VM_GROWSDOWN) != 0 && expandDownwards(v, a) == 0) {
            return v;
        }
        return null;
    }

    /** {@code vmacache_find_calls} of all threads on this mm. */
    public long vmacacheFindCalls() {
        long n = 0;
        for (final VmaCache c : caches) {
            n += c.findCalls;
        }
        return n;
    }

    /** {@code vmacache_find_hits} of all threads on this mm. */
    public long vmacacheFindHits() {
        long n = 0;
        for (final VmaCache c : caches) {
            n += c.findHits;
        }
        return n;
    }

    /**
     * {@code mmap_assert_locked(mm)}, for {@code assert}: true when the calling thread holds this mm's mmap lock (the
     * model's lock is this object's monitor, always taken exclusively, so a read-locked path holds it too); an
     * {@link AssertionError} naming the thread otherwise.
     */
    boolean mmapAssertLocked() {
        if (!Thread.holdsLock(this)) {
            throw new AssertionError("mmap_assert_locked: thread " + Thread.currentThread().getName()
                + " does not hold the mmap lock of " + this);
        }
        return true;
    }

    /** {@code mmap_assert_write_locked(mm)}, for {@code assert}: as {@link #mmapAssertLocked} (one exclusive lock). */
    boolean mmapAssertWriteLocked() {
        if (!Thread.holdsLock(this)) {
            throw new AssertionError("mmap_assert_write_locked: thread " + Thread.currentThread().getName()
                + " does not hold the mmap lock of " + this);
        }
        return true;
    }

    private void invalidate() {
        seqnum++;
    }

    // ------------------------------------------------------------------------------------------------ tree edits

    void insertVma(final Vma v) {
        tree.insert(v);
        invalidate();
    }

    void removeVma(final Vma v) {
        if (pageTables != null) {
            pageTables.zapRange(v, v.start, v.end);
            pageTables.removeGuards(v.start, v.end); // unmap_vmas: ZAP_FLAG_DROP_MARKER
        }
        tree.erase(v);
        invalidate();
    }

    private void setRange(final Vma v, final long start, final long end, final long pgoff) {
        v.start = start;
        v.end = end;
        v.pgoff = pgoff;
        tree.adjusted(v);
        invalidate();
    }

    /** {@code __split_vma}: splits at addr; {@code newBelow}: the new VMA is the lower part. Returns it. */
    private Vma splitVmaUnchecked(final Vma v, final long addr, final boolean newBelow) {
        final Vma n = v.dup();
        final long delta = (addr - v.start) >>> 12;
        if (newBelow) {
            n.end = addr;
            setRange(v, addr, v.end, v.pgoff + delta);
        } else {
            n.start = addr;
            n.pgoff = v.pgoff + delta;
            setRange(v, v.start, addr, v.pgoff);
        }
        insertVma(n);
        return n;
    }

    /** {@code split_vma}: refuses with ENOMEM when the map count is at its limit. Returns 0 or -errno. */
    private int splitVma(final Vma v, final long addr, final boolean newBelow) {
        if (tree.count >= maxMapCount()) {
            return -ENOMEM;
        }
        splitVmaUnchecked(v, addr, newBelow);
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ merging

    /** The state of one merge attempt ({@code struct vma_merge_struct}). */
    private static final class Vmg {
        Vma prev;
        Vma next;
        Vma middle;
        Vma copiedFrom;
        long start;
        long end;
        long pgoff;
        long flags;
        VmFile file;
        AnonVma anonVma;
        String anonName;
        boolean justExpand;
    }

    private static boolean hadUncowedParents(final Vma v) {
        return v != null && v.anonVma != null && v.anonVma.parent != null;
    }

    private static boolean isMergeableVma(final Vmg g, final Vma v) {
        return ((v.flags ^ g.flags) & ~VmFlags.VM_SOFTDIRTY) == 0 && v.file == g.file
            && v.specialName == null && java.util.Objects.equals(v.anonName, g.anonName);
    }

    private static boolean isMergeableAnonVma(final Vmg g, final Vma tgt) {
        final AnonVma tgtAnon = tgt.anonVma;
        final AnonVma srcAnon = g.anonVma;
        if (tgtAnon == null && srcAnon != null) {
            return !hadUncowedParents(g.middle) && !hadUncowedParents(g.copiedFrom);
        }
        if (tgtAnon != null && srcAnon == null) {
            return !hadUncowedParents(tgt);
        }
        return srcAnon == tgtAnon;
    }

    private static boolean areAnonVmasCompatible(final Vma a, final Vma b) {
        if (a.anonVma != null && b.anonVma != null && a.anonVma != b.anonVma) {
            return false;
        }
        if (a.anonVma == null && b.anonVma == null) {
            return true;
        }
        return !hadUncowedParents(a) && !hadUncowedParents(b);
    }

    private static boolean canMergeBefore(final Vmg g) {
        final long pglen = (g.end - g.start) >>> 12;
        return isMergeableVma(g, g.next) && isMergeableAnonVma(g, g.next) && g.next.pgoff == g.pgoff + pglen;
    }

    private static boolean canMergeAfter(final Vmg g) {
        return isMergeableVma(g, g.prev) && isMergeableAnonVma(g, g.prev)
            && g.prev.pgoff + g.prev.pages() == g.pgoff;
    }

    private static void dupAnonVma(final Vma dst, final Vma src) {
        if (src != null && src.anonVma != null && dst.anonVma == null) {
            dst.anonVma = src.anonVma;
        }
    }

    /**
     * {@code vma_merge_new_range}: merges the new range {@code [g.start, g.end)} (not yet in the tree) with the
     * adjacent prev and/or next. Returns the VMA that now covers it, or null when nothing merges.
     */
    private Vma mergeNewRange(final Vmg g) {
        final Vma prev = g.prev;
        final Vma next = g.next;
        if ((g.flags & VM_SPECIAL) != 0) {
            return null;
        }
        final boolean left = prev != null && prev.end == g.start && canMergeAfter(g);
        final boolean right = !g.justExpand && next != null && next.start == g.end && canMergeBefore(g)
            && (!left || areAnonVmasCompatible(prev, next));
        if (!left && !right) {
            return null;
        }
        if (left && right) {
            final long end = next.end;
            dupAnonVma(prev, next);
            dupAnonVma(prev, g.copiedFrom);
            removeVma(next);
            setRange(prev, prev.start, end, prev.pgoff);
            return prev;
        }
        if (left) {
            dupAnonVma(prev, g.copiedFrom);
            setRange(prev, prev.start, g.end, prev.pgoff);
            return prev;
        }
        dupAnonVma(next, g.copiedFrom);
        setRange(next, g.start, next.end, g.pgoff);
        return next;
    }

    /**
     * {@code vma_merge_existing_range}: {@code [start, end)} of {@code middle} is getting new flags / name; merge
     * it with its neighbours if they then match. Returns the merged VMA or null.
     */
    private Vma mergeExistingRange(final Vmg g) {
        final Vma middle = g.middle;
        final boolean leftSide = g.start == middle.start;
        final boolean rightSide = g.end == middle.end;
        if ((g.flags & VM_SPECIAL) != 0 || middle.specialName != null || (!leftSide && !rightSide)) {
            return null;
        }
        final Vma prev = middle.prev;
        final Vma next = middle.next;
        g.prev = prev;
        g.next = next;
        final boolean mergeLeft = leftSide && prev != null && prev.end == g.start && canMergeAfter(g);
        final boolean mergeRight = rightSide && next != null && next.start == g.end && canMergeBefore(g)
            && (!mergeLeft || areAnonVmasCompatible(prev, next));
        if (!mergeLeft && !mergeRight) {
            return null;
        }
        if (mergeLeft && mergeRight) {
            if (prev.anonVma == null) {
                dupAnonVma(prev, next.anonVma != null ? next : middle);
            }
            final long end = next.end;
            removeVma(middle);
            removeVma(next);
            setRange(prev, prev.start, end, prev.pgoff);
            return prev;
        }
        if (mergeLeft) {
            dupAnonVma(prev, middle);
            if (rightSide) {
                removeVma(middle);
            } else {
                setRange(middle, g.end, middle.end, middle.pgoff + ((g.end - middle.start) >>> 12));
            }
            setRange(prev, prev.start, g.end, prev.pgoff);
            return prev;
        }
        dupAnonVma(next, middle);
        if (leftSide) {
            removeVma(middle);
        } else {
            setRange(middle, middle.start, g.start, middle.pgoff);
        }
        setRange(next, g.start, next.end, g.pgoff);
        return next;
    }

    /** The errno of the last failed {@link #vmaModify} or {@link #fail} (the kernel's {@code ERR_PTR}). */
    int modifyError;

    /**
     * {@code vma_modify}: merge {@code [start, end)} of {@code vma} (which gets {@code newFlags} and
     * {@code newName}) with its neighbours, or split it out. Returns the VMA covering exactly the range (whose
     * flags/name the caller then sets), or null with {@link #modifyError} set.
     */
    Vma vmaModify(final Vma vma, final long start, final long end, final long newFlags,
                          final String newName) {
        final Vmg g = new Vmg();
        g.middle = vma;
        g.start = start;
        g.end = end;
        g.flags = newFlags;
        g.file = vma.file;
        g.anonVma = vma.anonVma;
        g.anonName = newName;
        g.pgoff = vma.pgoff + ((start - vma.start) >>> 12);
        final Vma merged = mergeExistingRange(g);
        if (merged != null) {
            return merged;
        }
        if (vma.start < start) {
            final int err = splitVma(vma, start, true);
            if (err != 0) {
                modifyError = err;
                return null;
            }
        }
        if (vma.end > end) {
            final int err = splitVma(vma, end, false);
            if (err != 0) {
                modifyError = err;
                return null;
            }
        }
        return vma;
    }

    // --------------------------------------------------------------------- test hooks (tools/testing/vma)

    /** {@code alloc_and_link_vma}: links an anonymous VMA as given, no merging (tests). */
    Vma linkVma(final long start, final long end, final long pgoff, final long flags) {
        final Vma v = new Vma(this, start, end, flags, pgoff);
        insertVma(v);
        return v;
    }

    /** {@code merge_new}: tries to merge a new range with its neighbours (tests); null when nothing merges. */
    Vma mergeNew(final long start, final long end, final long pgoff, final long flags, final AnonVma anonVma) {
        final Vmg g = new Vmg();
        g.prev = tree.findBefore(start);
        g.next = g.prev == null ? tree.first : g.prev.next;
        g.start = start;
        g.end = end;
        g.pgoff = pgoff;
        g.flags = flags;
        g.anonVma = anonVma;
        return mergeNewRange(g);
    }

    /** {@code vma_modify_flags} (tests): merge or split; the caller sets the flags on the result. */
    Vma modifyFlags(final Vma vma, final long start, final long end, final long flags) {
        final Vma r = vmaModify(vma, start, end, flags, vma.anonName);
        if (r != null) {
            r.flags = flags;
        }
        return r;
    }

    int lastModifyError() {
        return modifyError;
    }

    // ------------------------------------------------------------------------------------------------ placement

    private static boolean hintValid(final long addr, final long len) {
        if (Long.compareUnsigned(TASK_SIZE - len, addr) < 0) {
            return false;
        }
        return (addr > DEFAULT_MAP_WINDOW) == (addr + len > DEFAULT_MAP_WINDOW);
    }

    private long archGetUnmappedAreaBottomup(final long addr0, final long len, final int flags) {
        if ((flags & Mman.MAP_FIXED) != 0) {
            return addr0;
        }
        if (len > TASK_SIZE) {
            return -ENOMEM;
        }
        if (addr0 != 0) {
            final long addr = pageAlign(addr0);
            if (hintValid(addr, len)) {
                final Vma v = findVma(addr);
                if (v == null || addr + len <= tree.startGap(v)) {
                    return addr;
                }
            }
        }
        final long r = tree.lowestGap(len, Math.max(mmapLegacyBase, mmapMinAddr), TASK_SIZE);
        return r == -1 ? -ENOMEM : r;
    }

    private long archGetUnmappedAreaTopdown(final long addr0, final long len, final int flags) {
        if (len > TASK_SIZE) {
            return -ENOMEM;
        }
        if ((flags & Mman.MAP_FIXED) != 0) {
            return addr0;
        }
        if (addr0 != 0) {
            final long addr = addr0 & PAGE_MASK;
            if (hintValid(addr, len)) {
                final Vma v = findVma(addr);
                if (v == null || addr + len <= tree.startGap(v)) {
                    return addr;
                }
            }
        }
        final long r = tree.highestGap(len, Math.max(PAGE_SIZE, mmapMinAddr), mmapBase);
        if (r != -1) {
            return r;
        }
        return archGetUnmappedAreaBottomup(addr0, len, flags);
    }

    private long mmGetUnmappedArea(final long addr, final long len, final int flags) {
        return topdown ? archGetUnmappedAreaTopdown(addr, len, flags)
            : archGetUnmappedAreaBottomup(addr, len, flags);
    }

    /** {@code __thp_get_unmapped_area} then the plain search ({@code thp_get_unmapped_area_vmflags}). */
    private long thpGetUnmappedArea(final long addr, final long len, final long pgoff, final int flags) {
        final long off = pgoff << 12;
        final long offEnd = off + len;
        final long offAlign = (off + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
        if (!(offEnd <= offAlign || offEnd - offAlign < PMD_SIZE)) {
            final long lenPad = len + PMD_SIZE;
            if (lenPad >= len && off + lenPad >= off) {
                long ret = mmGetUnmappedArea(addr, lenPad, flags);
                if (!Errno.isError(ret)) {
                    if (ret == addr) {
                        return addr;
                    }
                    final long offSub = (off - ret) & (PMD_SIZE - 1);
                    if (topdown && offSub == 0) {
                        return ret + PMD_SIZE;
                    }
                    return ret + offSub;
                }
            }
        }
        return mmGetUnmappedArea(addr, len, flags);
    }

    /**
     * {@code __get_unmapped_area}: where a mapping of {@code len} bytes goes. Anonymous private mappings with no
     * hint and a multiple of 2 MiB and ext4 file mappings covering a 2 MiB-aligned file block are THP-aligned.
     */
    public synchronized long getUnmappedArea(final VmFile file, final long addr, final long len, final long pgoff,
                                             final int flags) {
        if (Long.compareUnsigned(len, TASK_SIZE) > 0) {
            return -ENOMEM;
        }
        if (placementOverride != -1 && (flags & Mman.MAP_FIXED) == 0) {
            final long o = placementOverride;
            placementOverride = -1;
            if ((o & ~PAGE_MASK) == 0 && Long.compareUnsigned(o, mmapMinAddr) >= 0
                && Long.compareUnsigned(o, TASK_SIZE - len) <= 0 && findVmaIntersection(o, o + len) == null) {
                return o;
            }
        }
        long r;
        if (file != null) {
            r = file.kind == VmFile.Kind.EXT4 ? thpGetUnmappedArea(addr, len, pgoff, flags)
                : mmGetUnmappedArea(addr, len, flags);
        } else if ((flags & Mman.MAP_SHARED) != 0) {
            r = mmGetUnmappedArea(addr, len, flags);
        } else if (addr == 0 && (len & (PMD_SIZE - 1)) == 0) {
            r = thpGetUnmappedArea(addr, len, 0, flags);
        } else {
            r = mmGetUnmappedArea(addr, len, flags);
        }
        if (Errno.isError(r)) {
            return r;
        }
        if (Long.compareUnsigned(r, TASK_SIZE - len) > 0) {
            return -ENOMEM;
        }
        if ((r & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (Long.compareUnsigned(r, mmapMinAddr) < 0) {
            return -EPERM;
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ mmap

    /**
     * {@code mmap(addr, len, prot, flags, fd, off)}: {@code file} is the open file for a file mapping (null with
     * MAP_ANONYMOUS; null without it is EBADF). Returns the address or -errno.
     */
    public synchronized long mmap(final long addr, final long len, final int prot, final int flags,
                                  final VmFile file, final long off) {
        if ((off & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        VmFile f = null;
        if ((flags & Mman.MAP_ANONYMOUS) == 0) {
            if (file == null) {
                return -EBADF;
            }
            if ((flags & Mman.MAP_HUGETLB) != 0) {
                return -EINVAL;
            }
            f = file;
        } else if ((flags & Mman.MAP_HUGETLB) != 0) {
            return -ENOMEM; // no huge pages are reserved in the model
        }
        if (f != null && f.inode.path.equals("/dev/zero")) {
            // mmap of /dev/zero: private becomes anonymous memory, shared a new shmem object
            f = null;
            final int fl = flags | Mman.MAP_ANONYMOUS;
            return doMmap(null, addr, len, prot, fl, Long.divideUnsigned(off, PAGE_SIZE));
        }
        return doMmap(f, addr, len, prot, flags, Long.divideUnsigned(off, PAGE_SIZE));
    }

    private long doMmap(final VmFile file, long addr, long len, final int prot, int flags, long pgoff) {
        if (len == 0) {
            return -EINVAL;
        }
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0) {
            flags |= Mman.MAP_FIXED;
        }
        if ((flags & Mman.MAP_FIXED) == 0) {
            addr &= PAGE_MASK;
            if (addr != 0 && addr < mmapMinAddr) {
                addr = pageAlign(mmapMinAddr);
            }
        }
        len = pageAlign(len);
        if (len == 0) {
            return -ENOMEM;
        }
        if (pgoff + (len >>> 12) < pgoff) {
            return -EOVERFLOW;
        }
        if (tree.count > maxMapCount()) {
            return -ENOMEM;
        }
        long vmFlags = VmFlags.protToFlags(prot) | defFlags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        if ((flags & Mman.MAP_GROWSDOWN) != 0) {
            vmFlags |= VM_GROWSDOWN;
        }
        if ((flags & Mman.MAP_LOCKED) != 0) {
            vmFlags |= VM_LOCKED;
        }
        if ((flags & Mman.MAP_STACK) != 0) {
            vmFlags |= VM_NOHUGEPAGE;
        }
        final long a = getUnmappedArea(file, addr, len, pgoff, flags);
        if (Errno.isError(a)) {
            return a;
        }
        addr = a;
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && findVmaIntersection(addr, addr + len) != null) {
            return -EEXIST;
        }
        if (file != null) {
            switch (flags & Mman.MAP_TYPE) {
                case Mman.MAP_SHARED, Mman.MAP_SHARED_VALIDATE -> {
                    if ((flags & Mman.MAP_TYPE) == Mman.MAP_SHARED) {
                        flags &= Mman.LEGACY_MAP_MASK;
                    } else if ((flags & ~(Mman.LEGACY_MAP_MASK | Mman.MAP_FIXED_NOREPLACE)) != 0) {
                        return -EOPNOTSUPP;
                    }
                    if ((prot & Mman.PROT_WRITE) != 0 && !file.writable) {
                        return -EACCES;
                    }
                    vmFlags |= VM_SHARED | VM_MAYSHARE;
                    if (!file.writable) {
                        vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
                    }
                    if (!file.readable) {
                        return -EACCES;
                    }
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                }
                case Mman.MAP_PRIVATE -> {
                    if (!file.readable) {
                        return -EACCES;
                    }
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                }
                default -> {
                    return -EINVAL;
                }
            }
        } else {
            switch (flags & Mman.MAP_TYPE) {
                case Mman.MAP_SHARED -> {
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                    pgoff = 0;
                    vmFlags |= VM_SHARED | VM_MAYSHARE;
                }
                case Mman.MAP_PRIVATE -> pgoff = addr >>> 12;
                default -> {
                    return -EINVAL;
                }
            }
        }
        if ((flags & Mman.MAP_NORESERVE) != 0) {
            vmFlags |= VM_NORESERVE;
        }
        final long r = mmapRegion(file, addr, len, vmFlags, pgoff);
        if (!Errno.isError(r) && ((vmFlags & VM_LOCKED) != 0
            || (flags & (Mman.MAP_POPULATE | Mman.MAP_NONBLOCK)) == Mman.MAP_POPULATE)) {
            populate(r, r + len);
        }
        return r;
    }

    /** {@code mmap_region}: unmaps what is in the way, then merges or inserts the new VMA. */
    private long mmapRegion(final VmFile file, final long addr, final long len, long vmFlags, final long pgoff) {
        final long end = addr + len;
        final Vma first = findVma(addr);
        if (first != null && first.start < end) {
            if (addr > first.start && end < first.end && tree.count >= maxMapCount()) {
                return -ENOMEM;
            }
        }
        if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE) {
            // __mmap_setup: charge the new pages less the accounted ones this mapping replaces
            long charged = len >>> 12;
            for (Vma v = first; v != null && v.start < end; v = v.next) {
                if ((v.flags & VM_ACCOUNT) != 0) {
                    charged -= (Math.min(end, v.end) - Math.max(addr, v.start)) >>> 12;
                }
            }
            if (vmEnoughMemory(charged) != 0) {
                return -ENOMEM;
            }
            vmFlags |= VM_ACCOUNT;
        }
        if (first != null && first.start < end) {
            unmapRange(first, addr, end);
        }
        final Vmg g = new Vmg();
        g.prev = tree.findBefore(addr);
        g.next = g.prev == null ? tree.first : g.prev.next;
        g.start = addr;
        g.end = end;
        g.flags = vmFlags;
        g.file = file;
        g.pgoff = pgoff;
        Vma vma = (g.prev != null || g.next != null) ? mergeNewRange(g) : null;
        if (vma == null) {
            vma = new Vma(this, addr, end, vmFlags, pgoff);
            if (file != null) {
                vma.file = file;
            } else if ((vmFlags & VM_SHARED) != 0) {
                vma.file = VmFile.shmemZero(len);
            }
            insertVma(vma);
        }
        if ((vmFlags & VM_LOCKED) != 0 && ((vmFlags & VM_SPECIAL) != 0)) {
            vma.flags &= ~VM_LOCKED_MASK;
        }
        return addr;
    }

    // ------------------------------------------------------------------------------------------------ munmap

    /** Unmaps {@code [start, end)} beginning at {@code vma} (the first overlapping VMA), splitting at the ends. */
    private void unmapRange(final Vma vma, final long start, final long end) {
        if (start > vma.start) {
            splitVmaUnchecked(vma, start, true);
        }
        Vma v = vma;
        while (v != null && v.start < end) {
            if (v.end > end) {
                splitVmaUnchecked(v, end, false);
            }
            final Vma nextV = v.next;
            removeVma(v);
            v = nextV;
        }
    }

    /** {@code do_vmi_align_munmap}: the map-count check, then the unmap. */
    private int alignMunmap(final Vma vma, final long start, final long end) {
        if (start > vma.start && end < vma.end && tree.count >= maxMapCount()) {
            return -ENOMEM;
        }
        unmapRange(vma, start, end);
        return 0;
    }

    /** {@code do_vmi_munmap}. */
    private int doMunmap(final long start, final long len) {
        if ((start & ~PAGE_MASK) != 0 || Long.compareUnsigned(start, TASK_SIZE) > 0
            || Long.compareUnsigned(len, TASK_SIZE - start) > 0) {
            return -EINVAL;
        }
        final long end = start + pageAlign(len);
        if (end == start) {
            return -EINVAL;
        }
        final Vma vma = findVma(start);
        if (vma == null || vma.start >= end) {
            return 0;
        }
        return alignMunmap(vma, start, end);
    }

    /** {@code munmap(addr, len)}: 0 or -errno. */
    public synchronized long munmap(final long addr, final long len) {
        return doMunmap(addr, len);
    }

    // ------------------------------------------------------------------------------------------------ mprotect

    /** {@code mprotect(start, len, prot)}: 0 or -errno; changes made before a failure stay (as in the kernel). */
    public synchronized long mprotect(long start, long len, int prot) {
        final int grows = prot & (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        prot &= ~(Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        if (grows == (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP)) {
            return -EINVAL;
        }
        if ((start & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (len == 0) {
            return 0;
        }
        len = pageAlign(len);
        long end = start + len;
        if (Long.compareUnsigned(end, start) <= 0) {
            return -ENOMEM;
        }
        if ((prot & ~(Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC | Mman.PROT_SEM)) != 0) {
            return -EINVAL;
        }
        Vma vma = findVma(start);
        if (vma == null || vma.start >= end) {
            return -ENOMEM;
        }
        if ((grows & Mman.PROT_GROWSDOWN) != 0) {
            if (vma.start >= end) {
                return -ENOMEM;
            }
            start = vma.start;
            if ((vma.flags & VM_GROWSDOWN) == 0) {
                return -EINVAL;
            }
        } else if (vma.start > start) {
            return -ENOMEM;
        } else if (grows != 0) {
            return -EINVAL;
        }
        long nstart = start;
        long tmp = vma.start;
        int error = 0;
        while (vma != null && vma.start < end) {
            if (vma.start != tmp) {
                error = -ENOMEM;
                break;
            }
            long newFlags = VmFlags.protToFlags(prot) | (vma.flags & ~VM_ACCESS_FLAGS);
            if ((newFlags & ~(newFlags >>> 4) & VM_ACCESS_FLAGS) != 0) {
                error = -EACCES;
                break;
            }
            tmp = Math.min(vma.end, end);
            final Vma r = mprotectFixup(vma, nstart, tmp, newFlags);
            if (r == null) {
                error = modifyError;
                break;
            }
            tmp = r.end;
            nstart = tmp;
            vma = r.next;
        }
        if (error == 0 && tmp < end) {
            error = -ENOMEM;
        }
        return error;
    }

    private Vma mprotectFixup(final Vma vma, final long start, final long end, long newFlags) {
        final long oldFlags = vma.flags;
        if (newFlags == oldFlags) {
            return vma;
        }
        if ((newFlags & VM_WRITE) != 0) {
            if ((oldFlags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) == 0) {
                if (vmEnoughMemory((end - start) >>> 12) != 0) {
                    return fail(-ENOMEM); // mprotect_fixup charges a private mapping made writable
                }
                newFlags |= VM_ACCOUNT;
            }
        } else if ((oldFlags & VM_ACCOUNT) != 0 && vma.isAnonymous() && vma.anonVma == null) {
            newFlags &= ~VM_ACCOUNT;
        }
        final Vma r = vmaModify(vma, start, end, newFlags, vma.anonName);
        if (r == null) {
            return null;
        }
        r.flags = newFlags;
        if (pageTables != null) {
            pageTables.changeProtection(r, start, end);
        }
        if ((oldFlags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newFlags & VM_WRITE) != 0) {
            populate(start, end);
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ brk

    /** {@code brk(addr)}: the new break, or the unchanged one on failure (brk(0) queries it). */
    public synchronized long brk(final long newBrkReq) {
        final long origBrk = brk;
        if (newBrkReq < startBrk) {
            return brk;
        }
        final long newBrk = pageAlign(newBrkReq);
        final long oldBrk = pageAlign(brk);
        if (oldBrk == newBrk) {
            brk = newBrkReq;
            return brk;
        }
        if (newBrkReq <= brk) {
            final Vma v = findVma(newBrk);
            if (v == null || v.start >= oldBrk) {
                return origBrk;
            }
            brk = newBrkReq;
            if (alignMunmap(v, newBrk, oldBrk) != 0) {
                brk = origBrk;
            }
            return brk;
        }
        // check_brk_limits: a MAP_FIXED get_unmapped_area of the new range
        final long len = newBrk - oldBrk;
        if (len > TASK_SIZE || oldBrk > TASK_SIZE - len || oldBrk < mmapMinAddr) {
            return origBrk;
        }
        final Vma next = findVma(oldBrk);
        if (next != null && next.start < newBrk + PAGE_SIZE + tree.stackGuardGap
            && newBrk + PAGE_SIZE > tree.startGap(next)) {
            return origBrk;
        }
        final Vma p = tree.findBefore(oldBrk);
        final Vma brkVma = p != null && p.start >= startBrk ? p : null;
        if (doBrkFlags(brkVma, oldBrk, len) != 0) {
            return origBrk;
        }
        brk = newBrkReq;
        if ((defFlags & VM_LOCKED) != 0) {
            populate(oldBrk, newBrk); // mm_populate after mlockall(MCL_FUTURE): errors are ignored
        }
        return brk;
    }

    private int doBrkFlags(final Vma vma, final long addr, final long len) {
        final long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | defFlags;
        if (tree.count > maxMapCount()) {
            return -ENOMEM;
        }
        if (vmEnoughMemory(len >>> 12) != 0) {
            return -ENOMEM; // do_brk_flags: security_vm_enough_memory_mm
        }
        if (vma != null && vma.end == addr) {
            final Vmg g = new Vmg();
            g.prev = vma;
            g.next = vma.next;
            g.start = addr;
            g.end = addr + len;
            g.flags = flags;
            g.pgoff = addr >>> 12;
            g.justExpand = true;
            if (mergeNewRange(g) != null) {
                return 0;
            }
        }
        insertVma(new Vma(this, addr, addr + len, flags, addr >>> 12));
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ mremap

    /** The state of one mremap ({@code struct vma_remap_struct}). */
    private static final class Vrm {
        Vma vma;
        long addr;
        long oldLen;
        long newLen;
        int flags;
        long newAddr;
        int type; // 0 no resize, 1 shrink, 2 expand

        boolean impliesNewAddr() {
            return (flags & (Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP)) != 0;
        }
    }

    private static final int NO_RESIZE = 0;
    private static final int SHRINK = 1;
    private static final int EXPAND = 2;

    /** {@code mremap(addr, old_len, new_len, flags, new_addr)}: the new address or -errno. */
    public synchronized long mremap(final long addr, final long oldLen, final long newLen, final int flags,
                                    final long newAddr) {
        final Vrm vrm = new Vrm();
        vrm.addr = addr;
        vrm.oldLen = pageAlign(oldLen);
        vrm.newLen = pageAlign(newLen);
        vrm.flags = flags;
        vrm.newAddr = newAddr;
        if ((flags & ~(Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP)) != 0) {
            return -EINVAL;
        }
        if ((addr & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (vrm.newLen == 0 || Long.compareUnsigned(vrm.newLen, TASK_SIZE) > 0) {
            return -EINVAL;
        }
        if (vrm.impliesNewAddr()) {
            if (newAddr > TASK_SIZE - vrm.newLen || newAddr < 0) {
                return -EINVAL;
            }
            if ((newAddr & ~PAGE_MASK) != 0) {
                return -EINVAL;
            }
            if ((flags & Mman.MREMAP_MAYMOVE) == 0) {
                return -EINVAL;
            }
            if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && vrm.oldLen != vrm.newLen) {
                return -EINVAL;
            }
            if (addr + vrm.oldLen > newAddr && newAddr + vrm.newLen > addr) {
                return -EINVAL;
            }
            if (tree.count + 2 >= maxMapCount() - 3) {
                return -ENOMEM;
            }
        }
        if ((flags & Mman.MREMAP_FIXED) != 0 && vrm.oldLen == vrm.newLen) {
            return remapMove(vrm);
        }
        vrm.vma = vmaLookup(addr);
        final long res = checkPrepVma(vrm);
        if (res != 0) {
            return res;
        }
        return vrm.impliesNewAddr() ? mremapTo(vrm) : mremapAt(vrm);
    }

    private long checkPrepVma(final Vrm vrm) {
        final Vma vma = vrm.vma;
        if (vma == null) {
            return -EFAULT;
        }
        vrm.type = vrm.oldLen == vrm.newLen ? NO_RESIZE : vrm.oldLen > vrm.newLen ? SHRINK : EXPAND;
        if (!vrm.impliesNewAddr()) {
            vrm.newAddr = vrm.addr;
        }
        if (vrm.type != EXPAND && !vrm.impliesNewAddr()) {
            return 0;
        }
        long oldLen = vrm.oldLen;
        final long newLen = vrm.newLen;
        if (oldLen == 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) == 0) {
            if (pager != null) {
                pager.warnOnce("mremap_dup_private", this,
                    "attempted to duplicate a private mapping with mremap.  This is not supported.");
            }
            return -EINVAL;
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0) {
            return -EINVAL;
        }
        if (vrm.type == SHRINK) {
            oldLen = newLen;
        }
        if (oldLen > vma.end - vrm.addr) {
            return -EFAULT;
        }
        if (newLen == oldLen) {
            return 0;
        }
        final long pgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        if (pgoff + (newLen >>> 12) < pgoff) {
            return -EINVAL;
        }
        if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0) {
            return -EFAULT;
        }
        // vrm_calc_charge: an accounted mapping charges its growth (a DONTUNMAP move: all of its new length)
        if ((vma.flags & VM_ACCOUNT) != 0 && (vrm.type == EXPAND || (vrm.flags & Mman.MREMAP_DONTUNMAP) != 0)) {
            final long charged = (vrm.flags & Mman.MREMAP_DONTUNMAP) != 0 ? newLen : newLen - vrm.oldLen;
            if (vmEnoughMemory(charged >>> 12) != 0) {
                return -ENOMEM;
            }
        }
        return 0;
    }

    private long mremapAt(final Vrm vrm) {
        switch (vrm.type) {
            case NO_RESIZE:
                return vrm.addr;
            case SHRINK: {
                final int err = doMunmap(vrm.addr + vrm.newLen, vrm.oldLen - vrm.newLen);
                return err != 0 ? err : vrm.addr;
            }
            default:
                return expandVma(vrm);
        }
    }

    private long expandVma(final Vrm vrm) {
        final Vma vma = vrm.vma;
        final long delta = vrm.newLen - vrm.oldLen;
        if (vma.end - vrm.addr == vrm.oldLen && vmaExpandable(vma, delta)) {
            final Vmg g = new Vmg();
            g.prev = vma;
            g.next = vma.next;
            g.middle = vma;
            g.start = vma.end;
            g.end = vma.end + delta;
            g.flags = vma.flags;
            g.file = vma.file;
            g.anonVma = vma.anonVma;
            g.anonName = vma.anonName;
            g.pgoff = vma.pgoff + vma.pages();
            if (mergeNewRange(g) == null) {
                return -ENOMEM;
            }
            if ((vma.flags & VM_LOCKED) != 0) {
                populate(vrm.addr + vrm.oldLen, vrm.addr + vrm.newLen);
            }
            return vrm.addr;
        }
        if ((vrm.flags & Mman.MREMAP_MAYMOVE) == 0) {
            return -ENOMEM;
        }
        final long err = setNewAddr(vrm);
        if (err != 0) {
            return err;
        }
        return moveVma(vrm);
    }

    private boolean vmaExpandable(final Vma vma, final long delta) {
        final long end = vma.end + delta;
        if (end < vma.end) {
            return false;
        }
        if (findVmaIntersection(vma.end, end) != null) {
            return false;
        }
        return end - vma.start <= TASK_SIZE && vma.start <= TASK_SIZE - (end - vma.start);
    }

    private long setNewAddr(final Vrm vrm) {
        final Vma vma = vrm.vma;
        final long pgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        final long hint = vrm.impliesNewAddr() ? vrm.newAddr : 0;
        int mapFlags = 0;
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            mapFlags |= Mman.MAP_FIXED;
        }
        if ((vma.flags & VM_MAYSHARE) != 0) {
            mapFlags |= Mman.MAP_SHARED;
        }
        final long res = getUnmappedArea(vma.file, hint, vrm.newLen, pgoff, mapFlags);
        if (Errno.isError(res)) {
            return res;
        }
        vrm.newAddr = res;
        return 0;
    }

    private long mremapTo(final Vrm vrm) {
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            final int err = doMunmap(vrm.newAddr, vrm.newLen);
            if (err != 0) {
                return err;
            }
            vrm.vma = vmaLookup(vrm.addr);
            if (vrm.vma == null) {
                return -EFAULT;
            }
        }
        if (vrm.type == SHRINK) {
            final int err = doMunmap(vrm.addr + vrm.newLen, vrm.oldLen - vrm.newLen);
            if (err != 0) {
                return err;
            }
            vrm.vma = vmaLookup(vrm.addr);
            if (vrm.vma == null) {
                return -EFAULT;
            }
            vrm.oldLen = vrm.newLen;
        }
        final long err = setNewAddr(vrm);
        if (err != 0) {
            return err;
        }
        return moveVma(vrm);
    }

    /** {@code remap_move}: a same-length MREMAP_FIXED move, possibly of several VMAs (6.17+). */
    private long remapMove(final Vrm vrm) {
        final long start = vrm.addr;
        final long end = vrm.addr + vrm.oldLen;
        long target = vrm.newAddr;
        long res = -EFAULT;
        long lastEnd = 0;
        boolean seen = false;
        long pos = start;
        while (true) {
            final Vma vma = findVma(pos);
            if (vma == null || vma.start >= end) {
                break;
            }
            final long a = Math.max(vma.start, start);
            final long l = Math.min(end, vma.end) - a;
            if (!seen && start < vma.start) {
                return -EFAULT;
            }
            final long offset = seen ? vma.start - lastEnd : 0;
            lastEnd = vma.end;
            final Vrm one = new Vrm();
            one.vma = vma;
            one.addr = a;
            one.newAddr = target + offset;
            one.oldLen = l;
            one.newLen = l;
            one.flags = vrm.flags;
            long r = checkPrepVma(one);
            if (r == 0) {
                r = mremapTo(one);
            }
            if (Errno.isError(r)) {
                return r;
            }
            if (!seen) {
                res = r;
            }
            seen = true;
            target = r + l;
            pos = lastEnd; // the iterator continues after the VMA it found, whatever the move did to it
        }
        return res;
    }

    private long moveVma(final Vrm vrm) {
        if (tree.count >= maxMapCount() - 3) {
            return -ENOMEM;
        }
        Vma vma = vrm.vma;
        final long newPgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        final Vma[] src = {vma};
        if (pageTables != null && !pageTables.prepareMove(vrm.addr, vrm.newAddr, vrm.oldLen)) {
            return -ENOMEM; // move_page_tables could not allocate a table: nothing moved
        }
        final Vma newVma = copyVma(src, vrm.newAddr, vrm.newLen, newPgoff);
        vma = src[0];
        if (pageTables != null) {
            pageTables.moveRange(vrm.addr, vrm.newAddr, vrm.oldLen);
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0) {
            vma.flags &= ~VM_LOCKED_MASK;
            if (newVma != vma && vrm.addr == vma.start && vrm.addr + vrm.oldLen == vma.end) {
                vma.anonVma = null;
            }
        } else {
            unmapSourceVma(vma, vrm.addr, vrm.oldLen);
        }
        if ((newVma.flags & VM_LOCKED) != 0 && vrm.newLen > vrm.oldLen) {
            populate(vrm.newAddr + vrm.oldLen, vrm.newAddr + vrm.newLen);
        }
        return vrm.newAddr;
    }

    private void unmapSourceVma(final Vma vma, final long addr, final long len) {
        final boolean accountable = (vma.flags & VM_ACCOUNT) != 0;
        final long vmStart = vma.start;
        final long vmEnd = vma.end;
        if (accountable) {
            vma.flags &= ~VM_ACCOUNT;
        }
        final int err = doMunmap(addr, len);
        if (err != 0) {
            if (accountable) {
                vma.flags |= VM_ACCOUNT;
            }
            return;
        }
        if (accountable) {
            final long end = addr + len;
            if (vmStart < addr) {
                final Vma p = tree.findBefore(addr);
                if (p != null) {
                    p.flags |= VM_ACCOUNT;
                }
            }
            if (vmEnd > end) {
                final Vma n = findVma(addr);
                if (n != null) {
                    n.flags |= VM_ACCOUNT;
                }
            }
        }
    }

    /** {@code copy_vma}: the destination VMA of a move, merged with its new neighbours when possible. */
    private Vma copyVma(final Vma[] vmap, final long addr, final long len, long pgoff) {
        final Vma vma = vmap[0];
        if (vma.isAnonymous() && vma.anonVma == null) {
            pgoff = addr >>> 12;
        }
        final Vmg g = new Vmg();
        g.prev = tree.findBefore(addr);
        g.next = g.prev == null ? tree.first : g.prev.next;
        g.middle = vma;
        g.copiedFrom = vma;
        g.start = addr;
        g.end = addr + len;
        g.flags = vma.flags;
        g.file = vma.file;
        g.anonVma = vma.anonVma;
        g.anonName = vma.anonName;
        g.pgoff = pgoff;
        final long vmaStart = vma.start;
        final Vma merged = mergeNewRange(g);
        if (merged != null) {
            if (vmaStart >= merged.start && vmaStart < merged.end) {
                vmap[0] = merged;
            }
            return merged;
        }
        final Vma n = vma.dup();
        n.start = addr;
        n.end = addr + len;
        n.pgoff = pgoff;
        insertVma(n);
        return n;
    }

    // ------------------------------------------------------------------------------------------------ madvise

    /** {@code madvise(start, len, behavior)}: 0 or -errno. */
    public synchronized long madvise(final long start, final long lenIn, final int behavior) {
        return Madvise.madvise(this, start, lenIn, behavior);
    }

    /** {@code vma_modify}'s error channel: sets {@link #modifyError} and returns null (an {@code ERR_PTR}). */
    Vma fail(final int errno) {
        modifyError = errno;
        return null;
    }


    // ------------------------------------------------------------------------------------------------ mlock

    /** {@code mlock(start, len)}: 0 or -errno; the locked range is faulted in. */
    public synchronized long mlock(final long start, final long len) {
        return Mlock.mlock(this, start, len);
    }

    /** {@code MLOCK_ONFAULT}: the only flag {@code mlock2} accepts (include/uapi/asm-generic/mman-common.h). */
    public static final int MLOCK_ONFAULT = 1;

    /**
     * {@code mlock2(start, len, flags)} (mm/mlock.c): any flag bit other than {@code MLOCK_ONFAULT} is -EINVAL
     * before the range is looked at.
     */
    public synchronized long mlock2(final long start, final long len, final int flags) {
        return Mlock.mlock2(this, start, len, flags);
    }

    /** {@code munlock(start, len)}. */
    public synchronized long munlock(final long start, final long len) {
        return Mlock.munlock(this, start, len);
    }

    public static final int MCL_CURRENT = 1;
    public static final int MCL_FUTURE = 2;
    public static final int MCL_ONFAULT = 4;

    /** {@code mlockall(flags)}: locks every VMA (MCL_CURRENT) and/or every future one (MCL_FUTURE). */
    public synchronized long mlockall(final int flags) {
        return Mlock.mlockall(this, flags);
    }

    /** {@code munlockall()}. */
    public synchronized long munlockall() {
        return Mlock.munlockall(this);
    }

    /** {@code msync(start, len, flags)}: checks the range (no writeback in the model); 0 or -errno. */
    public synchronized long msync(final long start, final long lenIn, final int flags) {
        return Msync.msync(this, start, lenIn, flags);
    }


    // ------------------------------------------------------------------------------------------------ prctl

    /**
     * {@code prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name)}: names anonymous memory ({@code name}
     * null clears). 0 or -errno.
     */
    public synchronized long setAnonName(final long start, final long lenIn, final String name) {
        return Madvise.setAnonName(this, start, lenIn, name);
    }

    /** {@code prctl(option, arg2, arg3, arg4, name)} for PR_SET_VMA; other options give EINVAL. */
    public synchronized long prctl(final int option, final long arg2, final long start, final long len,
                                   final String name) {
        return Madvise.prctl(this, option, arg2, start, len, name);
    }

    // ------------------------------------------------------------------------------------------------ faults

    /** {@code expand_downwards}: grows a stack VMA down to {@code addr}; 0 or -errno. */
    int expandDownwards(final Vma vma, final long addrIn) {
        final long addr = addrIn & PAGE_MASK;
        if (addr < mmapMinAddr) {
            return -EPERM;
        }
        final Vma prev = vma.prev;
        if (prev != null && (prev.flags & VM_GROWSDOWN) == 0 && (prev.flags & VM_ACCESS_FLAGS) != 0
            && addr - prev.end < tree.stackGuardGap) {
            return -ENOMEM;
        }
        if (vma.end - addr > rlimitStack) {
            return -ENOMEM;
        }
        final long grow = (vma.start - addr) >>> 12;
        setRange(vma, addr, vma.end, vma.pgoff - grow);
        return 0;
    }

    /**
     * {@code handle_mm_fault} for a user access at {@code addr}: 'r', 'w' or 'x'. Finds (or grows) the VMA,
     * checks the access, and maps the page. Throws {@link SegmentationFault} as the kernel would send SIGSEGV.
     * When no page is free the OOM killer runs (with a kernel from {@code Kernel.boot}) and the fault goes on.
     *
     * @throws ProcessKilledException when the OOM killer chose this process (now or earlier): SIGKILL
     * @throws ModelOutOfMemoryException when no page could be had and nothing was killable
     */
    public synchronized void handleMmFault(final long addr, final char access) {
        if (killedPid != 0) {
            throw new ProcessKilledException(killedPid, killedComm); // its access after the OOM kill
        }
        Vma vma = findVma(addr);
        if (vma == null || Long.compareUnsigned(addr, TASK_SIZE) >= 0) {
            throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR);
        }
        if (vma.start > addr) {
            if ((vma.flags & VM_GROWSDOWN) == 0 || expandDownwards(vma, addr) != 0) {
                throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR);
            }
        }
        final boolean write = access == 'w';
        switch (access) {
            case 'w' -> {
                if ((vma.flags & VM_WRITE) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            case 'x' -> {
                if ((vma.flags & VM_EXEC) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            case 'r' -> {
                if ((vma.flags & VM_ACCESS_FLAGS) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            default -> throw new IllegalArgumentException("access '" + access + "' (expected: r, w or x)");
        }
        if (write && (vma.flags & VM_SHARED) == 0 && vma.anonVma == null) {
            anonVmaPrepare(vma);
        }
        if (pageTables != null) {
            final int fault = pageTables.fault(vma, addr & PAGE_MASK, write);
            if (fault == PageTables.VM_FAULT_SIGSEGV) {
                throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR); // a guard region
            }
            if (fault == PageTables.VM_FAULT_SIGBUS) {
                throw new BusError(addr, BusError.BUS_ADRERR);
            }
            if (fault == PageTables.VM_FAULT_OOM) {
                // VM_FAULT_OOM after the OOM killer found nothing to kill (the kernel panics here)
                throw new ModelOutOfMemoryException(String.format("Out of memory: no page for the %s fault at 0x%x, "
                    + "and no killable process (pid 1 and oom_score_adj -1000 are exempt; see dmesg)",
                    write ? "write" : "read", addr));
            }
        }
    }

    /** A user access (the shell's {@code touch}); see {@link #handleMmFault}. */
    public void touch(final long addr, final char access) {
        handleMmFault(addr, access);
    }

    /** {@code __anon_vma_prepare}: reuse a compatible neighbour's anon_vma (next first), else a new one. */
    void anonVmaPrepare(final Vma vma) {
        AnonVma av = null;
        final Vma next = vma.next;
        if (next != null && next.start == vma.end && anonVmaCompatible(vma, next) && next.anonVma != null
            && next.anonVma.parent == null) {
            av = next.anonVma;
        }
        final Vma prev = vma.prev;
        if (av == null && prev != null && prev.end == vma.start && anonVmaCompatible(prev, vma)
            && prev.anonVma != null && prev.anonVma.parent == null) {
            av = prev.anonVma;
        }
        vma.anonVma = av != null ? av : new AnonVma(null);
    }

    private static boolean anonVmaCompatible(final Vma a, final Vma b) {
        return a.end == b.start && a.file == b.file
            && ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VmFlags.VM_SOFTDIRTY)) == 0
            && b.pgoff == a.pgoff + ((b.start - a.start) >>> 12);
    }

    /**
     * {@code __mm_populate}: faults every page of the mapped part of {@code [start, end)} in; 0, or -ENOMEM when
     * out of memory (it stops there, as {@code populate_vma_page_range} does; callers that ignore errors, like
     * MAP_POPULATE and mlockall, keep what was faulted).
     */
    long populate(final long start, final long end) {
        for (Vma v = findVma(start); v != null && v.start < end; v = v.next) {
            if ((v.flags & (VM_IO | VM_PFNMAP)) != 0 || (v.flags & VM_ACCESS_FLAGS) == 0) {
                continue;
            }
            final boolean write = (v.flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
            if (write && v.anonVma == null) {
                anonVmaPrepare(v);
            }
            if (pageTables != null) {
                for (long a = Math.max(start, v.start); a < Math.min(end, v.end); a += PAGE_SIZE) {
                    final int fault = pageTables.fault(v, a, write);
                    if (fault == PageTables.VM_FAULT_OOM) {
                        return -ENOMEM;
                    }
                    if (fault == PageTables.VM_FAULT_SIGBUS || fault == PageTables.VM_FAULT_SIGSEGV) {
                        return -EFAULT; // get_user_pages: VM_FAULT_SIGBUS/SIGSEGV are -EFAULT; the walk stops
                    }
                }
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ setup

    /**
     * Adds a VMA as exec or the loader left it (replay's {@code #BEFORE}): no merging. {@code special} names a
     * special mapping ([vdso], [vvar], ...), which never merges.
     */
    public synchronized Vma addInitialVma(final long start, final long end, final long flags, final long pgoff,
                                          final VmFile file, final String special, final boolean faulted) {
        if ((start & ~PAGE_MASK) != 0 || (end & ~PAGE_MASK) != 0 || Long.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException(String.format("bad VMA range %x-%x", start, end));
        }
        final Vma other = findVmaIntersection(start, end);
        if (other != null) {
            throw new IllegalArgumentException(String.format("VMA %x-%x overlaps %s", start, end, other));
        }
        final Vma v = new Vma(this, start, end, flags | (special != null ? VM_DONTEXPAND : 0), pgoff);
        v.file = file;
        v.specialName = special;
        if (faulted) {
            v.anonVma = new AnonVma(null);
        }
        insertVma(v);
        return v;
    }

    // ------------------------------------------------------------------------------------------------ pages

    /** Gives this mm page tables whose pages come from {@code pager} (without them faults map nothing). */
    public synchronized void attachPager(final Pager pager) {
        if (pageTables != null) {
            throw new IllegalStateException("page tables already attached");
        }
        pageTables = new PageTables(pager, this);
        this.pager = pager;
    }

    private Pager pager;
    /** The pid (and name) of the process this mm belonged to once the OOM killer killed it; 0 while alive. */
    private volatile int killedPid;
    private volatile String killedComm;

    /** Marks this mm as the OOM killer's victim's: later faults end in {@link ProcessKilledException}. */
    void markKilled(final int pid, final String comm) {
        killedComm = comm;
        killedPid = pid;
    }

    /** Reads one user byte at {@code addr} as the process would (faulting it in). */
    public synchronized byte readUser(final long addr) {
        handleMmFault(addr, 'r');
        return pageTables == null ? 0 : pageTables.readByte(addr);
    }

    /** Writes one user byte at {@code addr} as the process would (faulting, copy-on-write). */
    public synchronized void writeUser(final long addr, final byte value) {
        handleMmFault(addr, 'w');
        if (pageTables != null) {
            pageTables.writeByte(addr, value);
        }
    }

    /** The PTE of {@code addr} (0 when not present or no page tables): {@code pfn << 12 | flags}. */
    public synchronized long pte(final long addr) {
        return pageTables == null ? 0 : pageTables.pte(addr);
    }

    /** RSS in pages: {@code [0]} MM_ANONPAGES, {@code [1]} MM_FILEPAGES, {@code [2]} MM_SHMEMPAGES. */
    public synchronized long[] rss() {
        return pageTables == null ? new long[3]
            : new long[] {pageTables.rssAnon, pageTables.rssFile, pageTables.rssShmem};
    }

    /**
     * {@code dup_mmap} for fork: a copy of this address space; private pages are shared copy-on-write, VMAs with
     * VM_DONTCOPY are left out, VM_WIPEONFORK ones come back empty, anon_vmas get a child anon_vma.
     *
     * @throws ModelOutOfMemoryException when a page table of the child could not be had even after the OOM killer
     *         (the half-made child is freed again; fork's -ENOMEM)
     * @throws ProcessKilledException when the OOM killer chose this process meanwhile (the child is freed too)
     */
    public synchronized MmStruct dupMmap() {
        long charge = 0; // dup_mmap charges every accounted VMA it copies
        for (Vma v = tree.first; v != null; v = v.next) {
            if ((v.flags & (VM_ACCOUNT | VM_DONTCOPY)) == VM_ACCOUNT) {
                charge += v.pages();
            }
        }
        if (vmEnoughMemory(charge) != 0) {
            throw new ModelOutOfMemoryException("fork: the overcommit policy refuses the child's " + charge
                + " accounted pages (dup_mmap: ENOMEM; see vm.overcommit_memory)");
        }
        final MmStruct c = new MmStruct(maxMapCount);
        try {
            if (!dupMmapInto(c)) {
                c.exitMmap();
                throw new ModelOutOfMemoryException("fork: out of memory for the child's page tables (dup_mmap: "
                    + "ENOMEM)");
            }
        } catch (final ProcessKilledException e) {
            c.exitMmap();
            throw e;
        }
        return c;
    }

    private boolean dupMmapInto(final MmStruct c) {
        c.mmapBase = mmapBase;
        c.mmapLegacyBase = mmapLegacyBase;
        c.topdown = topdown;
        c.mmapMinAddr = mmapMinAddr;
        c.rlimitStack = rlimitStack;
        c.tree.stackGuardGap = tree.stackGuardGap;
        c.startBrk = startBrk;
        c.brk = brk;
        c.startStack = startStack;
        c.gateVma = gateVma;
        if (pager != null) {
            c.attachPager(pager);
        }
        for (Vma v = tree.first; v != null; v = v.next) {
            if ((v.flags & VM_DONTCOPY) != 0) {
                continue;
            }
            final Vma n = v.dup();
            n.mm = c;
            n.flags &= ~VM_LOCKED_MASK;
            if ((v.flags & VM_WIPEONFORK) != 0) {
                n.anonVma = null;
            } else if (v.anonVma != null) {
                n.anonVma = new AnonVma(v.anonVma);
            }
            c.insertVma(n);
            if (pageTables != null && (v.flags & VM_WIPEONFORK) == 0 && !pageTables.copyTo(c.pageTables, v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The OOM killer's view, read without this mm's lock (racy, as {@code get_mm_rss}): {@code [0]} MM_ANONPAGES,
     * {@code [1]} MM_FILEPAGES, {@code [2]} MM_SHMEMPAGES, {@code [3]} page-table bytes.
     */
    long[] oomCounters() {
        final PageTables pt = pageTables;
        return pt == null ? new long[4] : new long[] {pt.rssAnon, pt.rssFile, pt.rssShmem, pt.tablePages * PAGE_SIZE};
    }

    /**
     * {@code total_vm} in pages read without this mm's lock (for the OOM report of another process): exact when
     * the caller holds the lock or the mm is idle, a best effort while it changes.
     */
    /**
     * Discards the clean lazyfree pages (MADV_FREE) of this mm, as reclaim does under memory pressure; returns how
     * many pages went back to the buddy allocator. The caller holds this mm's lock.
     */
    long reclaimLazyfree() {
        long n = 0;
        if (pageTables != null) {
            for (Vma v = tree.first; v != null; v = v.next) {
                if (v.isAnonymous()) {
                    n += pageTables.reclaimLazyfree(v);
                }
            }
        }
        return n;
    }

    /** The pages of this mm's VM_ACCOUNT VMAs (its share of Committed_AS), read as {@link #totalVmRacy} is. */
    long accountedPagesRacy() {
        long n = 0;
        int left = tree.count + 16;
        try {
            for (Vma v = tree.first; v != null && left-- > 0; v = v.next) {
                if ((v.flags & VM_ACCOUNT) != 0) {
                    n += v.pages();
                }
            }
        } catch (final RuntimeException e) {
            return n; // torn by a concurrent change
        }
        return n;
    }

    /** {@code security_vm_enough_memory_mm(this, pages)}: 0, or -ENOMEM when the overcommit policy refuses. */
    private int vmEnoughMemory(final long pages) {
        return pager == null ? 0 : pager.vmEnoughMemory(this, pages);
    }

    long totalVmRacy() {
        long n = 0;
        int left = tree.count + 16;
        try {
            for (Vma v = tree.first; v != null && left-- > 0; v = v.next) {
                n += v.pages();
            }
        } catch (final RuntimeException e) {
            return n; // torn by a concurrent change
        }
        return n;
    }

    /** {@code exit_mmap}: frees every page and page table; the mm is empty afterwards. */
    public synchronized void exitMmap() {
        final List<Vma> all = vmas();
        if (pageTables != null) {
            pageTables.destroy(all);
            pageTables = null;
        }
        for (final Vma v : all) {
            tree.erase(v);
        }
        invalidate();
    }

    // ------------------------------------------------------------------------------------------------ views

    /** /proc/PID/maps (under the mmap lock, as {@code m_start} takes it for read); see {@link TaskMmu}. */
    public synchronized String maps() {
        return TaskMmu.maps(this);
    }

    /** /proc/PID/smaps: each maps line followed by its memory counters and VmFlags. */
    public synchronized String smaps() {
        return TaskMmu.smaps(this);
    }

    /** Virtual memory totals in pages: {@code [0]} total_vm, {@code [1]} data_vm, {@code [2]} stack_vm,
     *  {@code [3]} exec_vm, {@code [4]} locked_vm. */
    public synchronized long[] vmCounters() {
        return TaskMmu.vmCounters(this);
    }

    /** The memory lines of /proc/PID/status (VmPeak ... VmSwap). */
    public synchronized String statusVm() {
        return TaskMmu.statusVm(this);
    }
}
