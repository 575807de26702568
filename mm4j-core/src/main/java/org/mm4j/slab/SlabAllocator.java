package org.mm4j.slab;

import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JVM-facing view of kmalloc: a {@link SegmentAllocator} whose segments can be freed one by one (by segment or
 * by address), backed by the kmalloc caches with <em>per-thread sheaves</em> in front.
 *
 * <p>Departure from Linux 6.18, named: the kernel keeps sheaves per CPU under a {@code local_trylock}; a JVM
 * thread cannot disable preemption, so a per-CPU-slot sheaf costs one atomic per operation (see
 * {@link CpuSheaves}, the kernel-faithful path for caches created with {@code sheaf_capacity}). This allocator
 * gives each thread its own main and spare sheaf (Bonwick's magazines, libumem's per-thread caches): the hot
 * alloc/free paths are a bounds check, an array load/store and a statistics increment, with no lock and no
 * atomic. Full and empty sheaves travel through the node's {@link Barn} exactly as per-CPU sheaves do, and
 * refill/flush go to the slab layer in bulk, so objects freed by another thread come back in whole sheaves.
 * Sheaf capacity: boot option {@code mm4j.sheaves=N} for every cache (0 = no sheaves, every call goes to the
 * per-CPU slab paths); without it, each cache's by its object size ({@link #sheafCapacityFor}: 120 objects below
 * 256 bytes, 56 below 1 KiB, 32 from there on).
 *
 * <p>Safety: a free checks and sets the object's free mark ({@link FreeMarks}), an allocation checks and clears it
 * ({@link KmemCache#checkFree}, {@link KmemCache#handoutFromSheaf}): a double free is refused (reported and thrown,
 * nothing changed) and no object is handed out twice; {@code mm4j.double_free=kernel} turns this off.
 *
 * <p>Threads: a platform thread's allocator is confined to it (like {@code Arena.ofConfined()}); other threads
 * get a {@link WrongThreadException}. Objects may be freed by any thread (through its own allocator, or
 * {@link Slub#kfree}). When the thread ends, its sheaves go back to the slab layer exactly once, within about
 * {@value ThreadSheafRegistry#MAX_POLL_MILLIS} ms ({@link ThreadSheafRegistry}'s reaper), or at once when a
 * {@code kmem_cache_shrink}/{@code validate}/{@code destroy} or an allocation about to fail gets there first.
 * Virtual threads share one <em>unconfined</em> allocator without sheaves (every call takes the per-CPU slab
 * paths of the calling thread's CPU slot), so that a million short-lived virtual threads strand nothing.
 *
 * <p>Bound on what sheaves hold: per thread, twice the cache's sheaf capacity (main + spare) of each cache the
 * thread used, until it ends; per barn (one per cache and node), the barn's full-sheaf limit times the sheaf
 * capacity ({@link KmemCache#sheafUsage()}). Exhaustion: the {@code long}-returning calls return 0, as
 * {@code kmalloc} does; {@link #allocate} throws {@link ModelOutOfMemoryException}. Before either, stranded
 * sheaves are reclaimed and the allocation retried ({@link Slub#reclaimStranded()}).
 */
public final class SlabAllocator implements SegmentAllocator {
    /**
     * The least capacity of a thread's sheaves when {@code mm4j.sheaves} is not given (each cache's capacity is then
     * by object size, {@link #sheafCapacityFor}), and what {@link #sheafCapacity()} reports then; until issue 13's
     * seventh pass, the capacity of every cache's thread sheaves.
     */
    public static final int DEFAULT_SHEAF_CAPACITY = 32;

    /**
     * The capacity of a thread's sheaves of a cache of {@code size}-byte slots (the cache's {@code s->size}) when
     * {@code mm4j.sheaves} is not given: twice what {@code calculate_sheaf_capacity} gives a cache of that size (the
     * kernel's rule since sheaves serve every cache: 4 objects from a page up, 12 from 1 KiB, 26 from 256 bytes, 60
     * below, each raised so that the sheaf, with its 32-byte header, fills its kmalloc bucket exactly: 4, 12, 28,
     * 60), at least {@link #DEFAULT_SHEAF_CAPACITY}, and at least the cache's own {@code sheaf_capacity}
     * ({@code requested}, 0 for none), which the kernel respects as a minimum. So 120 objects below 256 bytes, 56
     * up to 1 KiB, 32 above.
     *
     * <p>Departure, named: the kernel sizes sheaves per CPU, where a barn exchange costs a spin lock and a few
     * lines of the same CPU's cache; a JVM thread's exchange pays a transfer between cores for each line the other
     * thread wrote (the barn, the sheaf, its array), which a producer/consumer pair pays every sheaf, and a thread
     * allocating or freeing in bursts pays an exchange per sheaf too. Twice the kernel's capacity halves those
     * (measured, docs/speed-history.md, "Seventh pass (issue 13)": {@code batch-1024x64} 0.88-0.93 of before this
     * pass, {@code remote-free-2t-64}'s slower side 0.82-0.83 of before, 0.86-0.87 of sheaves of 32 with the intrusive
     * barn); the floor of 32 keeps caches of large objects where they were, since mixed sizes exchange sheaves the
     * more often the smaller they are (the kernel's 4 and 12 cost {@code ring-mixed-16-4096} 4 %).
     * Memory: a thread holds at most twice its capacity per cache it uses (15 KiB of 64-byte objects, 56 KiB of
     * 512-byte ones, 256 KiB of 4 KiB ones, as before).
     */
    static int sheafCapacityFor(final int size, final int requested) {
        final int kernel = size >= PhysicalMemory.PAGE_SIZE ? 4 : size >= 1024 ? 12 : size >= 256 ? 28 : 60;
        return Math.max(Math.max(2 * kernel, DEFAULT_SHEAF_CAPACITY), requested);
    }

    /** {@code kmalloc_size_roundup(size)}: what kmalloc gives for {@code size}; allocating that reuses views. */
    public static long kmallocSizeRoundup(final long size) {
        return KmallocSizeRoundup.kmallocSizeRoundup(size);
    }

    /**
     * The free marks of objects and the {@link SlabIndex} entries on the hot paths, by native address through one
     * segment spanning the address space: a constant segment, so an access is a plain load or store (a checked
     * access through the model's segments costs a chain of dependent loads and checks, 30-50 % of an alloc+free
     * pair). Only addresses inside the model's memory reach it: the free fast path first compares the physical
     * address with {@link #fastLimit} (the model's size), {@link #kmalloc} pops its own sheaves; when the kernel
     * closes, {@link #forgetSheaves} sets the limit to 0 and empties the sheaves, so every later call takes the
     * slow paths, which fail on the closed memory with an exception instead of touching it. (A call racing with
     * {@code Kernel.close()} is outside the contract, as for any {@code Kernel} call.)
     */
    @SuppressWarnings("restricted")
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final VarHandle RAW = ValueLayout.JAVA_LONG_UNALIGNED.varHandle();
    private static final VarHandle RAW_INT = ValueLayout.JAVA_INT_UNALIGNED.varHandle();
    private static final VarHandle RAW_BYTE = ValueLayout.JAVA_BYTE.varHandle();

    private final Slub slub;
    private final Thread owner;
    private final int capacity;
    private final int cpu;
    private final PhysicalMemory mem;
    private final MemMap mm;
    private final long totalBytes;
    private final boolean initOnFree;
    private final boolean initOnAlloc;
    /** Native address of physical address 0 (the model's memory is one contiguous reservation). */
    private final long base;
    /** Native address of the slab index's entry of pfn 0 ({@link SlabIndex}), for the free fast path. */
    private final long slabIndexBase;
    /** Native address of the free mark of physical address 0 ({@link FreeMarks}), for the free fast path. */
    private final long markBase;
    /**
     * Physical addresses below this may take the free fast path ({@link #freeFast}): the model's size while
     * sheaves are on and {@code init_on_free} is off, else 0; 0 from {@link #forgetSheaves} on. Owner only.
     */
    private long fastLimit;
    /**
     * The limit {@link #kfree} passes to {@link #freeFast}: {@link #fastLimit}, or 0 while {@link #leakTracking}
     * is set (then every {@code kfree} takes {@link #kfreeSlow}, which drops the leak detector's record first).
     * One field in place of a test of {@code leakTracking}: the hook costs the fast path nothing. Recomputed by
     * {@link #updateLimits} (written by the thread that sets the leak level, read plainly, as {@link #slowAlloc}).
     */
    private long kfreeLimit;
    /**
     * The limit {@link #free(MemorySegment)} passes to {@link #freeFast}: {@link #kfreeLimit}, or 0 once an
     * over-aligned segment was handed out ({@link #everOverAligned}: its free must consult {@link #overAligned}).
     */
    private long segmentFreeLimit;
    /**
     * FAULT INJECTION HOOK (issue 16, h-fault): {@code initOnAlloc}, or failslab armed. The kmalloc fast path tests
     * this one field where it tested {@code initOnAlloc}, so failslab costs it nothing; while armed, allocations
     * take {@link #kmallocSlow}, which asks {@code should_failslab} first (the kernel's slab_pre_alloc_hook comes
     * before the sheaves too). Written by the thread that arms failslab ({@link #failslabArmed}), read plainly.
     */
    private boolean slowAlloc;
    /**
     * LEAK DETECTION HOOK (issue 16, h-leakdet): {@link #allocate} and the frees ({@link #free(MemorySegment)},
     * {@link #kfree}, {@link #free(KmemCache, long)}) consult the {@link LeakDetector}. Set while its level is not
     * DISABLED or records remain (by the thread that sets the level, read plainly, as {@link #slowAlloc}), and
     * always for an allocator without sheaves (not registered, so not told of level changes; its calls take the
     * slow paths anyway). Off, it costs {@code allocate} one test of this field and the frees nothing (their
     * fast paths' limits, {@link #kfreeLimit} and {@link #segmentFreeLimit}, are 0 while it is set).
     */
    boolean leakTracking;
    /** Allocations seen by the leak detector's sampling ({@link LeakDetector#SAMPLING_INTERVAL}). Owner only. */
    int leakTick;
    private ThreadSheaves[] byId = new ThreadSheaves[64];
    /**
     * The sheaves the last fast free went to and their cache id (-1: none), so that a free of the same cache as
     * the last one does not wait for {@link #byId}'s element: its sheaves' fields load while the slab index entry
     * is on its way. Owner only; reset by {@link #forgetSheaves}.
     */
    private ThreadSheaves lastFreed;
    private int lastFreedId = -1;
    /** Fast frees of other caches since {@link #lastFreed} was chosen; at {@link #LAST_FREED_MISSES} it follows. */
    private int lastFreedMisses;
    private static final int LAST_FREED_MISSES = 8;
    private final Map<Long, Long> overAligned;
    /** Set (by the owner) once an over-aligned segment was handed out: its free must consult {@link #overAligned}. */
    private boolean everOverAligned;
    /**
     * Segment views handed out by {@link #allocate}'s fast path, by physical address ({@code phys >>> 4}, so the
     * views of neighbouring objects share cache lines): a view of the same object with the same size is handed out
     * again instead of a new one ({@code MemorySegment} is a value-based class: its identity means nothing), so a
     * hot allocate/free loop allocates nothing on the heap. {@link #viewKeys} says what each slot holds
     * ({@code phys << 14 | byteSize}, 0 = nothing), so that a lookup reads one long and no view (checking the
     * slot's view itself instead costs mixed sizes a cache miss per lookup: another object's cold view holds the
     * slot). Owner only (the fast path pops the owner's sheaves); null until
     * the first allocate and after {@link #forgetSheaves}.
     */
    private MemorySegment[] views;
    private long[] viewKeys;
    /** The owner ended and its sheaves went back ({@link ThreadSheafRegistry#reap}). Guarded by this. */
    boolean reaped;
    /**
     * The kmalloc sheaves by {@code (size - 1) >>> 3} for sizes 1..{@value Slub#KMALLOC_MAX_CACHE_SIZE}: one
     * load finds the sheaves of a size, with no {@code kmalloc_index} computation (its size_index table and the
     * branch between small and large sizes). Filled on first use of each slot; null = take the slow path.
     */
    private final ThreadSheaves[] bySize = new ThreadSheaves[(int) (Slub.KMALLOC_MAX_CACHE_SIZE >>> 3)];

    /**
     * @param owner the confining thread, or null for the virtual threads' shared allocator (then
     *              {@code capacity} must be 0)
     * @param cpu   the owner's CPU slot (statistics and barn of its sheaves)
     */
    SlabAllocator(final Slub slub, final Thread owner, final int capacity, final int cpu) {
        if (owner == null && capacity != 0) {
            throw new IllegalArgumentException("capacity=" + capacity + " (expected: 0 for a shared allocator)");
        }
        this.slub = slub;
        this.owner = owner;
        this.capacity = capacity;
        this.cpu = cpu;
        this.overAligned = owner == null ? new ConcurrentHashMap<>() : new HashMap<>();
        this.mem = slub.mem;
        this.mm = slub.memMap;
        this.totalBytes = slub.mem.totalBytes();
        this.initOnFree = slub.initOnFree;
        this.initOnAlloc = slub.initOnAlloc;
        this.base = slub.mem.nativeAddress(0);
        this.slabIndexBase = slub.memMap.slabIndexAddress();
        this.markBase = slub.memMap.freeMarksAddress();
        this.fastLimit = capacity > 0 && !initOnFree ? totalBytes : 0;
        this.slowAlloc = initOnAlloc || slub.failslab.active();
        this.leakTracking = capacity == 0 || slub.leaks.level() != LeakDetector.Level.DISABLED;
        updateLimits();
    }

    /** LEAK DETECTION HOOK: the leak detector's level was set; see {@link #leakTracking}. */
    void leakTracking(final boolean on) {
        leakTracking = capacity == 0 || on;
        updateLimits();
    }

    /** Derives {@link #kfreeLimit} and {@link #segmentFreeLimit} from {@link #fastLimit} and the hooks. */
    private void updateLimits() {
        kfreeLimit = leakTracking ? 0 : fastLimit;
        segmentFreeLimit = everOverAligned ? 0 : kfreeLimit;
    }

    /** FAULT INJECTION HOOK: failslab was armed ({@code on}) or disarmed; see {@link #slowAlloc}. */
    void failslabArmed(final boolean on) {
        SLOW_ALLOC.setRelease(this, initOnAlloc || on);
    }

    private static final VarHandle SLOW_ALLOC;

    static {
        try {
            SLOW_ALLOC = java.lang.invoke.MethodHandles.lookup().findVarHandle(SlabAllocator.class, "slowAlloc",
                boolean.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The confining thread; null for the virtual threads' shared allocator. */
    Thread owner() {
        return owner;
    }

    /**
     * Sheaf capacity of this allocator: {@code mm4j.sheaves=N}, or {@link #DEFAULT_SHEAF_CAPACITY} when each cache's
     * capacity is by object size ({@link #sheafCapacityFor}, the least of them); 0 = sheaves off.
     */
    public int sheafCapacity() {
        return capacity;
    }

    private void checkOwner() {
        if (owner != null && Thread.currentThread() != owner) {
            throw new WrongThreadException("SlabAllocator of " + owner.getName() + " used from "
                + Thread.currentThread().getName());
        }
    }

    /** {@code kmalloc(size, GFP_KERNEL)} through this thread's sheaves: a kernel virtual address or 0. */
    public long kmalloc(final long size) {
        if (Thread.currentThread() != owner) {
            checkOwner();
        }
        if (size > 0 && size <= Slub.KMALLOC_MAX_CACHE_SIZE) {
            final ThreadSheaves t = bySize[(int) (size - 1) >>> 3];
            if (t != null && !slowAlloc) {  // slowAlloc: init_on_alloc or failslab armed
                final long phys = t.popFast();
                if (phys >= 0) {
                    return PhysicalMemory.PAGE_OFFSET + phys;
                }
            }
            return kmallocSlow(size);
        }
        return slub.kmalloc(size, Gfp.KERNEL);
    }

    private long kmallocSlow(final long size) {
        if (capacity == 0) {
            return slub.kmalloc(size, Gfp.KERNEL);
        }
        ThreadSheaves t = bySize[(int) (size - 1) >>> 3];
        if (t == null) {
            final KmemCache s = slub.kmallocCacheByIndex(Slub.KMALLOC_NORMAL, Slub.kmallocIndex(size));
            if (s.isDebug()) {
                return slub.kmalloc(size, Gfp.KERNEL);
            }
            t = sheavesOf(s);
            bySize[(int) (size - 1) >>> 3] = t;
        }
        if (slowAlloc && slub.failslab.shouldFailslab(t.cache, Gfp.KERNEL)) {  // FAULT INJECTION HOOK
            return 0;
        }
        final long phys = t.pop();
        if (phys == 0) {
            return 0;
        }
        t.cache.statInc(cpu, StatItem.ALLOC_PCS);
        if (initOnAlloc) {
            mem.fill(phys, t.cache.objectSize(), (byte) 0);
        }
        return PhysicalMemory.PAGE_OFFSET + phys;
    }

    /** {@code kfree(x)} through this thread's sheaves (any slab object; large kmallocs go to the buddy). */
    public void kfree(final long kaddr) {
        // the hot path is kept small so that the JIT inlines it: everything unusual goes to kfreeSlow
        if (Thread.currentThread() != owner || !freeFast(kaddr - PhysicalMemory.PAGE_OFFSET, kfreeLimit)) {
            kfreeSlow(kaddr);
        }
    }

    /**
     * The free fast path of {@link #kfree} and {@link #free(MemorySegment)}, owner only: pushes {@code phys} on
     * the main sheaf of its cache when it is below {@code limit} (at most {@link #fastLimit}), a valid object of a
     * cache this thread has sheaves of and not free already. False, with nothing changed, for anything else (the
     * slow path handles and reports it).
     */
    private boolean freeFast(final long phys, final long limit) {
        if (Long.compareUnsigned(phys, limit) >= 0) {
            return false;
        }
        // the slab of an object (its cache id, object count and head page) is stable while the caller holds one
        // of its objects; the pfn is valid (phys < fastLimit), so its slab index entry is read unchecked
        // (fastLimit is 0 once mem_map is gone): one load from a compact table, no tail page's mem_map entry
        final long pfn = phys >>> PhysicalMemory.PAGE_SHIFT;
        final long e = (long) RAW.get(ALL_MEMORY, slabIndexBase + pfn * MemMap.SLAB_INDEX_ENTRY);
        final int id = SlabIndex.id(e);
        ThreadSheaves t = lastFreed;
        if (id != lastFreedId) {
            final ThreadSheaves[] ids = byId;
            if (id >= ids.length || (t = ids[id]) == null) {
                return false;
            }
            if (++lastFreedMisses >= LAST_FREED_MISSES) {  // another cache is freed to now: follow it
                lastFreed = t;
                lastFreedId = id;
                lastFreedMisses = 0;
            }
        }
        // the free mark's address needs only phys (the marks cover every valid phys): its load can start at once,
        // beside the slab index's chain (index entry, byId, the sheaves); it is used only once phys is an object
        final long markAt = markBase + (phys >>> MemMap.FREE_MARK_SHIFT);
        return t.freeFast(phys, pfn, e, markAt, (byte) RAW_BYTE.get(ALL_MEMORY, markAt));
    }

    /** The rest of kfree: other threads, sheaves off, large kmallocs, new caches, bad pointers, full sheaves. */
    private void kfreeSlow(final long kaddr) {
        checkOwner();
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (leakTracking && Long.compareUnsigned(phys, totalBytes) < 0) {
            // LEAK DETECTION HOOK: a segment freed by its kernel address loses its record too, before the object
            // can be handed out again (and a later record for the same address is not taken for this one)
            slub.leaks.untrack(base + phys);
            if (freeFast(phys, fastLimit)) {
                return;
            }
        }
        final long slab = capacity == 0 ? -1 : slub.virtToSlab(phys);
        if (slab < 0) {
            slub.kfree(kaddr);
            return;
        }
        final int id = mm.lpInt(slab, MemMap.SLAB_CACHE);
        final ThreadSheaves[] ids = byId;
        ThreadSheaves t = id < ids.length ? ids[id] : null;
        if (t == null) {
            final KmemCache s = slub.cacheById(id);
            if (s == null || s.isDebug() || s.isDestroyed()) {
                slub.kfree(kaddr);
                return;
            }
            t = sheavesOf(s);
        }
        if (!t.cache.validObject(slab, phys)) {
            t.cache.freeChecked(cpu, slab, phys);  // reports and throws
            return;
        }
        if (t.checkKey) {
            t.cache.checkFree(slab, phys);  // a double free: reported and thrown, nothing changed
        }
        if (initOnFree) {
            mem.fill(phys, t.cache.objectSize(), (byte) 0);
        }
        if (t.checkKey) {
            t.cache.markFree(phys);
        }
        t.push(phys);
        t.cache.statInc(cpu, StatItem.FREE_PCS);
    }

    /** {@code kmem_cache_alloc(s)} through this thread's sheaves. */
    public long alloc(final KmemCache s) {
        checkOwner();
        if (capacity == 0 || s.isDebug()) {
            return s.alloc(Gfp.KERNEL);
        }
        if (slub.failslab.shouldFailslab(s, Gfp.KERNEL)) {  // FAULT INJECTION HOOK: slab_pre_alloc_hook
            return 0;
        }
        final ThreadSheaves t = sheavesOf(s);
        final long phys = t.pop();
        if (phys == 0) {
            return 0;
        }
        s.statInc(cpu, StatItem.ALLOC_PCS);
        s.postAlloc(phys, Gfp.KERNEL);
        return PhysicalMemory.PAGE_OFFSET + phys;
    }

    /** {@code kmem_cache_free(s, x)} through this thread's sheaves. */
    public void free(final KmemCache s, final long kaddr) {
        checkOwner();
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (leakTracking && Long.compareUnsigned(phys, totalBytes) < 0) {
            slub.leaks.untrack(base + phys);  // LEAK DETECTION HOOK: as kfreeSlow
        }
        final long slab = slub.virtToSlab(phys);
        if (capacity == 0 || s.isDebug() || slab < 0 || mm.lpInt(slab, MemMap.SLAB_CACHE) != s.id) {
            s.free(kaddr);
            return;
        }
        kfree(kaddr);
    }

    private ThreadSheaves sheavesOf(final KmemCache s) {
        if (s.isDestroyed()) {
            throw new IllegalStateException("cache " + s.name() + " was destroyed");
        }
        if (s.id >= byId.length) {
            byId = Arrays.copyOf(byId, Math.max(s.id + 1, byId.length * 2));
        }
        ThreadSheaves t = byId[s.id];
        if (t == null) {
            t = new ThreadSheaves(s, slub.threadSheafCapacity(s), cpu);
            byId[s.id] = t;
        }
        return t;
    }

    /**
     * {@link SegmentAllocator#allocate(long, long)}: a kmalloc object of at least {@code byteSize} bytes aligned
     * to {@code byteAlignment} (kmalloc caches align power-of-two sizes to their size; larger requests are page
     * blocks), returned as a segment of exactly {@code byteSize} bytes. The segment lives as long as the kernel
     * (its scope is the model memory's arena). {@code MemorySegment} being value-based, the same instance may be
     * handed out again for the same object and size after it was freed: compare segments with {@code equals}.
     *
     * @throws ModelOutOfMemoryException when the model's memory is exhausted (after stranded sheaves were
     *                                    reclaimed), naming the size and gfp flags
     */
    @Override
    public MemorySegment allocate(final long byteSize, final long byteAlignment) {
        if (leakTracking) {  // LEAK DETECTION HOOK: sampled segments get a record (LeakDetector)
            return slub.leaks.allocate(this, byteSize, byteAlignment);
        }
        return allocateUntracked(byteSize, byteAlignment);
    }

    /**
     * {@link SegmentAllocator#allocate(long)}: {@code allocate(byteSize, 1)}. Overridden so that a caller's call
     * reaches this class's fast path directly instead of through the interface's default method, whose profile
     * (one for every {@code SegmentAllocator} of the JVM) C2 may judge cold, and then refuse to inline an
     * {@code allocate} compiled on its own ("already compiled into a medium method"): the caller's loop then pays
     * a call per allocation in some runs and not in others.
     */
    @Override
    public MemorySegment allocate(final long byteSize) {
        if (leakTracking) {  // LEAK DETECTION HOOK, as allocate(long, long)
            return slub.leaks.allocate(this, byteSize, 1);
        }
        return allocateUntracked(byteSize, 1);
    }

    /** {@link #allocate} without the leak detector. */
    MemorySegment allocateUntracked(final long byteSize, final long byteAlignment) {
        // the fast path: 1..8192 bytes, alignment 1, 2, 4 or 8 (every kmalloc object is 8-aligned), popped from
        // the owner's sheaves (kmalloc's fast path, with the sheaves at hand for view()); the rest, and any
        // cache miss, out of line, so that callers can inline this
        if (byteSize > 0 && byteSize <= Slub.KMALLOC_MAX_CACHE_SIZE && byteAlignment > 0 && byteAlignment <= 8
            && (byteAlignment & (byteAlignment - 1)) == 0 && Thread.currentThread() == owner) {
            final ThreadSheaves t = bySize[(int) (byteSize - 1) >>> 3];
            if (t != null && !slowAlloc) {
                final long phys = t.popFast();
                if (phys >= 0) {
                    return view(t, phys, byteSize);
                }
            }
        }
        return allocateSlow(byteSize, byteAlignment);
    }

    private MemorySegment allocateSlow(final long byteSize, final long byteAlignment) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize=" + byteSize + " (expected: >= 0)");
        }
        if (byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1) {
            throw new IllegalArgumentException("byteAlignment=" + byteAlignment + " (expected: a power of two)");
        }
        long size = Math.max(byteSize, 1);
        if (byteAlignment > PhysicalMemory.PAGE_SIZE) {
            return allocateOverAligned(byteSize, byteAlignment);
        }
        if (byteAlignment > 8) {
            size = Math.max(size, byteAlignment);
            if (size <= Slub.KMALLOC_MAX_CACHE_SIZE) {
                final int idx = Slub.kmallocIndex(size);
                final int cacheAlign = idx == 1 ? 32 : idx == 2 ? 64 : 1 << idx;
                if (cacheAlign < byteAlignment) {
                    size = Long.highestOneBit(size - 1) << 1;
                }
            }
        }
        final long kaddr = kmalloc(size);
        if (kaddr == 0) {
            throw exhausted(byteSize, byteAlignment, size);
        }
        return slub.segment(kaddr, byteSize);
    }

    private static final int VIEW_BITS = 13;
    private static final int VIEW_SIZE_BITS = 14;

    /**
     * A segment of {@code byteSize} bytes at {@code phys}, an object just popped from {@code t} (owner only): the
     * cached view of that object when it has that size, else a new view of the model's memory. Only a size asked
     * of this cache twice in a row goes through the cache: sizes that vary (a new view nearly every time, the
     * cache would only cost a miss and churn) skip it. The cache's last new view ({@link ThreadSheaves#lastView})
     * is tried first: an object that comes straight back (allocate, free, allocate) gets its view from t, which
     * the pop loads anyway, without waiting for the popped address to index the keyed cache (docs/speed-history.md,
     * "Eleventh pass (issue 13)").
     */
    private MemorySegment view(final ThreadSheaves t, final long phys, final long byteSize) {
        final long key = phys << VIEW_SIZE_BITS | byteSize;
        if (key == t.lastViewKey) {  // the view loaded from t, beside the pop, not after the popped address
            return t.lastView;
        }
        if (byteSize != t.lastViewSize) {
            t.lastViewSize = byteSize;
            return mem.slice(phys, byteSize);
        }
        final long[] k = viewKeys;
        if (k != null) {
            // masks by the arrays' own lengths (both 1 << VIEW_BITS), so that the JIT drops both bounds checks
            final int i = (int) (phys >>> 4) & (k.length - 1);
            if (k[i] == key) {
                final MemorySegment[] vs = views;
                return vs[i & (vs.length - 1)];
            }
        }
        return cacheView(t, phys, byteSize);
    }

    /** A cache miss of {@link #view}: a new view, cached. */
    private MemorySegment cacheView(final ThreadSheaves t, final long phys, final long byteSize) {
        if (viewKeys == null) {
            views = new MemorySegment[1 << VIEW_BITS];
            viewKeys = new long[1 << VIEW_BITS];
        }
        final int i = (int) (phys >>> 4) & ((1 << VIEW_BITS) - 1);
        final MemorySegment n = mem.slice(phys, byteSize);
        final long key = phys << VIEW_SIZE_BITS | byteSize;
        viewKeys[i] = key;
        views[i] = n;
        t.lastView = n;
        t.lastViewKey = key;
        return n;
    }

    /**
     * Alignments above a page: the model's memory is page-aligned in native memory, not more, so such a segment
     * is cut from a large kmalloc of {@code byteSize + byteAlignment} bytes; this allocator remembers where the
     * block starts, so such segments must be freed through the allocator that made them.
     */
    private MemorySegment allocateOverAligned(final long byteSize, final long byteAlignment) {
        final long kaddr = kmalloc(byteSize + byteAlignment);
        if (kaddr == 0) {
            throw exhausted(byteSize, byteAlignment, byteSize + byteAlignment);
        }
        final long nat = slub.nativeAddress(kaddr);
        final long aligned = (nat + byteAlignment - 1) & -byteAlignment;
        overAligned.put(aligned, kaddr);
        everOverAligned = true;
        updateLimits();
        return slub.segment(kaddr + (aligned - nat), byteSize);
    }

    private ModelOutOfMemoryException exhausted(final long byteSize, final long byteAlignment, final long size) {
        return new ModelOutOfMemoryException("allocate(byteSize=" + byteSize + ", byteAlignment=" + byteAlignment
            + "): kmalloc(" + size + ", " + Gfp.toString(Gfp.KERNEL) + ") failed: "
            + (slub.failslab.active() ? "failslab is armed (see dmesg), or " : "")  // FAULT INJECTION HOOK
            + "model memory exhausted (" + slub.mem.totalBytes() / 1024 + " kB)");
    }

    /** Frees a segment this allocator (or any kmalloc view of the same kernel) returned. */
    public void free(final MemorySegment segment) {
        if (Thread.currentThread() != owner || !freeFast(segment.address() - base, segmentFreeLimit)) {
            freeSlow(segment);
        }
    }

    private void freeSlow(final MemorySegment segment) {
        if (leakTracking) {  // LEAK DETECTION HOOK: the record goes before the object can be handed out again
            slub.leaks.untrack(segment.address());
            if (Thread.currentThread() == owner && !everOverAligned
                && freeFast(segment.address() - base, fastLimit)) {
                return;
            }
        }
        if (!overAligned.isEmpty()) {
            final Long block = overAligned.remove(segment.address());
            if (block != null) {
                kfree(block);
                return;
            }
        }
        final long kaddr = slub.kaddrOfNative(segment.address());
        if (kaddr == 0) {
            throw new IllegalArgumentException("segment at native 0x" + Long.toHexString(segment.address())
                + " is not in the model's memory");
        }
        kfreeSlow(kaddr);
    }

    /** Returns every object this thread holds in sheaves of {@code s} to the slab layer. */
    void flush(final KmemCache s) {
        final ThreadSheaves[] ids = byId;
        final ThreadSheaves t = s.id < ids.length ? ids[s.id] : null;
        if (t != null) {
            t.flush();
        }
    }

    /**
     * The kernel is closing: this allocator forgets its sheaves (their memory goes away), so that a later call
     * takes the slow paths, which fail on the closed memory with an exception instead of touching it.
     */
    void forgetSheaves() {
        fastLimit = 0;
        updateLimits();
        views = null;
        viewKeys = null;
        Arrays.fill(bySize, null);
        byId = new ThreadSheaves[byId.length];
        lastFreed = null;
        lastFreedId = -1;
    }

    /** Returns every object this thread holds in any sheaf to the slab layer. */
    public void flush() {
        checkOwner();
        flushAllCaches();
    }

    /**
     * Returns all sheaves and folds the fast-path counts into the caches' per-CPU statistics. Only the owner, or
     * one reaper after the owner ended. Sheaves of a destroyed cache are dropped (their objects were reported as
     * remaining when it was destroyed). Returns the objects returned.
     */
    long flushAllCaches() {
        for (final ThreadSheaves t : byId) {
            if (t != null) {
                t.pcpu[t.statBase + StatItem.ALLOC_PCS.ordinal()] += t.allocPcs;
                t.pcpu[t.statBase + StatItem.FREE_PCS.ordinal()] += t.freePcs;
                t.allocPcs = 0;
                t.freePcs = 0;
            }
        }
        long n = 0;
        for (final ThreadSheaves t : byId) {
            if (t != null) {
                n += t.flush();
            }
        }
        return n;
    }

    /** This thread's fast-path ALLOC_PCS/FREE_PCS of {@code s} on {@code cpu} (racy, like the kernel's stats). */
    long pendingStat(final KmemCache s, final StatItem item, final int cpu) {
        final ThreadSheaves[] ids = byId;
        final ThreadSheaves t = s.id < ids.length ? ids[s.id] : null;
        if (t == null || t.cpu != cpu) {
            return 0;
        }
        return item == StatItem.ALLOC_PCS ? t.allocPcs : item == StatItem.FREE_PCS ? t.freePcs : 0;
    }

    void clearPendingStat(final KmemCache s, final StatItem item) {
        final ThreadSheaves[] ids = byId;
        final ThreadSheaves t = s.id < ids.length ? ids[s.id] : null;
        if (t != null) {
            if (item == StatItem.ALLOC_PCS) {
                t.allocPcs = 0;
            } else if (item == StatItem.FREE_PCS) {
                t.freePcs = 0;
            }
        }
    }

    boolean hasSheaves(final KmemCache s) {
        final ThreadSheaves[] ids = byId;
        return s.id < ids.length && ids[s.id] != null;
    }

    long objects(final KmemCache s) {
        final ThreadSheaves[] ids = byId;
        final ThreadSheaves t = s.id < ids.length ? ids[s.id] : null;
        return t == null ? 0 : t.objects();
    }

    /**
     * One thread's main and spare sheaf of one cache. Touched only by the owner (or after it ended).
     *
     * <p>The main sheaf is kept flat for the hot paths: {@link #objects} is {@code main.objects} and {@link #size}
     * its count, so a pop or push reads this object and the array, nothing else. Invariant: {@code objects ==
     * main.objects}; {@code size} is the main sheaf's count and {@code main.size} is stale while main is attached
     * here: every slow path writes it back ({@link #mainOut}) before main is handed to the barn or the slab layer
     * and reads the new main back ({@link #mainIn}) after.
     */
    static final class ThreadSheaves {
        /** Fast-path modes: check and write the free mark; no mark (double_free=kernel); always the slow path. */
        private static final int KEYED = 0;
        private static final int PLAIN = 1;
        private static final int SLOW = 2;

        /** The main sheaf's objects and count (see the class comment). */
        long[] objects;
        int size;
        /** The size {@link SlabAllocator#allocate} last asked of this cache (its segment view cache's gate). */
        long lastViewSize;
        /**
         * The last view {@link SlabAllocator#cacheView} made for an object of this cache ({@link #lastView}) and
         * its key ({@link #lastViewKey}: {@code phys << 14 | byteSize} as the keyed cache's, -1 = none yet, which
         * no key equals): handed out again when the same object comes back asked with the view's size, before the
         * size gate and the keyed cache. Invariant: {@code lastViewKey != -1} implies {@code lastView} is a view of
         * exactly that object's start and size. Written only where a new view is cached, never on a hit (a
         * reference store into this long-lived object pays G1's post-write barrier). Owner only, as the keyed cache.
         */
        MemorySegment lastView;
        long lastViewKey = -1;
        /** Fast-path mode of allocations and frees ({@link #KEYED}, {@link #PLAIN}, {@link #SLOW}). */
        final int mode;
        /** Native address of the free mark of physical address 0 ({@link FreeMarks}). */
        final long markBase;
        /**
         * ALLOC_PCS / FREE_PCS of the fast paths, counted here (plain fields, owner only) and added to the
         * cache's per-CPU counters when they are read, so the hot path touches no shared array.
         */
        long allocPcs;
        long freePcs;
        final int objSize;
        final int redLeftPad;
        final long recip;
        final KmemCache cache;
        final long[] pcpu;
        final int cpu;
        final int statBase;
        /** Double frees refused: frees check and write the key, allocations check and clear it. */
        final boolean checkKey;
        Sheaf main;
        Sheaf spare;

        ThreadSheaves(final KmemCache cache, final int capacity, final int cpu) {
            this.cache = cache;
            this.pcpu = cache.pcpu;
            this.cpu = cpu;
            this.objSize = cache.size();
            this.redLeftPad = cache.redLeftPad();
            this.recip = ((1L << 32) + objSize - 1) / objSize;
            this.statBase = cpu * KmemCache.STRIDE + KmemCache.W_STATS;
            final long base = cache.slub.mem.nativeAddress(0);
            final long last = cache.slub.mem.totalBytes() - 1;
            if (cache.slub.mem.nativeAddress(last) != base + last) {
                throw new IllegalStateException("model memory is not one contiguous native range (phys 0x"
                    + Long.toHexString(last) + " at native 0x" + Long.toHexString(cache.slub.mem.nativeAddress(last))
                    + ", expected: 0x" + Long.toHexString(base + last) + ")");
            }
            this.checkKey = cache.checkKey;
            this.markBase = cache.mm.freeMarksAddress();
            // a key in the free pointer's word (ctor, RCU and 8-byte caches) is left to the slow paths
            this.mode = !checkKey ? PLAIN : cache.keyIsFp ? SLOW : KEYED;
            this.main = new Sheaf(capacity);
            mainIn();
            cache.statInc(cpu, StatItem.SHEAF_ALLOC);
        }

        /** Writes the main sheaf's count back to it, so that it can be handed over; returns it. */
        private Sheaf mainOut() {
            main.size = size;
            return main;
        }

        /** Attaches {@link #main} (after a slow path replaced or changed it). */
        private void mainIn() {
            objects = main.objects;
            size = main.size;
        }

        int objects() {
            return size + (spare == null ? 0 : spare.size);
        }

        /**
         * The allocation fast path: pops the top object of the main sheaf, checking and clearing its free mark;
         * -1, with nothing changed, when main is empty or anything is unusual (the slow path, {@link #pop}, then
         * handles and reports it).
         */
        long popFast() {
            final int n = size;
            if (n <= 0) {
                return -1;
            }
            final long phys = objects[n - 1];
            if (mode == KEYED) {
                final long at = markBase + (phys >>> MemMap.FREE_MARK_SHIFT);
                if ((byte) RAW_BYTE.get(ALL_MEMORY, at) != FreeMarks.FREE) {
                    return -1;  // lost its free mark: reported and dropped by the slow path
                }
                RAW_BYTE.set(ALL_MEMORY, at, (byte) 0);
            } else if (mode != PLAIN) {
                return -1;
            }
            size = n - 1;
            allocPcs++;
            return phys;
        }

        /** Pops an object to hand out (its free mark checked and cleared), or 0 when memory is exhausted. */
        long pop() {
            for (;;) {
                final long phys = size > 0 ? objects[--size] : allocSlow();
                if (phys == 0 || !checkKey || cache.handoutFromSheaf(phys)) {
                    return phys;
                }
            }
        }

        /** Main is empty: swap with a non-empty spare, take a full sheaf from the barn, or refill. */
        long allocSlow() {
            final Sheaf m = mainOut();
            if (spare != null && spare.size > 0) {
                main = spare;
                spare = m;
            } else {
                final Barn barn = cache.barn(cpu);
                Sheaf full = spare != null ? barn.replaceEmpty(m) : null;  // both empty: one trip to the barn
                if (full != null) {
                    cache.statInc(cpu, StatItem.BARN_GET);
                    main = full;
                } else if ((full = barn.getFull()) != null) {
                    cache.statInc(cpu, StatItem.BARN_GET);
                    if (spare == null) {
                        spare = m;
                    } else if (!barn.putEmpty(m)) {
                        cache.statInc(cpu, StatItem.SHEAF_FREE);
                    }
                    main = full;
                } else {
                    cache.statInc(cpu, StatItem.BARN_GET_FAIL);
                    if (cache.refillSheaf(cpu, Gfp.KERNEL | Gfp.NOWARN, m) == 0) {
                        // before failing, take back what ended threads and barns strand, then try once more
                        cache.slub.reclaimStranded();
                        if (cache.refillSheaf(cpu, Gfp.KERNEL, m) == 0) {
                            mainIn();
                            return 0;
                        }
                    }
                }
            }
            mainIn();
            MmEvents.allocationSample(cache.log.kernelId(), cache.name(), cache.objectSize(), size);  // JFR, throttled; slow path only
            return objects[--size];
        }

        /**
         * The free fast path (a separate method so that {@link #kfree} stays small enough to be inlined): pushes
         * {@code phys}, on page {@code pfn} whose {@link SlabIndex} entry is {@code e} (a slab of this cache), on
         * the main sheaf after checking and setting its free mark ({@code mark}, the byte at native address
         * {@code markAt}, loaded by the caller). False, with nothing changed, for anything
         * unusual (not a slab page, not an object start, main full, key shares the free pointer's word, already
         * free): the slow path handles and reports it.
         */
        boolean freeFast(final long phys, final long pfn, final long e, final long markAt, final byte mark) {
            final long off = phys - (SlabIndex.head(pfn, e) << PhysicalMemory.PAGE_SHIFT) - redLeftPad;
            final long idx = (off * recip) >>> 32;
            final long[] o = objects;
            final int n = size;
            // objects == 0: not a slab page (the index entry is 0)
            if (off < 0 || idx * objSize != off || idx >= SlabIndex.objects(e) || n == o.length || mode == SLOW) {
                return false;
            }
            if (mode == KEYED) {
                if (mark == FreeMarks.FREE) {
                    return false;  // already free: the slow path reports and refuses it
                }
                RAW_BYTE.set(ALL_MEMORY, markAt, FreeMarks.FREE);
            }
            o[n] = phys;
            size = n + 1;
            freePcs++;
            return true;
        }

        /** Pushes a checked free object (the slow path of a free). */
        void push(final long phys) {
            if (size < objects.length) {
                objects[size++] = phys;
            } else {
                freeSlow(phys);
            }
        }

        /** Main is full: swap with a non-full spare, or park main in the barn (or flush it) for an empty one. */
        void freeSlow(final long phys) {
            final Sheaf m = mainOut();
            final Sheaf swap;
            if (spare != null && spare.size < spare.capacity()) {
                main = spare;
                spare = m;
            } else if (spare != null && (swap = cache.barn(cpu).replaceFull(m)) != null) {
                cache.statInc(cpu, StatItem.BARN_PUT);  // both full: one trip to the barn
                main = swap;
            } else {
                final Barn barn = cache.barn(cpu);
                Sheaf empty = barn.getEmpty();
                if (empty == null) {
                    empty = new Sheaf(m.capacity());
                    cache.statInc(cpu, StatItem.SHEAF_ALLOC);
                }
                if (spare == null) {
                    spare = m;
                } else if (barn.putFull(m)) {
                    cache.statInc(cpu, StatItem.BARN_PUT);
                } else {
                    cache.statInc(cpu, StatItem.BARN_PUT_FAIL);
                    cache.flushSheafToSlabs(cpu, m);
                    if (!barn.putEmpty(m)) {
                        cache.statInc(cpu, StatItem.SHEAF_FREE);
                    }
                }
                main = empty;
            }
            mainIn();
            objects[size++] = phys;
        }

        long flush() {
            final Sheaf m = mainOut();
            final long n = (long) m.size + (spare == null ? 0 : spare.size);
            final boolean destroyed = cache.isDestroyed();
            if (destroyed) {
                m.size = 0;
                if (spare != null) {
                    spare.size = 0;
                }
            } else {
                cache.flushSheafToSlabs(cpu, m);
                if (spare != null) {
                    cache.flushSheafToSlabs(cpu, spare);
                }
            }
            mainIn();
            return destroyed ? 0 : n;
        }
    }
}
