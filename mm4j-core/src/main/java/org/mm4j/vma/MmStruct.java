package org.mm4j.vma;

import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_DONTEXPAND;

import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.vma.maple.MapleNodeCache;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * A process address space ({@code struct mm_struct}, Linux 6.18 behaviour): the VMA store, its layout and counters,
 * and the mmap lock; the memory system calls and faults as its public methods. The VMAs live in a {@link VmaStore}:
 * 6.18's maple tree by default, the 5.x augmented rbtree + per-thread vmacache with {@code mm4j.vma_store=rbtree};
 * both keep the 5.x {@code vm_prev}/{@code vm_next} list.
 *
 * <p>The work is cut along the kernel's files, each a package-private class of static methods taking the mm:
 * {@link Mmap} ({@code mm/mmap.c}: mmap, brk, placement, stack growth), {@link VmaOps} ({@code mm/vma.c}: split,
 * merge, {@code vma_modify}, {@code copy_vma}, munmap, {@code mmap_region}, {@code do_brk_flags}),
 * {@link Mprotect}, {@link Mremap}, {@link Madvise} (with the anonymous names of prctl), {@link Mlock},
 * {@link Msync}, {@link Fault} ({@code handle_mm_fault}, {@code anon_vma_prepare}, {@code __mm_populate}),
 * {@link Fork} ({@code dup_mmap}) and {@link TaskMmu} (/proc/PID/maps, smaps, status); page tables are
 * {@link PageTables}'. This class keeps the state and the edits of the VMA store every one of them goes through
 * ({@link #insertVma}, {@link #removeVma}, {@link #setRange}: each bumps the vmacache sequence number).
 *
 * <p>Maple nodes: {@code mmap}, {@code munmap}, {@code mprotect}, {@code mremap} and {@code brk} first take the
 * nodes one store may need ({@code vma_iter_prealloc}, {@link VmaStore#preallocate}) and fail with -ENOMEM (brk:
 * the break stays) when they cannot be had; what no store used goes back when the call ends.
 *
 * <p>Results: each syscall returns what the kernel returns: an address or 0 on success, {@code -errno} on failure
 * ({@link Errno#isError}); {@code brk} returns the (possibly unchanged) break. Bad arguments never corrupt the
 * tree: every check that can fail runs before the first change, except where the kernel itself leaves partial
 * effects (a failing mprotect/mlock/madvise over several VMAs keeps the changes made before the failure). A fault
 * throws what the kernel would signal ({@link SegmentationFault}, {@link BusError}); at this Java API boundary a
 * bad argument the kernel never sees (an initial VMA overlapping another) is an {@link IllegalArgumentException}.
 *
 * <p>Layout (x86-64, 4-level paging): {@link #TASK_SIZE}, {@code mmap_base} below the stack
 * ({@link #mmapBaseFor}), top-down placement through the tree's subtree gaps, or the legacy bottom-up layout.
 *
 * <p>Invariants: the VMAs never overlap, are page aligned and in address order ({@link #validate}); {@code seqnum}
 * changes with every change of the VMA set, so no vmacache returns a stale VMA; {@code mapCount() <=
 * max_map_count + 1} (the kernel's checks allow one over).
 *
 * <p>Threads: the model's {@code mmap_lock} is this object's monitor, always taken exclusively (a read-locked
 * path of the kernel holds it too). Every public method that reads or changes the VMAs takes it, as the syscall
 * or /proc reader does; the package-private {@code ...Locked} methods and the per-file classes need the caller to
 * hold it and assert so ({@link #mmapAssertLocked}, {@link #mmapAssertWriteLocked}, checked under {@code -ea}
 * only). The OOM killer's counters ({@link #oomCounters}, {@link #totalVmRacy}, {@link #accountedPagesRacy}) are
 * read without it, racily, as the kernel's {@code get_mm_rss}. Plain setters of the layout run before the mm is
 * shared.
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

    /** The VMAs: the maple tree (default) or the 5.x rbtree + vmacache ({@code mm4j.vma_store=}). */
    final VmaStore tree;
    /** Where this mm's maple tree gets its nodes (shared by the processes of one kernel). */
    final MapleNodeCache nodeCache;
    /** The slab caches of a booted kernel's processes (VMAs, anon_vmas, chains), or null for a lone mm. */
    final ProcCaches procCaches;
    /** Where this mm's new files and shared anonymous objects get inode numbers (its kernel's, or its own). */
    final VmFile.InodeNumbers inodeNumbers;
    /** This mm's object in the mm_struct cache, or 0 (a lone mm, or not yet allocated). */
    long kaddr;
    final IntSupplier maxMapCount;
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
    long placementOverride = -1;
    /** The errno of the last failed {@code vma_modify} or {@link #fail} (the kernel's {@code ERR_PTR}). */
    int modifyError;

    public MmStruct(final IntSupplier maxMapCount) {
        this(maxMapCount, VmaStore.Kind.defaultKind());
    }

    /** An mm whose VMAs live in the given store (its maple nodes counted on their own). */
    public MmStruct(final IntSupplier maxMapCount, final VmaStore.Kind store) {
        this(maxMapCount, store, new MapleNodeCache());
    }

    MmStruct(final IntSupplier maxMapCount, final VmaStore.Kind store, final MapleNodeCache nodeCache) {
        this(maxMapCount, store, nodeCache, null, new VmFile.InodeNumbers());
    }

    /**
     * An mm of a booted kernel: its VMAs, anon_vmas and chains are objects of {@code caches}; its new inodes take
     * the kernel's numbers {@code inos}.
     */
    MmStruct(final IntSupplier maxMapCount, final VmaStore.Kind store, final MapleNodeCache nodeCache,
             final ProcCaches caches, final VmFile.InodeNumbers inos) {
        this.maxMapCount = maxMapCount;
        this.inodeNumbers = inos;
        this.nodeCache = nodeCache;
        this.procCaches = caches;
        this.tree = VmaStore.create(store, nodeCache);
        this.mmapBase = mmapBaseFor(rlimitStack, 0);
    }

    public MmStruct() {
        this(() -> DEFAULT_MAX_MAP_COUNT);
    }

    /** The inode numbers of this mm's kernel (a lone mm's own). */
    public VmFile.InodeNumbers inodeNumbers() {
        return inodeNumbers;
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

    /** The VMA store this mm uses. */
    public VmaStore.Kind vmaStore() {
        return tree.kind();
    }

    /** {@code mt_dump} of this mm's maple tree, headed {@code maple_tree(label)}; null with the rbtree store. */
    public synchronized String mapleDump(final String label) {
        return tree.dump(label);
    }

    // ------------------------------------------------------------------------------------------------ lookup

    /**
     * {@code find_vma} for a caller outside the mm: takes the mmap lock, then {@link #findVmaLocked}.
     *
     * @return the first VMA with {@code end > addr}, or null
     */
    public synchronized Vma findVma(final long addr) {
        return findVmaLocked(addr);
    }

    /**
     * {@code find_vma}: the first VMA with {@code end > addr}, or null; the caller holds the mmap lock (asserted, as
     * the kernel's {@code mmap_assert_locked}). A vmacache hit costs four compares; a miss walks the tree.
     * Allocates nothing (after the calling thread's first lookup).
     */
    Vma findVmaLocked(final long addr) {
        assert mmapAssertLocked();
        if (!tree.usesVmacache()) {
            return tree.find(addr); // 6.1+: mt_find, no vmacache
        }
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

    /** {@code find_vma} without the cache (the tree walk alone), under the mmap lock. */
    public synchronized Vma findVmaNoCache(final long addr) {
        return tree.find(addr);
    }

    /** {@code find_vma_prev}: {@code [0]} = find_vma(addr), {@code [1]} = the VMA before it (either may be null). */
    public synchronized Vma[] findVmaPrev(final long addr) {
        final Vma v = findVmaLocked(addr);
        return new Vma[] {v, v != null ? v.prev : tree.last};
    }

    /** {@code find_vma_intersection}, under the mmap lock; see {@link #findVmaIntersectionLocked}. */
    public synchronized Vma findVmaIntersection(final long start, final long end) {
        return findVmaIntersectionLocked(start, end);
    }

    /** {@code find_vma_intersection}: the first VMA overlapping {@code [start, end)}, or null (lock asserted). */
    Vma findVmaIntersectionLocked(final long start, final long end) {
        final Vma v = findVmaLocked(start);
        return v != null && v.start < end ? v : null;
    }

    /** {@code vma_lookup}, under the mmap lock; see {@link #vmaLookupLocked}. */
    public synchronized Vma vmaLookup(final long addr) {
        return vmaLookupLocked(addr);
    }

    /** {@code vma_lookup}: the VMA containing {@code addr}, or null (lock asserted). */
    Vma vmaLookupLocked(final long addr) {
        final Vma v = findVmaLocked(addr);
        return v != null && v.start <= addr ? v : null;
    }

    /** {@code find_extend_vma}: the VMA containing addr, growing a stack down to it when allowed; or null. */
    public synchronized Vma findExtendVma(final long addr) {
        return Mmap.findExtendVma(this, addr);
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

    // ------------------------------------------------------------------------------------------------ mmap lock

    /**
     * {@code mmap_assert_locked(mm)}, for {@code assert}: true when the calling thread holds this mm's mmap lock (the
     * model's lock is this object's monitor, always taken exclusively, so a read-locked path holds it too); an
     * {@link AssertionError} naming the thread otherwise.
     */
    boolean mmapAssertLocked() {
        if (!Thread.holdsLock(this)) {
            throw new AssertionError("mmap_assert_locked: thread " + Thread.currentThread().getName()
                + " does not hold the mmap lock of mm@" + Integer.toHexString(System.identityHashCode(this)));
        }
        return true;
    }

    /** {@code mmap_assert_write_locked(mm)}, for {@code assert}: as {@link #mmapAssertLocked} (one exclusive lock). */
    boolean mmapAssertWriteLocked() {
        if (!Thread.holdsLock(this)) {
            throw new AssertionError("mmap_assert_write_locked: thread " + Thread.currentThread().getName()
                + " does not hold the mmap lock of mm@" + Integer.toHexString(System.identityHashCode(this)));
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ VMA store

    /** {@code vmacache_invalidate}: every thread's vmacache is stale from now on. */
    void invalidate() {
        seqnum++;
    }

    /** Links {@code v} into the VMA store ({@code vma_iter_store} + {@code map_count++}). */
    void insertVma(final Vma v) {
        assert mmapAssertWriteLocked();
        tree.insert(v);
        invalidate();
    }

    /** Unmaps {@code v}'s pages and guard markers ({@code unmap_vmas}) and unlinks it ({@code remove_vma}). */
    void removeVma(final Vma v) {
        assert mmapAssertWriteLocked();
        if (pageTables != null) {
            pageTables.zapRange(v, v.start, v.end);
            pageTables.removeGuards(v.start, v.end); // unmap_vmas: ZAP_FLAG_DROP_MARKER
        }
        tree.erase(v);
        invalidate();
        VmaInit.vmAreaFree(v);
    }

    /** {@code vma_set_range} + the store update: {@code v} now covers {@code [start, end)} at {@code pgoff}. */
    void setRange(final Vma v, final long start, final long end, final long pgoff) {
        assert mmapAssertWriteLocked();
        final long oldStart = v.start;
        final long oldEnd = v.end;
        v.start = start;
        v.end = end;
        v.pgoff = pgoff;
        tree.adjusted(v, oldStart, oldEnd);
        invalidate();
    }

    /** {@code vma_modify}'s error channel: sets {@link #modifyError} and returns null (an {@code ERR_PTR}). */
    Vma fail(final int errno) {
        modifyError = errno;
        return null;
    }

    // --------------------------------------------------------------------- test hooks (tools/testing/vma)

    /** {@code alloc_and_link_vma}: links an anonymous VMA as given, no merging (tests). */
    synchronized Vma linkVma(final long start, final long end, final long pgoff, final long flags) {
        final Vma v = VmaInit.vmAreaAlloc(this, start, end, flags, pgoff);
        if (v == null) {
            throw new ModelOutOfMemoryException("alloc_and_link_vma: no vm_area_struct");
        }
        insertVma(v);
        return v;
    }

    /** {@code merge_new}: tries to merge a new range with its neighbours (tests); null when nothing merges. */
    synchronized Vma mergeNew(final long start, final long end, final long pgoff, final long flags,
                              final AnonVma anonVma) {
        return VmaOps.mergeNew(this, start, end, pgoff, flags, anonVma);
    }

    /** {@code vma_modify_flags} (tests): merge or split; the caller sets the flags on the result. */
    synchronized Vma modifyFlags(final Vma vma, final long start, final long end, final long flags) {
        return VmaOps.modifyFlags(this, vma, start, end, flags);
    }

    int lastModifyError() {
        return modifyError;
    }

    // ------------------------------------------------------------------------------------------------ syscalls

    /**
     * {@code get_unmapped_area} under the mmap lock: where a mapping of {@code len} bytes would go (the address or
     * -errno); see {@link Mmap#getUnmappedArea}.
     */
    public synchronized long getUnmappedArea(final VmFile file, final long addr, final long len, final long pgoff,
                                             final int flags) {
        return Mmap.getUnmappedArea(this, file, addr, len, pgoff, flags);
    }

    /**
     * {@code mmap(addr, len, prot, flags, fd, off)}: {@code file} is the open file for a file mapping (null with
     * MAP_ANONYMOUS; null without it is EBADF). Returns the address or -errno.
     */
    public synchronized long mmap(final long addr, final long len, final int prot, final int flags,
                                  final VmFile file, final long off) {
        if (!tree.preallocate()) {
            return -Errno.ENOMEM;
        }
        try {
            return Mmap.mmap(this, addr, len, prot, flags, file, off);
        } finally {
            tree.destroyPrealloc();
        }
    }

    /** {@code munmap(addr, len)} ({@code __vm_munmap} -> {@code do_vmi_munmap}): 0 or -errno. */
    public synchronized long munmap(final long addr, final long len) {
        if (!tree.preallocate()) {
            return -Errno.ENOMEM;
        }
        try {
            return VmaOps.doMunmap(this, addr, len);
        } finally {
            tree.destroyPrealloc();
        }
    }

    /** {@code mprotect(start, len, prot)}: 0 or -errno; changes made before a failure stay (as in the kernel). */
    public synchronized long mprotect(final long start, final long len, final int prot) {
        if (!tree.preallocate()) {
            return -Errno.ENOMEM;
        }
        try {
            return Mprotect.mprotect(this, start, len, prot);
        } finally {
            tree.destroyPrealloc();
        }
    }

    /** {@code brk(addr)}: the new break, or the unchanged one on failure (brk(0) queries it). */
    public synchronized long brk(final long newBrkReq) {
        if (!tree.preallocate()) {
            return brk; // brk's failure: the break stays
        }
        try {
            return Mmap.brk(this, newBrkReq);
        } finally {
            tree.destroyPrealloc();
        }
    }

    /** {@code mremap(addr, old_len, new_len, flags, new_addr)}: the new address or -errno. */
    public synchronized long mremap(final long addr, final long oldLen, final long newLen, final int flags,
                                    final long newAddr) {
        if (!tree.preallocate()) {
            return -Errno.ENOMEM;
        }
        try {
            return Mremap.mremap(this, addr, oldLen, newLen, flags, newAddr);
        } finally {
            tree.destroyPrealloc();
        }
    }

    // ------------------------------------------------------------------------------------------------ madvise

    /** {@code madvise(start, len, behavior)}: 0 or -errno. */
    public synchronized long madvise(final long start, final long lenIn, final int behavior) {
        return Madvise.madvise(this, start, lenIn, behavior);
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

    /**
     * {@code handle_mm_fault} for a user access at {@code addr}: 'r', 'w' or 'x', under the mmap lock; see
     * {@link Fault#handleMmFault}.
     *
     * @throws SegmentationFault for an access the kernel answers with SIGSEGV (SEGV_MAPERR, SEGV_ACCERR)
     * @throws BusError for a file page past the end of its file (SIGBUS, BUS_ADRERR)
     * @throws ProcessKilledException when the OOM killer chose this process (now or earlier): SIGKILL
     * @throws ModelOutOfMemoryException when no page could be had and nothing was killable
     * @throws IllegalArgumentException for an access other than 'r', 'w' or 'x'
     */
    public synchronized void handleMmFault(final long addr, final char access) {
        Fault.handleMmFault(this, addr, access);
    }

    /** A user access (the shell's {@code touch}); see {@link #handleMmFault}. */
    public void touch(final long addr, final char access) {
        handleMmFault(addr, access);
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
        final Vma other = findVmaIntersectionLocked(start, end);
        if (other != null) {
            throw new IllegalArgumentException(String.format("VMA %x-%x overlaps %s", start, end, other));
        }
        final Vma v = VmaInit.vmAreaAlloc(this, start, end, flags | (special != null ? VM_DONTEXPAND : 0), pgoff);
        if (v == null) {
            throw new ModelOutOfMemoryException(String.format("VMA %x-%x: no vm_area_struct (kmem_cache_alloc "
                + "failed)", start, end));
        }
        v.file = file;
        v.specialName = special;
        if (faulted) {
            Rmap.anonVmaPrepareNoFail(v);
        }
        insertVma(v);
        return v;
    }

    // ------------------------------------------------------------------------------------------------ pages

    /** Gives this mm page tables whose pages come from {@code pager} (without them faults map nothing). */
    synchronized void attachPager(final Pager pager) {
        if (pageTables != null) {
            throw new IllegalStateException("page tables already attached");
        }
        pageTables = new PageTables(pager, this);
        this.pager = pager;
    }

    Pager pager;
    /** The pid (and name) of the process this mm belonged to once the OOM killer killed it; 0 while alive. */
    volatile int killedPid;
    volatile String killedComm;

    /** Marks this mm as the OOM killer's victim's: later faults end in {@link ProcessKilledException}. */
    void markKilled(final int pid, final String comm) {
        killedComm = comm;
        killedPid = pid;
    }

    /** Reads one user byte at {@code addr} as the process would (faulting it in). */
    public synchronized byte readUser(final long addr) {
        Fault.handleMmFault(this, addr, 'r');
        return pageTables == null ? 0 : pageTables.readByte(addr);
    }

    /** Writes one user byte at {@code addr} as the process would (faulting, copy-on-write). */
    public synchronized void writeUser(final long addr, final byte value) {
        Fault.handleMmFault(this, addr, 'w');
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
     * VM_DONTCOPY are left out, VM_WIPEONFORK ones come back empty, anon_vmas get a child anon_vma; see
     * {@link Fork}.
     *
     * @throws ModelOutOfMemoryException when a page table of the child could not be had even after the OOM killer
     *         (the half-made child is freed again; fork's -ENOMEM)
     * @throws ProcessKilledException when the OOM killer chose this process meanwhile (the child is freed too)
     */
    public synchronized MmStruct dupMmap() {
        return Fork.dupMmap(this);
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
     * Discards the clean lazyfree pages (MADV_FREE) of this mm, as reclaim does under memory pressure; returns how
     * many pages went back to the buddy allocator. The caller holds this mm's lock (asserted).
     */
    long reclaimLazyfree() {
        assert mmapAssertWriteLocked();
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
    int vmEnoughMemory(final long pages) {
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
            VmaInit.vmAreaFree(v); // remove_vma
        }
        invalidate();
    }

    /**
     * {@code __mmdrop}'s {@code free_mm}: gives this mm's {@code mm_struct} object back (after {@link #exitMmap});
     * idempotent, nothing for a lone mm.
     */
    synchronized void freeMm() {
        if (kaddr != 0) {
            ProcCaches.free(procCaches.mmStruct, kaddr);
            kaddr = 0;
        }
    }

    /**
     * Calls {@code action} with every slab object this address space holds: its mm_struct, each VMA, its anon_vma
     * chains and anon_vmas, and its maple tree's nodes (kmemleak's view of what a process references).
     */
    public synchronized void forEachObject(final java.util.function.LongConsumer action) {
        if (kaddr != 0) {
            action.accept(kaddr);
        }
        for (Vma v = tree.first; v != null; v = v.next) {
            if (v.kaddr != 0) {
                action.accept(v.kaddr);
            }
            if (v.avcs != null) {
                for (final AnonVmaChain avc : v.avcs) {
                    action.accept(avc.kaddr());
                    if (avc.anonVma().kaddr != 0) {
                        action.accept(avc.anonVma().kaddr);
                    }
                }
            }
        }
        tree.forEachNode(action);
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
