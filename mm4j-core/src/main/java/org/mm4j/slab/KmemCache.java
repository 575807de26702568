package org.mm4j.slab;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.KernelLog;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.mm4j.slab.debug.DebugCache;
import org.mm4j.slab.debug.SlubDebug;
import org.mm4j.slab.debug.SlubDebugException;

import static org.mm4j.slab.SlabFlags.SLAB_CACHE_DMA;
import static org.mm4j.slab.SlabFlags.SLAB_CACHE_DMA32;
import static org.mm4j.slab.SlabFlags.SLAB_DEBUG_FLAGS;
import static org.mm4j.slab.SlabFlags.SLAB_RECLAIM_ACCOUNT;
import static org.mm4j.slab.SlabFlags.SLAB_STORE_USER;

/**
 * {@code struct kmem_cache}: a SLUB object cache of Linux 6.18 ({@code mm/slub.c}) over the model's physical
 * memory. Objects are handed out as kernel virtual addresses ({@code PAGE_OFFSET + phys}).
 *
 * <p>Notation: a <em>slab</em> is named by the pfn of its head page; an object by its physical address
 * ({@code phys}; 0 is NULL, pfn 0 being reserved); in packed words an object is a reference: {@code phys >>> 3}
 * in the per-CPU word, slab-relative in the slab word (see below). The free pointer of a free object is 8 bytes at {@link #offset()} holding the next free
 * object's phys (0 ends the list).
 *
 * <p>Layout of the per-CPU data ({@code struct kmem_cache_cpu}), one {@link #STRIDE}-long block per CPU slot in
 * {@link #pcpu} (a heap {@code long[]}, 512 bytes per slot so slots do not share cache lines):
 * <pre>
 *  +0  word      freelist ref phys>>>3 (bits 63..T) | tid (bits T-1..0); tid bit 0 = LOCKED (mm4j, see below)
 *  +1  slab      pfn of the CPU slab ({@code c->slab}), -1 = none
 *  +2  partial   pfn of the first CPU partial slab ({@code c->partial}), -1 = none
 *  +3  freelist  the CPU freelist (phys) while the slot is LOCKED
 *  +4  object    scratch for debug allocations (pc.object) while locked
 *  +8  stats     one counter per {@link StatItem}
 * </pre>
 * T = {@link #tidBits(long)}: the ref takes the bits the highest physical address needs (phys>>>3: 25 bits at
 * mem=256M, 35 at 256G, 37 at the 1 TiB maximum), the tid the rest (39, 29, 27 bits).
 * The slab word ({@link MemMap#SLAB_WORD}, {@code slab->freelist + counters}) packs
 * {@code freelist ref (63..32) | inuse (31..16) | objects (15..1) | frozen (0)} and changes only by CAS; its ref is
 * slab-relative ({@code ((phys - slab phys) >>> 3) + 1}, 0 = NULL), so it needs no more bits as memory grows.
 *
 * <p>Invariants: (1) an object is in exactly one of: a CPU freelist, a slab freelist, a sheaf, or the hands of
 * a caller. (2) {@code inuse} of a slab counts the objects not on its own freelist (objects on a CPU freelist or
 * in sheaves count as in use, as in the kernel). (3) a frozen slab is some slot's CPU slab and is on no list;
 * CPU partial slabs are not frozen and are on no node list ({@code !ON_PARTIAL && !frozen}, 6.8+ scheme).
 *
 * <p>Safety (mm4j; off with {@code mm4j.double_free=kernel} and in debug caches, which keep the kernel's own
 * checks): (4) a free object of this cache holds its key {@code freeKey ^ phys} in its key word
 * ({@link #keyOffset}) wherever it is (sheaf, barn, CPU or slab freelist), written when it is freed or its slab
 * made; an object in a caller's hands does not (cleared when handed out). Where the key shares the free pointer's
 * word ({@link #keyIsFp}) (4) holds in sheaves only; on freelists that word holds the encoded pointer. A free
 * checks (4) first ({@link #checkFree}); a handout checks and clears it ({@link #handoutFromSheaf}). (5) a free
 * pointer is followed only when it decodes to NULL or an object of the same slab ({@link #nextChecked}); stored
 * values are {@code freelist_ptr_encode}d when {@code CONFIG_SLAB_FREELIST_HARDENED}.
 *
 * <p>Concurrency (lock order: 1. slab_mutex ({@link Slub}), 2. a slot's {@code local_lock}
 * ({@link #slotLock}), 3. {@code n->list_lock}, 4. the barn lock). The fast paths take no lock: alloc and free
 * read the slot word then {@code c->slab} and finish with one CAS on the word ({@code this_cpu_cmpxchg_double}
 * on the packed {freelist, tid}). Departure from Linux, named: several Java threads may share one CPU slot and
 * cannot be kept off it while the slow path runs, so the slow path, holding the slot lock, <em>seizes</em> the
 * word (CAS to freelist NULL with the LOCKED bit) and publishes it again at the end (new freelist, next tid,
 * unlocked). While LOCKED, fast allocations find no freelist and queue on the slot lock; fast frees see LOCKED
 * and take {@code __slab_free}, which is always correct.
 *
 * <p>The ABA window of the per-CPU word. Linux compares {freelist, tid} with a double-word cmpxchg and a full
 * {@code unsigned long} tid; Java has no 128-bit CAS, so mm4j packs both into one long and trades tid bits for
 * reference bits as {@code mem=} grows. Every operation on a slot advances its tid by {@link #TID_STEP} (a
 * seize/release pair too), so the counter has T-1 bits and repeats after 2^(T-1) operations on that slot. A stale
 * CAS succeeds wrongly only if its thread stalls between reading the word and its CAS while that very slot runs
 * exactly a multiple of 2^(T-1) operations and ends on the same freelist head: at the 1 TiB maximum (T = 27)
 * that is 2^26 (67 million) operations, 2^28 at 256 GiB, at least 2^31 up to 32 GiB (today's default keeps more).
 * A 32-bit Linux kernel with CONFIG_PREEMPTION accepts less: its 32-bit tid advances by
 * {@code TID_STEP = roundup_pow_of_two(NR_CPUS)} (256 with the reference config), wrapping after 2^24 operations
 * per CPU. {@link #MIN_TID_BITS} holds the floor, and {@code BootParams.MAX_MEM} stays within it.
 */
public final class KmemCache implements DebugCache {
    static final int STRIDE = 64;
    static final int W_WORD = 0;
    static final int W_SLAB = 1;
    static final int W_PARTIAL = 2;
    static final int W_FREELIST = 3;
    static final int W_OBJECT = 4;
    static final int W_STATS = 8;
    /**
     * Model events that 6.18 has no {@code stat_item} for, counted after the statistics in each slot's block (plain
     * increments on paths that already left the fast path, racy like the kernel's stats); read by the stress tests
     * to prove the race they target happened ({@link #modelEvent}).
     */
    static final int W_EVENTS = W_STATS + StatItem.COUNT;
    /** {@code do_slab_free} found the object's slab is its slot's CPU slab but the word seized (LOCKED). */
    static final int E_FREE_MET_LOCKED = 0;
    /** The per-CPU sheaves' try-lock was held by another thread of the slot (alloc or free fell back). */
    static final int E_PCS_TRYLOCK_FAIL = 1;
    static final int NR_EVENTS = 2;

    static {
        assert W_EVENTS + NR_EVENTS <= STRIDE : "per-slot block too small for the statistics";
    }
    static final long LOCKED = 1L;
    static final long TID_STEP = 2L;
    /** The fewest tid bits mm4j accepts (a 26-bit counter: see the class comment on the ABA window). */
    static final int MIN_TID_BITS = 27;

    private static final VarHandle LA = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int S_ALLOC_FASTPATH = W_STATS + StatItem.ALLOC_FASTPATH.ordinal();
    private static final int S_FREE_FASTPATH = W_STATS + StatItem.FREE_FASTPATH.ordinal();
    private static final int S_CPU_FAIL = W_STATS + StatItem.CMPXCHG_DOUBLE_CPU_FAIL.ordinal();

    final Slub slub;
    final int id;
    private final String name;
    final Geometry geo;
    private final PhysicalMemory mem;
    private final MemorySegment seg;
    private final MemMap mm;
    private final BuddyAllocator buddy;
    private final CpuSlots cpus;
    private final KernelLog log;
    private final int nrCpus;
    private final int nrNodes;

    final long flags;
    final Ctor ctor;
    private final boolean debug;
    final int size;
    final int offset;
    final int redLeftPad;
    final int align;
    private final long recip;
    /** Low bits of the per-CPU word holding the tid ({@link #tidBits(long)}); the freelist ref is above them. */
    private final int tidBits;
    private final long tidMask;
    private final int oo;
    private final int allocGfp;
    volatile int objectSize;
    volatile int inuse;
    volatile int minPartial;
    volatile int cpuPartial;
    volatile int cpuPartialSlabs;
    final int useroffset;
    final int usersize;
    final int sheafCapacity;
    /** {@code s->refcount}: 1 + number of aliases merged into this cache; guarded by slab_mutex. */
    int refcount = 1;
    final List<String> aliasNames = new ArrayList<>();
    /** The name the cache shows under /sys/kernel/slab (":0000064" for mergeable caches). */
    String sysfsName;
    private volatile boolean destroyed;
    /** SLAB_FAILSLAB, which /sys/kernel/slab/NAME/failslab sets and clears (the kernel writes s->flags). */
    private volatile boolean failslab;
    /**
     * Slab creations and discards begun and done (a slab gaining PG_slab up to being counted in its node, or
     * being uncounted up to losing PG_slab): validate compares its mem_map count with the node counters only
     * over a walk that no such change overlapped. Slow paths only (they go to the buddy allocator anyway).
     */
    private final AtomicLong slabChangesBegun = new AtomicLong();
    private final AtomicLong slabChangesDone = new AtomicLong();
    /** Slabs that changed under a validate walk (re-read or left unjudged) and counter comparisons retried. */
    private final AtomicLong validateRaces = new AtomicLong();
    /** Bit set in the cache id of slabs left behind by a destroyed cache (see {@link #markDestroyed}). */
    static final int DESTROYED_ID = 1 << 30;

    /** {@code s->random}: the per-cache secret of hardened free pointers (0 without SLAB_FREELIST_HARDENED). */
    final long random;
    private final boolean hardened;
    /** {@code s->random_seq}: offsets of the objects of an oo-order slab in shuffled order, or null. */
    private final int[] randomSeq;
    private final long shuffleStream;
    private final AtomicLong shuffles = new AtomicLong();
    /** Double frees refused (not {@code mm4j.double_free=kernel}, not a debug cache): the key checks run. */
    final boolean checkKey;
    /** The boot's double-free key; a free object holds {@code freeKey ^ phys} in its key word. */
    final long freeKey;
    /** Offset of the key word in an object slot (the free pointer's own word when {@link #keyIsFp}). */
    final int keyOffset;
    /** No spare word for the key (8-byte objects; ctor and RCU caches, whose contents must survive a free). */
    final boolean keyIsFp;

    final long[] pcpu;
    private final ReentrantLock[] slotLock;
    final KmemCacheNode[] nodes;
    final CpuSheaves[] pcs;

    KmemCache(final Slub slub, final int id, final String name, final Geometry geo, final KmemCacheArgs args) {
        this.slub = slub;
        this.id = id;
        this.name = name;
        this.geo = geo;
        this.mem = slub.mem;
        this.seg = mem.nrNodes() == 1 ? mem.node(0) : null;
        this.mm = slub.memMap;
        this.buddy = slub.buddy;
        this.cpus = slub.cpus;
        this.log = slub.log;
        this.nrCpus = cpus.nrCpus();
        this.nrNodes = mem.nrNodes();
        this.flags = geo.flags();
        this.failslab = (flags & SlabFlags.SLAB_FAILSLAB) != 0;
        this.ctor = args.ctor();
        this.debug = (flags & SLAB_DEBUG_FLAGS) != 0;
        this.size = geo.size();
        this.offset = geo.offset();
        this.redLeftPad = geo.redLeftPad();
        this.align = geo.align();
        this.recip = ((1L << 32) + size - 1) / size;
        this.tidBits = tidBits(mem.totalBytes());
        if (tidBits < MIN_TID_BITS) {
            throw new IllegalArgumentException("physical memory of " + mem.totalBytes() + " bytes leaves " + tidBits
                + " tid bits in the per-CPU word (expected: at least " + MIN_TID_BITS + ")");
        }
        this.tidMask = (1L << tidBits) - 1;
        this.oo = geo.order();
        this.objectSize = geo.objectSize();
        this.inuse = geo.inuse();
        this.minPartial = geo.minPartial();
        this.cpuPartial = geo.cpuPartial();
        this.cpuPartialSlabs = geo.cpuPartialSlabs();
        this.useroffset = args.useroffset();
        this.usersize = args.usersize();
        this.sheafCapacity = debug ? 0 : Math.max(0, args.sheafCapacity());
        int g = Gfp.COMP;
        if ((flags & SLAB_CACHE_DMA) != 0) {
            g |= Gfp.DMA;
        }
        if ((flags & SLAB_CACHE_DMA32) != 0) {
            g |= Gfp.DMA32;
        }
        if ((flags & SLAB_RECLAIM_ACCOUNT) != 0) {
            g |= Gfp.RECLAIMABLE;
        }
        this.allocGfp = g;
        this.hardened = slub.freelistHardened;
        this.random = hardened ? SlabRandom.next(slub.randomSeed, SlabRandom.stream(name, 1), 0) : 0;
        this.randomSeq = slub.freelistRandom ? initCacheRandomSeq(slub.randomSeed) : null;
        this.shuffleStream = SlabRandom.stream(name, 3);
        this.checkKey = slub.refuseDoubleFree && !debug;
        this.freeKey = slub.freeKey;
        final boolean preserve = ctor != null || (flags & SlabFlags.SLAB_TYPESAFE_BY_RCU) != 0;
        this.keyIsFp = preserve || size < 16;
        this.keyOffset = keyIsFp ? offset : offset == 0 ? 8 : 0;
        this.pcpu = new long[nrCpus * STRIDE];
        this.slotLock = new ReentrantLock[nrCpus];
        for (int c = 0; c < nrCpus; c++) {
            slotLock[c] = new ReentrantLock();
            pcpu[c * STRIDE + W_WORD] = cpuWord(0, (long) c << 1);  // init_tid(cpu), LOCKED clear
            pcpu[c * STRIDE + W_SLAB] = -1;
            pcpu[c * STRIDE + W_PARTIAL] = -1;
        }
        this.nodes = new KmemCacheNode[nrNodes];
        final int threadCap = slub.threadSheafCapacity();
        for (int n = 0; n < nrNodes; n++) {
            final Barn barn;
            if (sheafCapacity > 0) {
                barn = new Barn();
            } else if (threadCap > 0) {
                final int max = Math.max(Barn.MAX_FULL_SHEAVES, Math.min(64, (1 << 20) / (threadCap * size)));
                barn = new Barn(max, max);
            } else {
                barn = null;
            }
            nodes[n] = new KmemCacheNode(n, barn);
        }
        if (sheafCapacity > 0) {
            pcs = new CpuSheaves[nrCpus];
            // init_percpu_sheaves: an empty main sheaf per CPU (alloc_empty_sheaf), each counted as sheaf_alloc
            // on the CPU that creates the cache
            final int creator = cpus.current();
            for (int c = 0; c < nrCpus; c++) {
                pcs[c] = new CpuSheaves(sheafCapacity);
                stat(creator, StatItem.SHEAF_ALLOC);
            }
        } else {
            pcs = null;
        }
    }

    // ------------------------------------------------------------------ geometry and identity

    public String name() {
        return name;
    }

    public int objectSize() {
        return objectSize;
    }

    /** {@code s->size} (sysfs slab_size). */
    public int size() {
        return size;
    }

    public int align() {
        return align;
    }

    public int offset() {
        return offset;
    }

    public int inuse() {
        return inuse;
    }

    public int redLeftPad() {
        return redLeftPad;
    }

    public int order() {
        return oo;
    }

    public int objsPerSlab() {
        return geo.objects();
    }

    public int minPartial() {
        return minPartial;
    }

    public int cpuPartial() {
        return cpuPartial;
    }

    public int sheafCapacity() {
        return sheafCapacity;
    }

    public long flags() {
        return flags;
    }

    public Ctor ctor() {
        return ctor;
    }

    public int usersize() {
        return usersize;
    }

    public Geometry geometry() {
        return geo;
    }

    /** {@code kmem_cache_debug()}: the cache takes only the slow, list_lock-serialized paths. */
    public boolean isDebug() {
        return debug;
    }

    public boolean isDestroyed() {
        return destroyed;
    }

    /** Aliases merged into this cache (sysfs {@code aliases} = their number). */
    public int aliases() {
        synchronized (slub) {
            return refcount < 0 ? 0 : refcount - 1;
        }
    }

    /** Names of the caches merged into this one (in merge order). */
    public List<String> aliasNames() {
        synchronized (slub) {
            return List.copyOf(aliasNames);
        }
    }

    @Override
    public boolean objectPoison() {
        return (flags & SlabFlags.OBJECT_POISON) != 0;
    }

    @Override
    public boolean consistencyChecks() {
        return (flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0;
    }

    @Override
    public boolean redZone() {
        return (flags & SlabFlags.SLAB_RED_ZONE) != 0;
    }

    @Override
    public boolean poison() {
        return (flags & SlabFlags.SLAB_POISON) != 0;
    }

    @Override
    public boolean storeUser() {
        return (flags & SLAB_STORE_USER) != 0;
    }

    @Override
    public boolean trace() {
        return (flags & SlabFlags.SLAB_TRACE) != 0;
    }

    @Override
    public boolean isKmalloc() {
        return (flags & SlabFlags.SLAB_KMALLOC) != 0;
    }

    /** {@code get_freepointer} on kernel virtual addresses (0 = NULL). */
    @Override
    public long getFreePointer(final long object) {
        final long fp = getFp(object - PhysicalMemory.PAGE_OFFSET);
        return fp == 0 ? 0 : fp + PhysicalMemory.PAGE_OFFSET;
    }

    /** {@code set_freepointer} on kernel virtual addresses (0 = NULL). */
    @Override
    public void setFreePointer(final long object, final long fp) {
        setFp(object - PhysicalMemory.PAGE_OFFSET, fp == 0 ? 0 : fp - PhysicalMemory.PAGE_OFFSET);
    }

    private static long kaddr(final long phys) {
        return PhysicalMemory.PAGE_OFFSET + phys;
    }

    /**
     * The real native address of the object at {@code kaddr}.
     *
     * @throws IllegalArgumentException naming {@code kaddr} when it is not inside the model's memory
     */
    public long nativeAddress(final long kaddr) {
        return slub.nativeAddress(kaddr);
    }

    /**
     * A bounded view of the object at {@code kaddr} ({@code object_size} bytes).
     *
     * @throws IllegalArgumentException naming {@code kaddr} when the view is not inside the model's memory
     */
    public MemorySegment segment(final long kaddr) {
        return slub.segment(kaddr, objectSize);
    }

    /** Whether SLAB_FAILSLAB is set: failslab's {@code cache-filter} lets this cache fail. */
    public boolean failslab() {
        return failslab;
    }

    /** {@code /sys/kernel/slab/NAME/failslab}: sets or clears SLAB_FAILSLAB. */
    public void failslab(final boolean on) {
        failslab = on;
    }

    @Override
    public String toString() {
        return name;
    }

    // ------------------------------------------------------------------ public alloc/free API

    /** {@code kmem_cache_alloc(s, GFP_KERNEL)}. */
    public long alloc() {
        return allocNode(Gfp.KERNEL, -1);
    }

    /** {@code kmem_cache_alloc(s, gfp)}: a kernel virtual address, or 0 when memory is exhausted. */
    public long alloc(final int gfp) {
        return allocNode(gfp, -1);
    }

    /** {@code kmem_cache_alloc_node(s, gfp, nid)} ({@code nid < 0} = NUMA_NO_NODE). */
    public long allocNode(final int gfp, final int nid) {
        checkLive("kmem_cache_alloc");
        final long phys = slabAllocNode(cpus.current(), gfp, nid, objectSize);
        if (debug) {
            slub.debug().checkpoint();
        }
        if (phys == 0) {
            return 0;
        }
        postAlloc(phys, gfp);
        return PhysicalMemory.PAGE_OFFSET + phys;
    }

    /** {@code kmem_cache_free(s, x)}. Freeing 0 (NULL) is a no-op. */
    public void free(final long kaddr) {
        if (kaddr == 0) {
            return;
        }
        checkLive("kmem_cache_free");
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        final long slab = slub.virtToSlab(phys);
        if (slab < 0) {
            if (debug && (flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0 && mem.validPhys(phys)) {
                // cache_from_obj -> virt_to_cache: WARN and leave the memory alone
                slub.debug().notSlabWarning(name, kaddr);
                slub.debug().checkpoint();
                throw new IllegalArgumentException("kmem_cache_free(" + name + ", 0x" + Long.toHexString(kaddr)
                    + "): not in a slab page");
            }
            slub.reportNotSlab("kmem_cache_free", kaddr);
            return;
        }
        final int cid = mm.lpInt(slab, MemMap.SLAB_CACHE);
        if (cid != id) {
            final KmemCache real = slub.cacheById(cid);
            final String msg = "kmem_cache_free: Wrong slab cache. " + name + " but object is from "
                + (real == null ? "?" : real.name);
            if (real == null || real.destroyed) {
                slub.warn(msg);
                throw new IllegalArgumentException(msg);
            }
            slub.debug().wrongCacheWarning(this, real, new SlabPage(slub, slab), kaddr);
            real.freeChecked(cpus.current(), slab, phys);
            return;
        }
        freeChecked(cpus.current(), slab, phys);
    }

    /** {@code kmem_cache_alloc_bulk}: fills {@code out[0..n)}; returns n, or 0 (nothing allocated) on failure. */
    public int allocBulk(final int gfp, final long[] out, final int n) {
        checkLive("kmem_cache_alloc_bulk");
        if (n < 0 || n > out.length) {
            throw new IllegalArgumentException("n=" + n + " (expected: 0 to " + out.length + ")");
        }
        if (n == 0 || (slub.failslab.active() && slub.failslab.shouldFailslab(this, gfp))) {  // slab_pre_alloc_hook
            return 0;
        }
        final int cpu = cpus.current();
        final boolean mayReclaim = (gfp & Gfp.DIRECT_RECLAIM) != 0;
        int got = allocBulkPhys(cpu, mayReclaim ? gfp | Gfp.NOWARN : gfp, out, 0, n);
        if (got < n && mayReclaim) {
            freeBulkPhys(cpu, out, got);
            slub.reclaimStranded();
            got = allocBulkPhys(cpu, gfp, out, 0, n);
        }
        if (got < n) {
            freeBulkPhys(cpu, out, got);
            return 0;
        }
        for (int i = 0; i < n; i++) {
            while (checkKey && !handoutFromFreelist(out[i])) {
                if (allocBulkPhys(cpu, gfp, out, i, 1) == 0) {  // the bad object was dropped: take another
                    for (int j = 0; j < i; j++) {
                        markFree(out[j]);
                    }
                    freeBulkPhys(cpu, out, i);
                    return 0;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            postAlloc(out[i], gfp);
            out[i] += PhysicalMemory.PAGE_OFFSET;
        }
        return n;
    }

    /** {@code kmem_cache_free_bulk}: frees {@code objs[0..n)} (kernel virtual addresses). */
    public void freeBulk(final long[] objs, final int n) {
        checkLive("kmem_cache_free_bulk");
        if (n < 0 || n > objs.length) {
            throw new IllegalArgumentException("n=" + n + " (expected: 0 to " + objs.length + ")");
        }
        final int cpu = cpus.current();
        final long[] phys = new long[n];
        int m = 0;
        RuntimeException refused = null;
        for (int i = 0; i < n; i++) {
            if (objs[i] == 0) {
                continue;
            }
            final long p = objs[i] - PhysicalMemory.PAGE_OFFSET;
            final long slab = slub.virtToSlab(p);
            try {
                if (slab < 0 || mm.lpInt(slab, MemMap.SLAB_CACHE) != id || !validObject(slab, p)) {
                    free(objs[i]);  // reports the problem as a single free would
                    continue;
                }
                if (checkKey) {
                    checkFree(slab, p);
                }
            } catch (final RuntimeException e) {
                if (refused == null) {
                    refused = e;  // the rest is freed; the first refusal is thrown at the end
                }
                continue;
            }
            if (slub.kmemleak != null) {
                slub.kmemleak.free(objs[i]);  // KMEMLEAK HOOK: slab_free_hook -> kmemleak_free
            }
            if (slub.initOnFree) {
                mem.fill(p, objectSize, (byte) 0);
            }
            if (checkKey) {
                markFree(p);
            }
            if (pcs != null) {
                slabFree(cpu, slab, p);
            } else {
                phys[m++] = p;
            }
        }
        freeBulkPhys(cpu, phys, m);
        if (refused != null) {
            throw refused;
        }
    }

    /** {@code kmem_cache_shrink}: flushes CPU slabs and sheaves, frees empty slabs, sorts partial lists. */
    public void shrink() {
        checkLive("kmem_cache_shrink");
        flushAll();
        doShrink();
    }

    /** {@code kmem_cache_destroy}. */
    public void destroy() {
        slub.destroy(this);
    }

    /** The value of one statistic summed over CPU slots. */
    public long stat(final StatItem item) {
        long sum = 0;
        for (int c = 0; c < nrCpus; c++) {
            sum += stat(item, c);
        }
        return sum;
    }

    /** The value of one statistic on one CPU slot (with the per-thread sheaves' fast-path counts). */
    public long stat(final StatItem item, final int cpu) {
        final long v = pcpu[cpu * STRIDE + W_STATS + item.ordinal()];
        return item == StatItem.ALLOC_PCS || item == StatItem.FREE_PCS ? v + slub.threadSheafStat(this, item, cpu)
            : v;
    }

    /** Clears a statistic on every slot (writing 0 to its sysfs file). */
    public void clearStat(final StatItem item) {
        for (int c = 0; c < nrCpus; c++) {
            pcpu[c * STRIDE + W_STATS + item.ordinal()] = 0;
        }
        if (item == StatItem.ALLOC_PCS || item == StatItem.FREE_PCS) {
            slub.clearThreadSheafStat(this, item);
        }
    }

    // ------------------------------------------------------------------ internals: memory and words

    private long raw(final long phys) {
        return seg != null ? seg.get(ValueLayout.JAVA_LONG, phys) : mem.getLong(phys);
    }

    private void raw(final long phys, final long value) {
        if (seg != null) {
            seg.set(ValueLayout.JAVA_LONG, phys, value);
        } else {
            mem.putLong(phys, value);
        }
    }

    /**
     * {@code get_freepointer} + {@code freelist_ptr_decode}: the next free object (phys, 0 = NULL) as stored in
     * the object. Unchecked: a corrupted word decodes to anything; callers that follow it use
     * {@link #nextFree}/{@link #nextChecked}.
     */
    private long getFp(final long objPhys) {
        final long at = objPhys + offset;
        long v = raw(at);
        if (hardened) {
            v ^= random ^ Long.reverseBytes(PhysicalMemory.PAGE_OFFSET + at);
        }
        return v == 0 ? 0 : v - PhysicalMemory.PAGE_OFFSET;
    }

    /**
     * {@code set_freepointer} + {@code freelist_ptr_encode}: stores the kernel address of the next free object,
     * XORed with {@code s->random} and the byte-swapped address of the word itself when hardened.
     */
    private void setFp(final long objPhys, final long fpPhys) {
        final long at = objPhys + offset;
        long v = fpPhys == 0 ? 0 : PhysicalMemory.PAGE_OFFSET + fpPhys;
        if (hardened) {
            v ^= random ^ Long.reverseBytes(PhysicalMemory.PAGE_OFFSET + at);
        }
        raw(at, v);
    }

    /**
     * The next free object after {@code obj} on a freelist of {@code slab}, or -1 when the stored pointer is not
     * NULL and not an object of that slab (corrupt: never followed). Reports nothing.
     */
    long nextChecked(final long slab, final long obj) {
        final long next = getFp(obj);
        return next == 0 || validObject(slab, next) ? next : -1;
    }

    /**
     * {@link #nextChecked} that reports a corrupt pointer. Departure from Linux, named: without slub_debug a
     * 6.18 kernel follows whatever the word decodes to; mm4j reports it and cuts the freelist there (the objects
     * after the cut stay counted as in use).
     */
    private long nextFree(final long slab, final long obj) {
        final long next = nextChecked(slab, obj);
        if (next < 0) {
            slub.slabErr(this, slab, "Freechain corrupt: free pointer of object 0x" + Long.toHexString(kaddr(obj))
                + " decodes to 0x" + Long.toHexString(getFp(obj) + PhysicalMemory.PAGE_OFFSET)
                + " (mm4j: not followed, freelist cut)");
        }
        return next;
    }

    /**
     * The slab word of {@code slab}: its freelist is stored slab-relative, {@code ((phys - slabPhys) >>> 3) + 1}
     * with 0 = NULL, so the word does not cap physical memory (a slab spans at most 2^22 bytes: 20 of the 32 bits
     * would do).
     */
    static long slabWord(final long slab, final long freelistPhys, final int inuse, final int objects,
                         final boolean frozen) {
        final long ref = freelistPhys == 0 ? 0
            : ((freelistPhys - PhysicalMemory.pfnToPhys(slab)) >>> 3) + 1 & 0xffffffffL;
        return ref << 32 | (long) inuse << 16 | (long) objects << 1 | (frozen ? 1 : 0);
    }

    /** The freelist (phys, 0 = NULL) of slab word {@code w} of {@code slab}. */
    static long wFreelist(final long slab, final long w) {
        final long ref = w >>> 32;
        return ref == 0 ? 0 : PhysicalMemory.pfnToPhys(slab) + ((ref - 1) << 3);
    }

    /**
     * Bits of the per-CPU word below the freelist reference: the tid, bit 0 of it {@link #LOCKED}. The reference
     * {@code phys >>> 3} takes just the bits the machine's memory needs; the tid takes the rest.
     */
    static int tidBits(final long totalBytes) {
        final int refBits = 64 - Long.numberOfLeadingZeros(Math.max(1, (totalBytes - 1) >>> 3));
        return 64 - refBits;
    }

    /** The per-CPU word {freelist, tid}: ref {@code phys >>> 3} above {@link #tidBits}, the tid below. */
    long cpuWord(final long freelistPhys, final long tid) {
        return (freelistPhys >>> 3) << tidBits | tid & tidMask;
    }

    /** The CPU freelist (phys, 0 = NULL) of per-CPU word {@code w}. */
    long cpuFreelist(final long w) {
        return (w >>> tidBits) << 3;
    }

    static int wInuse(final long w) {
        return (int) (w >>> 16) & 0xffff;
    }

    static int wObjects(final long w) {
        return (int) (w >>> 1) & 0x7fff;
    }

    static boolean wFrozen(final long w) {
        return (w & 1) != 0;
    }

    private void stat(final int cpu, final StatItem item) {
        pcpu[cpu * STRIDE + W_STATS + item.ordinal()]++;
    }

    private void statAdd(final int cpu, final StatItem item, final int n) {
        pcpu[cpu * STRIDE + W_STATS + item.ordinal()] += n;
    }

    private void checkLive(final String op) {
        if (destroyed) {
            throw new IllegalStateException(op + ": cache " + name + " was destroyed (use after"
                + " kmem_cache_destroy)");
        }
    }

    /**
     * Marks the cache destroyed. Slabs still holding objects (reported by {@link #shutdown}) keep PG_slab but
     * their cache id gets {@link #DESTROYED_ID}: lock-free lookups by id (the thread sheaves' fast path) then
     * miss and fall to the slow paths, which name the destroyed cache ({@link Slub#cacheById} strips the bit).
     */
    void markDestroyed() {
        destroyed = true;
        for (final long slab : slabsOfCache()) {
            mm.spInt(slab, MemMap.SLAB_CACHE, id | DESTROYED_ID);
        }
    }

    private int localNode(final int cpu) {
        return cpu % nrNodes;
    }

    private int slabNid(final long slab) {
        return mem.pfnToNid(slab);
    }

    private int slabOrder(final long slab) {
        return mm.test(slab, MemMap.PG_HEAD) ? mm.compoundOrder(slab) : 0;
    }

    /** First object of a slab (phys). */
    long slabStart(final long slab) {
        return PhysicalMemory.pfnToPhys(slab) + redLeftPad;
    }

    /** Whether {@code phys} is the start of an object of {@code slab} ({@code check_valid_pointer}). */
    boolean validObject(final long slab, final long phys) {
        final long off = phys - slabStart(slab);
        // objects of a slab never change while it is a slab: a plain read
        if (off < 0 || off >= (long) wObjects(mm.lpLong(slab, MemMap.SLAB_WORD)) * size) {
            return false;
        }
        return ((off * recip) >>> 32) * size == off;
    }

    /** Seizes a slot's word (slot lock held): the CPU freelist moves to {@code pcpu[+3]}, LOCKED is set. */
    private void seize(final int cpu) {
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = (long) LA.getVolatile(pcpu, base);
            final long nw = cpuWord(0, (w & tidMask) + TID_STEP - 1) | LOCKED;
            if (LA.compareAndSet(pcpu, base, w, nw)) {
                pcpu[base + W_FREELIST] = cpuFreelist(w);
                return;
            }
        }
    }

    /** Publishes the slot's freelist again with the next tid, clears LOCKED and drops the slot lock. */
    private void release(final int cpu) {
        final int base = cpu * STRIDE;
        final long w = (long) LA.getVolatile(pcpu, base);
        final long fl = pcpu[base + W_FREELIST];
        pcpu[base + W_FREELIST] = 0;
        LA.setVolatile(pcpu, base, cpuWord(fl, (w & tidMask) + 1));
        slotLock[cpu].unlock();
    }

    private void lockSlot(final int cpu) {
        slotLock[cpu].lock();
        seize(cpu);
    }

    // ------------------------------------------------------------------ allocation

    /**
     * {@code slab_alloc_node}, and what the page allocator's direct reclaim would do before it fails: when the
     * first attempt finds no memory and {@code gfp} may reclaim, the stranded sheaves are reclaimed
     * ({@link Slub#reclaimStranded()}, with no slab lock held here) and the allocation is tried once more; only
     * that last attempt reports the failure (the first runs with {@code __GFP_NOWARN}).
     */
    long slabAllocNode(final int cpu, final int gfp, final int nid, final int origSize) {
        if (slub.failslab.active() && slub.failslab.shouldFailslab(this, gfp)) {  // slab_pre_alloc_hook
            return 0;
        }
        if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
            return slabAllocNodeOnce(cpu, gfp, nid, origSize);
        }
        final long obj = slabAllocNodeOnce(cpu, gfp | Gfp.NOWARN, nid, origSize);
        return obj != 0 ? obj : slabAllocAfterReclaim(gfp, nid, origSize);
    }

    private long slabAllocAfterReclaim(final int gfp, final int nid, final int origSize) {
        slub.reclaimStranded();
        return slabAllocNodeOnce(cpus.current(), gfp, nid, origSize);
    }

    /** {@code slab_alloc_node}: sheaves first (when the cache has them), then the lockless CPU freelist. */
    private long slabAllocNodeOnce(final int cpu, final int gfp, final int nid, final int origSize) {
        if (pcs != null && nid < 0) {
            for (;;) {
                final long obj = allocFromPcs(cpu, gfp);
                if (obj == 0) {
                    break;
                }
                if (!checkKey || handoutFromSheaf(obj)) {
                    return obj;
                }
            }
        }
        for (;;) {
            final long obj = allocCpuSlab(cpu, gfp, nid, origSize);
            if (obj == 0 || !checkKey || handoutFromFreelist(obj)) {
                return obj;
            }
        }
    }

    /** {@code __slab_alloc_node}: the lockless per-CPU freelist fast path. */
    long allocCpuSlab(final int cpu, final int gfp, final int nid, final int origSize) {
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = (long) LA.getVolatile(pcpu, base);
            final long obj = cpuFreelist(w);
            if (obj == 0 || (nid >= 0 && nid < nrNodes && mem.pfnToNid(obj >>> PhysicalMemory.PAGE_SHIFT) != nid)) {
                return slabAllocSlow(cpu, gfp, nid, origSize);
            }
            final long cslab = (long) LA.getAcquire(pcpu, base + W_SLAB);
            final long next = getFp(obj);
            if (next != 0 && (cslab < 0 || !validObject(cslab, next))) {
                return slabAllocSlow(cpu, gfp, nid, origSize);  // corrupt, or a stale read: decided under the lock
            }
            final long nw = cpuWord(next, (w & tidMask) + TID_STEP);
            if (LA.compareAndSet(pcpu, base, w, nw)) {
                pcpu[base + S_ALLOC_FASTPATH]++;
                return obj;
            }
            pcpu[base + S_CPU_FAIL]++;
        }
    }

    void postAlloc(final long phys, final int gfp) {
        postAlloc(phys, gfp, objectSize);
    }

    /**
     * {@code slab_post_alloc_hook}: zeroes the object when {@code slab_want_init_on_alloc} says so (POISON and
     * constructors take precedence over init_on_alloc); a kmalloc debug cache with U or Z zeroes only the
     * {@code origSize} bytes asked for, so the kmalloc red zone after them stays intact.
     */
    void postAlloc(final long phys, final int gfp, final long origSize) {
        if (slub.kmemleak != null) {
            slub.kmemleak.alloc(PhysicalMemory.PAGE_OFFSET + phys, objectSize, 1);  // KMEMLEAK HOOK: kmemleak_alloc
        }
        if (SlubDebugOptions.wantInitOnAlloc(slub.initOnAlloc, flags, ctor != null, (gfp & Gfp.ZERO) != 0)) {
            final boolean kmallocRedzone = (flags & SlabFlags.SLAB_KMALLOC) != 0
                && (flags & (SlabFlags.SLAB_STORE_USER | SlabFlags.SLAB_RED_ZONE)) != 0;
            mem.fill(phys, kmallocRedzone ? Math.min(origSize, objectSize) : objectSize, (byte) 0);
        } else if (slub.initOnFree && offset < objectSize) {
            raw(phys + offset, 0);  // maybe_wipe_obj_freeptr (a raw zero, not an encoded NULL)
        }
    }

    private long slabAllocSlow(final int cpu, final int gfp, final int nid, final int origSize) {
        lockSlot(cpu);
        try {
            return slabAllocLocked(cpu, gfp, nid, origSize);
        } finally {
            release(cpu);
        }
    }

    /** Takes {@code freelist} (an object of the slot's CPU slab) and keeps the rest as the CPU freelist. */
    private long loadFreelist(final int base, final long freelist) {
        final long next = nextFree(pcpu[base + W_SLAB], freelist);
        pcpu[base + W_FREELIST] = Math.max(next, 0);
        return freelist;
    }

    /** {@code ___slab_alloc} with the slot lock held and its word seized. Returns phys or 0. */
    private long slabAllocLocked(final int cpu, final int gfp, final int nidArg, final int origSize) {
        final int base = cpu * STRIDE;
        final int nid = nidArg >= nrNodes ? -1 : nidArg;
        stat(cpu, StatItem.ALLOC_SLOWPATH);
        long slab = pcpu[base + W_SLAB];
        if (slab >= 0) {
            if (nid >= 0 && slabNid(slab) != nid) {
                stat(cpu, StatItem.ALLOC_NODE_MISMATCH);
                final long fl = pcpu[base + W_FREELIST];
                pcpu[base + W_SLAB] = -1;
                pcpu[base + W_FREELIST] = 0;
                deactivateSlab(cpu, slab, fl);
            } else {
                long fl = pcpu[base + W_FREELIST];
                if (fl != 0) {
                    return loadFreelist(base, fl);
                }
                fl = getFreelist(cpu, slab);
                if (fl != 0) {
                    stat(cpu, StatItem.ALLOC_REFILL);
                    return loadFreelist(base, fl);
                }
                pcpu[base + W_SLAB] = -1;
                stat(cpu, StatItem.DEACTIVATE_BYPASS);
            }
        }
        // new_slab: the CPU partial list
        while ((slab = pcpu[base + W_PARTIAL]) >= 0) {
            pcpu[base + W_PARTIAL] = partialNext(slab);
            if (nid < 0 || slabNid(slab) == nid) {
                pcpu[base + W_SLAB] = slab;
                final long fl = getFreelist(cpu, slab);
                if (fl == 0) {
                    slub.warn("SLUB " + name + ": cpu partial slab pfn " + slab + " has no free object");
                    pcpu[base + W_SLAB] = -1;
                    continue;
                }
                stat(cpu, StatItem.CPU_PARTIAL_ALLOC);
                return loadFreelist(base, fl);
            }
            setPartialNext(slab, -1, 0);
            putPartials(cpu, slab);
        }
        // new_objects: the node partial lists, then a new slab
        for (int pass = 0; pass < 2; pass++) {
            final boolean thisNode = pass == 0 && nid >= 0 || (gfp & Gfp.THISNODE) != 0;
            slab = getPartial(cpu, nid, thisNode, origSize);
            if (slab >= 0) {
                if (debug) {
                    return pcpu[base + W_OBJECT];
                }
                final long fl = freezeSlab(cpu, slab);
                pcpu[base + W_SLAB] = slab;
                return loadFreelist(base, fl);
            }
            slab = newSlab(cpu, gfp | (thisNode ? Gfp.THISNODE : 0), nid);
            if (slab >= 0) {
                break;
            }
            if (nid < 0 || (gfp & Gfp.THISNODE) != 0) {
                break;
            }
        }
        if (slab < 0) {
            slabOutOfMemory(gfp, nid);
            return 0;
        }
        stat(cpu, StatItem.ALLOC_SLAB);
        if (debug) {
            return allocSingleFromNewSlab(slab, origSize);
        }
        final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
        final long fl = wFreelist(slab, w);
        mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, 0, wObjects(w), wObjects(w), true));
        incSlabsNode(slabNid(slab), wObjects(w));
        pcpu[base + W_SLAB] = slab;
        return loadFreelist(base, fl);
    }

    /** {@code get_freelist}: takes the slab's freelist for the CPU; unfreezes the slab when it is empty. */
    private long getFreelist(final int cpu, final long slab) {
        for (;;) {
            final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
            final long fl = wFreelist(slab, w);
            final long nw = slabWord(slab, 0, wObjects(w), wObjects(w), fl != 0);
            if (mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                return fl;
            }
            stat(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
    }

    /** {@code freeze_slab}: takes the freelist of a slab just removed from a partial list and freezes it. */
    private long freezeSlab(final int cpu, final long slab) {
        for (;;) {
            final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
            final long nw = slabWord(slab, 0, wObjects(w), wObjects(w), true);
            if (mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                return wFreelist(slab, w);
            }
            stat(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
    }

    private void slabOutOfMemory(final int gfp, final int nid) {
        if ((gfp & Gfp.NOWARN) != 0) {
            return;
        }
        log.printk("SLUB: Unable to allocate memory on node %d, gfp=%#x(%s)", nid, gfp, Gfp.toString(gfp));
        log.printk("  cache: %s, object size: %d, buffer size: %d, default order: %d, min order: %d", name,
            objectSize, size, oo, geo.minOrder());
        for (final KmemCacheNode n : nodes) {
            log.printk("  node %d: slabs: %d, objs: %d, free: %d", n.nid, n.nrSlabs.get(), n.totalObjects.get(),
                countPartialFree(n));
        }
    }

    // ------------------------------------------------------------------ partial lists

    private long partialNext(final long slab) {
        final long v = mm.lpLong(slab, MemMap.SLAB_NEXT);
        return (v & 0xffffffffffL) - 1;
    }

    private int partialSlabs(final long slab) {
        return (int) (mm.lpLong(slab, MemMap.SLAB_NEXT) >>> 40);
    }

    private void setPartialNext(final long slab, final long next, final int slabs) {
        mm.spLong(slab, MemMap.SLAB_NEXT, (long) slabs << 40 | (next + 1));
    }

    /** {@code get_partial}: the local (or asked) node, then other nodes with more than min_partial slabs. */
    private long getPartial(final int cpu, final int nid, final boolean thisNode, final int origSize) {
        final int search = nid < 0 ? localNode(cpu) : nid;
        long slab = getPartialNode(cpu, nodes[search], origSize);
        if (slab >= 0 || (nid >= 0 && thisNode)) {
            return slab;
        }
        for (final KmemCacheNode n : nodes) {
            if (n.nid != search && n.nrPartial > minPartial) {
                slab = getPartialNode(cpu, n, origSize);
                if (slab >= 0) {
                    return slab;
                }
            }
        }
        return -1;
    }

    /** {@code get_partial_node}: one slab for the CPU, and up to half of cpu_partial_slabs for its partial list. */
    private long getPartialNode(final int cpu, final KmemCacheNode n, final int origSize) {
        if (n.nrPartial == 0) {
            return -1;
        }
        long partial = -1;
        int partialSlabs = 0;
        n.listLock.lock();
        try {
            long slab = n.partialHead;
            while (slab >= 0) {
                final long next = mm.lruNext(slab);
                if (debug) {
                    final long obj = allocSingleFromPartial(n, slab, origSize);
                    if (obj != 0) {
                        partial = slab;
                        pcpu[cpu * STRIDE + W_OBJECT] = obj;
                        break;
                    }
                    slab = next;
                    continue;
                }
                n.removePartial(mm, slab);
                if (partial < 0) {
                    partial = slab;
                    stat(cpu, StatItem.ALLOC_FROM_PARTIAL);
                    if (cpuPartialSlabs == 0) {
                        break;
                    }
                } else {
                    putCpuPartial(cpu, slab, false);
                    stat(cpu, StatItem.CPU_PARTIAL_NODE);
                    if (++partialSlabs > cpuPartialSlabs / 2) {
                        break;
                    }
                }
                slab = next;
            }
        } finally {
            n.listLock.unlock();
        }
        return partial;
    }

    /** {@code alloc_single_from_partial} (debug caches; list_lock held). */
    private long allocSingleFromPartial(final KmemCacheNode n, final long slab, final int origSize) {
        final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
        final long obj = wFreelist(slab, w);
        final int objects = wObjects(w);
        final int inuseNow = wInuse(w) + 1;
        mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, getFp(obj), inuseNow, objects, false));
        if (!slub.debug().allocDebugProcessing(this, new SlabPage(slub, slab), kaddr(obj), origSize)) {
            n.removePartial(mm, slab);
            return 0;
        }
        slub.debug().setTrack(this, kaddr(obj), true);
        if (inuseNow == objects) {
            n.removePartial(mm, slab);
            if ((flags & SLAB_STORE_USER) != 0) {
                n.addFull(mm, slab);
            }
        }
        return obj;
    }

    /** {@code alloc_single_from_new_slab} (debug caches). */
    private long allocSingleFromNewSlab(final long slab, final int origSize) {
        final KmemCacheNode n = nodes[slabNid(slab)];
        final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
        final long obj = wFreelist(slab, w);
        final int objects = wObjects(w);
        n.listLock.lock();
        try {
            mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, getFp(obj), 1, objects, false));
            incSlabsNode(n.nid, objects);
            if (!slub.debug().allocDebugProcessing(this, new SlabPage(slub, slab), kaddr(obj), origSize)) {
                // the checks marked every object used: the slab leaves service (on the full list with U)
                if ((flags & SLAB_STORE_USER) != 0) {
                    n.addFull(mm, slab);
                }
                return 0;
            }
            slub.debug().setTrack(this, kaddr(obj), true);
            if (objects == 1) {
                if ((flags & SLAB_STORE_USER) != 0) {
                    n.addFull(mm, slab);
                }
            } else {
                n.addPartial(mm, slab, false);
            }
        } finally {
            n.listLock.unlock();
        }
        return obj;
    }

    /** {@code put_cpu_partial}: pushes an (unfrozen, off-list) slab on the CPU partial list, draining if full. */
    private void putCpuPartial(final int cpu, final long slab, final boolean drain) {
        final int base = cpu * STRIDE;
        long slabToPut = -1;
        slotLock[cpu].lock();
        try {
            long old = pcpu[base + W_PARTIAL];
            int slabs = 0;
            if (old >= 0) {
                if (drain && partialSlabs(old) >= cpuPartialSlabs) {
                    slabToPut = old;
                    old = -1;
                } else {
                    slabs = partialSlabs(old);
                }
            }
            setPartialNext(slab, old, slabs + 1);
            pcpu[base + W_PARTIAL] = slab;
        } finally {
            slotLock[cpu].unlock();
        }
        if (slabToPut >= 0) {
            putPartials(cpu, slabToPut);
            stat(cpu, StatItem.CPU_PARTIAL_DRAIN);
        }
    }

    /** {@code __put_partials}: moves a chain of CPU partial slabs to their node lists (or frees empty ones). */
    private void putPartials(final int cpu, final long chain) {
        long slab = chain;
        long discard = -1;
        while (slab >= 0) {
            final long next = partialNext(slab);
            setPartialNext(slab, -1, 0);
            final KmemCacheNode n = nodes[slabNid(slab)];
            n.listLock.lock();
            try {
                if (wInuse(mm.lvLong(slab, MemMap.SLAB_WORD)) == 0 && n.nrPartial >= minPartial) {
                    setPartialNext(slab, discard, 0);
                    discard = slab;
                } else {
                    n.addPartial(mm, slab, true);
                    stat(cpu, StatItem.FREE_ADD_PARTIAL);
                }
            } finally {
                n.listLock.unlock();
            }
            slab = next;
        }
        while (discard >= 0) {
            final long next = partialNext(discard);
            setPartialNext(discard, -1, 0);
            stat(cpu, StatItem.DEACTIVATE_EMPTY);
            discardSlab(discard);
            stat(cpu, StatItem.FREE_SLAB);
            discard = next;
        }
    }

    /** {@code deactivate_slab}: returns a CPU slab and its CPU freelist to the slab, unfreezes it, lists it. */
    private void deactivateSlab(final int cpu, final long slab, final long freelist) {
        final KmemCacheNode n = nodes[slabNid(slab)];
        boolean toTail = false;
        if (wFreelist(slab, mm.lvLong(slab, MemMap.SLAB_WORD)) != 0) {
            stat(cpu, StatItem.DEACTIVATE_REMOTE_FREES);
            toTail = true;
        }
        int freeDelta = 0;
        long tail = 0;
        final int maxObjects = wObjects(mm.lvLong(slab, MemMap.SLAB_WORD));
        for (long p = freelist; p > 0; p = nextFree(slab, p)) {
            tail = p;
            if (++freeDelta > maxObjects) {
                slub.warn("SLUB " + name + ": Freelist cycle detected in cpu freelist of slab pfn " + slab);
                break;
            }
        }
        long nw;
        for (;;) {
            final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
            final int in = wInuse(w) - freeDelta;
            long fl = wFreelist(slab, w);
            if (tail != 0) {
                setFp(tail, fl);
                fl = freelist;
            }
            nw = slabWord(slab, fl, in, wObjects(w), false);
            if (mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                break;
            }
            stat(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
        if (wInuse(nw) == 0 && n.nrPartial >= minPartial) {
            stat(cpu, StatItem.DEACTIVATE_EMPTY);
            discardSlab(slab);
            stat(cpu, StatItem.FREE_SLAB);
        } else if (wFreelist(slab, nw) != 0) {
            n.listLock.lock();
            try {
                n.addPartial(mm, slab, toTail);
            } finally {
                n.listLock.unlock();
            }
            stat(cpu, toTail ? StatItem.DEACTIVATE_TO_TAIL : StatItem.DEACTIVATE_TO_HEAD);
        } else {
            stat(cpu, StatItem.DEACTIVATE_FULL);
        }
    }

    // ------------------------------------------------------------------ slabs from and to the buddy allocator

    /** {@code new_slab}/{@code allocate_slab}: pages from the buddy allocator, objects set up and linked. */
    private long newSlab(final int cpu, final int gfp, final int nid) {
        final int node = nid < 0 ? localNode(cpu) : nid;
        final int base = (gfp & (Gfp.THISNODE | Gfp.NOWARN)) | allocGfp;
        int order = oo;
        long pfn = buddy.allocPagesNode(base | Gfp.NOWARN | Gfp.NORETRY, order, node);
        if (pfn < 0 && geo.minOrder() != oo) {
            order = geo.minOrder();
            pfn = buddy.allocPagesNode(base, order, node);
            if (pfn >= 0) {
                stat(cpu, StatItem.ORDER_FALLBACK);
            }
        }
        if (pfn < 0) {
            return -1;
        }
        final int objects = Geometry.orderObjects(order, size);
        slabChangesBegun.incrementAndGet();  // done in incSlabsNode
        mm.setFlag(pfn, MemMap.PG_SLAB);
        mm.spInt(pfn, MemMap.SLAB_CACHE, id);
        mm.privateWord(pfn, 0);
        mm.spLong(pfn, MemMap.SLAB_NEXT, 0);
        mm.lruNext(pfn, -1);
        mm.lruPrev(pfn, -1);
        final SlubDebug dbg = slub.debug();
        if (debug) {
            dbg.setupSlabDebug(this, PhysicalMemory.pageAddress(pfn), (long) PhysicalMemory.PAGE_SIZE << order);
        }
        final long start = slabStart(pfn);
        for (int i = 0; i < objects; i++) {
            final long p = start + (long) i * size;
            if (debug) {
                dbg.setupObjectDebug(this, kaddr(p));
            }
            if (ctor != null) {
                ctor.construct(mem.slice(p, objectSize));
            }
            if (checkKey && !keyIsFp) {
                markFree(p);
            }
        }
        final long head = randomSeq != null && objects >= 2 ? shuffleFreelist(start, objects) : start;
        if (head == start) {
            for (int i = 0; i < objects; i++) {
                final long p = start + (long) i * size;
                setFp(p, i + 1 < objects ? p + size : 0);
            }
        }
        mm.svLong(pfn, MemMap.SLAB_WORD, slabWord(pfn, head, 0, objects, false));
        slub.accountSlabPages(this, 1 << order);
        return pfn;
    }

    /**
     * {@code init_cache_random_seq}: a Fisher-Yates shuffle ({@code freelist_randomize}) of the object indices of
     * an oo-order slab, turned into offsets; null when a slab holds fewer than 2 objects.
     */
    private int[] initCacheRandomSeq(final long seed) {
        final int count = geo.objects();
        if (count < 2) {
            return null;
        }
        final int[] seq = new int[count];
        for (int i = 0; i < count; i++) {
            seq[i] = i;
        }
        final long stream = SlabRandom.stream(name, 2);
        for (int i = count - 1; i > 0; i--) {
            final int r = SlabRandom.below(SlabRandom.next(seed, stream, i), i + 1);
            final int t = seq[i];
            seq[i] = seq[r];
            seq[r] = t;
        }
        for (int i = 0; i < count; i++) {
            seq[i] *= size;
        }
        return seq;
    }

    /**
     * {@code shuffle_freelist}: links the objects of a new slab in {@code random_seq} order from a random start
     * ({@code next_freelist_entry} skips offsets past a smaller fallback-order slab). Returns the first object.
     */
    private long shuffleFreelist(final long start, final int objects) {
        final int count = randomSeq.length;
        int pos = SlabRandom.below(SlabRandom.next(slub.randomSeed, shuffleStream, shuffles.getAndIncrement()),
            count);
        final long limit = (long) objects * size;
        long head = -1;
        long cur = -1;
        for (int i = 0; i < objects; i++) {
            long off;
            do {
                off = randomSeq[pos];
                if (++pos >= count) {
                    pos = 0;
                }
            } while (off >= limit);
            final long p = start + off;
            if (cur < 0) {
                head = p;
            } else {
                setFp(cur, p);
            }
            cur = p;
        }
        setFp(cur, 0);
        return head;
    }

    /** The offsets of {@code random_seq} (a copy), or null when the cache's new slabs are not shuffled. */
    public int[] randomSeq() {
        return randomSeq == null ? null : randomSeq.clone();
    }

    private void incSlabsNode(final int nid, final int objects) {
        nodes[nid].nrSlabs.incrementAndGet();
        nodes[nid].totalObjects.addAndGet(objects);
        slabChangesDone.incrementAndGet();
    }

    /** Uncounts a slab about to be freed ({@code dec_slabs_node}); {@link #freeSlab} completes the change. */
    private void decSlabsNode(final KmemCacheNode n, final int objects) {
        slabChangesBegun.incrementAndGet();
        n.nrSlabs.decrementAndGet();
        n.totalObjects.addAndGet(-objects);
    }

    /** {@code discard_slab}: uncounts the slab and frees its pages. */
    private void discardSlab(final long slab) {
        final KmemCacheNode n = nodes[slabNid(slab)];
        decSlabsNode(n, wObjects(mm.lvLong(slab, MemMap.SLAB_WORD)));
        freeSlab(slab);
    }

    private void freeSlab(final long slab) {
        final int order = slabOrder(slab);
        mm.svLong(slab, MemMap.SLAB_WORD, 0);
        mm.spInt(slab, MemMap.SLAB_CACHE, 0);
        mm.privateWord(slab, 0);
        mm.spLong(slab, MemMap.SLAB_NEXT, 0);
        mm.lruNext(slab, -1);
        mm.lruPrev(slab, -1);
        mm.clearFlag(slab, MemMap.PG_SLAB);
        slabChangesDone.incrementAndGet();
        slub.accountSlabPages(this, -(1 << order));
        buddy.freePages(slab, order);
    }

    // ------------------------------------------------------------------ free

    /** A free whose slab belongs to this cache: checks the pointer, then {@code slab_free}. */
    void freeChecked(final int cpu, final long slab, final long phys) {
        if (slub.kmemleak != null) {
            slub.kmemleak.free(PhysicalMemory.PAGE_OFFSET + phys);  // KMEMLEAK HOOK: slab_free_hook -> kmemleak_free
        }
        if (debug && (flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0) {
            slabFree(cpu, slab, phys);  // free_consistency_checks report bad pointers in the kernel's words
            slub.debug().checkpoint();
            return;
        }
        if (!validObject(slab, phys)) {
            slub.slabErr(this, slab, "Invalid object pointer 0x" + Long.toHexString(phys
                + PhysicalMemory.PAGE_OFFSET));
            throw new IllegalArgumentException(name + ": invalid object pointer 0x"
                + Long.toHexString(phys + PhysicalMemory.PAGE_OFFSET) + " (not the start of an object)");
        }
        if (checkKey) {
            checkFree(slab, phys);
        }
        if (SlubDebugOptions.wantInitOnFree(slub.initOnFree, flags, ctor != null)) {
            mem.fill(phys, objectSize, (byte) 0);
        }
        if (checkKey) {
            markFree(phys);
        }
        slabFree(cpu, slab, phys);
        if (debug) {
            slub.debug().checkpoint();
        }
    }

    // ------------------------------------------------------------------ double-free refusal (mm4j, see Safety)

    /**
     * Refuses the free of an object that is already free: a report and an {@link IllegalStateException}, nothing
     * changed. An object whose key word holds its key ({@code freeKey ^ phys}) is free (a live object's key word
     * was cleared when it was handed out; only a program that read the key out of freed memory could write it
     * back). Where the key shares the free pointer's word, an object on a freelist holds an encoded pointer
     * instead: when that decodes to NULL or an object of the slab, a walk of the slab's freelist and of the CPU
     * freelists on it decides.
     */
    void checkFree(final long slab, final long phys) {
        final long w = raw(phys + keyOffset);
        boolean free = w == (freeKey ^ phys);
        if (!free && keyIsFp) {
            final long p = getFp(phys);
            free = (p == 0 || validObject(slab, p)) && onFreelists(slab, phys);
        }
        if (free) {
            refuse(slab, phys, "Object already free (double free of 0x" + Long.toHexString(kaddr(phys))
                + " refused; mm4j departure: Linux 6.18 without slub_debug would hand the object out twice)",
                name + ": double free of 0x" + Long.toHexString(kaddr(phys)) + " refused (already free)");
        }
    }

    /** Writes an object's key: it is free from here on. */
    void markFree(final long phys) {
        raw(phys + keyOffset, freeKey ^ phys);
    }

    /**
     * Hands out an object popped from a sheaf: true when it carried its key (now cleared); false when it did
     * not (reported: a double free that raced with the first, or a write after free) and the object is dropped,
     * never handed to a second owner.
     */
    boolean handoutFromSheaf(final long phys) {
        final long at = phys + keyOffset;
        if (raw(at) != (freeKey ^ phys)) {
            badHandout(phys);
            return false;
        }
        raw(at, keyIsFp && !slub.initOnFree ? ~(freeKey ^ phys) : 0);
        return true;
    }

    /** Hands out an object taken from a freelist (whose free pointer was already checked when it was taken). */
    boolean handoutFromFreelist(final long phys) {
        if (keyIsFp) {
            final long at = phys + keyOffset;
            if (!slub.initOnFree && raw(at) == ~(freeKey ^ phys)) {
                badHandout(phys);  // still marked handed out: it is on a freelist twice
                return false;
            }
            raw(at, slub.initOnFree ? 0 : ~(freeKey ^ phys));  // no stale pointer left behind
            return true;
        }
        return handoutFromSheaf(phys);
    }

    private void badHandout(final long phys) {
        final long slab = slub.virtToSlab(phys);
        slub.slabErr(this, slab, "Free object 0x" + Long.toHexString(kaddr(phys)) + " lost its free mark (a racing"
            + " double free or a write after free; mm4j: dropped, not handed out)");
        slub.debug().clearPending();
    }

    /** Whether {@code phys} is on the freelist of {@code slab} or on a CPU freelist of a slot using the slab. */
    private boolean onFreelists(final long slab, final long phys) {
        if (isOnFreelist(slab, phys)) {
            return true;
        }
        for (int c = 0; c < nrCpus; c++) {
            if (pcpu[c * STRIDE + W_SLAB] != slab) {
                continue;
            }
            lockSlot(c);
            try {
                if (pcpu[c * STRIDE + W_SLAB] == slab) {
                    final int max = wObjects(mm.lvLong(slab, MemMap.SLAB_WORD));
                    int n = 0;
                    for (long p = pcpu[c * STRIDE + W_FREELIST]; p > 0 && n <= max; p = nextChecked(slab, p), n++) {
                        if (p == phys) {
                            return true;
                        }
                    }
                }
            } finally {
                release(c);
            }
        }
        return isOnFreelist(slab, phys);  // a flush may have moved it meanwhile
    }

    /** {@code slab_free}: a sheaf when the cache has them, else {@code do_slab_free}. */
    void slabFree(final int cpu, final long slab, final long phys) {
        if (pcs != null && freeToPcs(cpu, phys)) {
            return;
        }
        doSlabFree(cpu, slab, phys, phys, 1);
    }

    /** {@code do_slab_free}: the lockless fast path when the object's slab is this CPU's slab. */
    void doSlabFree(final int cpu, final long slab, final long head, final long tail, final int cnt) {
        if (debug) {
            slabFreeSlow(cpu, slab, head, tail, cnt);
            return;
        }
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = (long) LA.getVolatile(pcpu, base);
            final long cslab = (long) LA.getAcquire(pcpu, base + W_SLAB);
            if (slab != cslab || (w & LOCKED) != 0) {
                if (slab == cslab) {
                    pcpu[base + W_EVENTS + E_FREE_MET_LOCKED]++;
                }
                slabFreeSlow(cpu, slab, head, tail, cnt);
                return;
            }
            final long fl = cpuFreelist(w);
            if (fl == head && (hardened || checkKey)) {
                doubleFree(slab, head);
                return;
            }
            setFp(tail, fl);
            final long nw = cpuWord(head, (w & tidMask) + TID_STEP);
            if (LA.compareAndSet(pcpu, base, w, nw)) {
                pcpu[base + S_FREE_FASTPATH] += cnt;
                return;
            }
            pcpu[base + S_CPU_FAIL]++;
        }
    }

    /**
     * {@code BUG_ON(object == fp)} of {@code set_freepointer} (SLAB_FREELIST_HARDENED's naive detection: the
     * object freed is the head of the freelist it goes to). The kernel oopses; mm4j reports and throws.
     */
    private void doubleFree(final long slab, final long obj) {
        if (!checkKey) {
            log.printk("kernel BUG at mm/slub.c (set_freepointer): object == fp, naive detection of double free or"
                + " corruption");
        }
        refuse(slab, obj, "Object already free (double free of 0x" + Long.toHexString(kaddr(obj)) + ")",
            name + ": double free of 0x" + Long.toHexString(kaddr(obj)));
    }

    /** Reports {@code text} as slab_err does and throws an {@link IllegalStateException} with {@code message}. */
    private void refuse(final long slab, final long obj, final String text, final String message) {
        slub.slabErr(this, slab, text);
        try {
            slub.debug().checkpoint();  // the report is this exception's: no strict-mode leftover for a later call
        } catch (final SlubDebugException e) {
            throw new IllegalStateException(message, e);
        }
        throw new IllegalStateException(message);
    }

    /** {@code __slab_free}: frees to the slab's own freelist; list handling when the slab becomes partial/empty. */
    private void slabFreeSlow(final int cpu, final long slab, final long head, final long tail, final int cnt) {
        stat(cpu, StatItem.FREE_SLOWPATH);
        if (debug) {
            freeToPartialList(cpu, slab, head, tail, cnt);
            return;
        }
        KmemCacheNode n = null;
        boolean onNodePartial = false;
        long prior;
        boolean wasFrozen;
        long nw;
        try {
            for (;;) {
                if (n != null) {
                    n.listLock.unlock();
                    n = null;
                }
                final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
                prior = wFreelist(slab, w);
                if (prior == head && (hardened || checkKey)) {
                    doubleFree(slab, head);
                    return;
                }
                setFp(tail, prior);
                wasFrozen = wFrozen(w);
                final int in = wInuse(w) - cnt;
                if (in < 0) {
                    slub.slabErr(this, slab, "Slab has " + wInuse(w) + " allocated objects but " + cnt
                        + " are to be freed");
                    throw new IllegalStateException(name + ": free of more objects than allocated in slab pfn "
                        + slab + " (double free?)");
                }
                nw = slabWord(slab, head, in, wObjects(w), wasFrozen);
                if ((in == 0 || prior == 0) && !wasFrozen) {
                    if (!hasCpuPartial() || prior != 0) {
                        n = nodes[slabNid(slab)];
                        n.listLock.lock();
                        onNodePartial = (mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) != 0;
                    }
                }
                if (mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                    break;
                }
                stat(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
            }
            if (n == null) {
                if (wasFrozen) {
                    stat(cpu, StatItem.FREE_FROZEN);
                } else if (prior == 0 && hasCpuPartial()) {
                    putCpuPartial(cpu, slab, true);
                    stat(cpu, StatItem.CPU_PARTIAL_FREE);
                }
                return;
            }
            if (prior != 0 && !onNodePartial) {
                return;  // on a CPU partial list: not ours to move
            }
            if (wInuse(nw) == 0 && n.nrPartial >= minPartial) {
                if (prior != 0) {
                    n.removePartial(mm, slab);
                    stat(cpu, StatItem.FREE_REMOVE_PARTIAL);
                }
                n.listLock.unlock();
                n = null;
                stat(cpu, StatItem.FREE_SLAB);
                discardSlab(slab);
                return;
            }
            if (!hasCpuPartial() && prior == 0) {
                n.addPartial(mm, slab, true);
                stat(cpu, StatItem.FREE_ADD_PARTIAL);
            }
        } finally {
            if (n != null) {
                n.listLock.unlock();
            }
        }
    }

    /** {@code kmem_cache_has_cpu_partial}. */
    private boolean hasCpuPartial() {
        return !debug;
    }

    /** {@code free_to_partial_list}: the debug-cache free, serialized under list_lock. */
    private void freeToPartialList(final int cpu, final long slab, final long head, final long tail, final int cnt) {
        final KmemCacheNode n = nodes[slabNid(slab)];
        boolean discard = false;
        n.listLock.lock();
        try {
            final int[] bulk = {cnt};
            if (!slub.debug().freeDebugProcessing(this, new SlabPage(slub, slab), kaddr(head), kaddr(tail), bulk)) {
                return;
            }
            final int done = bulk[0];
            final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
            final long prior = wFreelist(slab, w);
            if (wInuse(w) < done) {
                slub.slabErr(this, slab, "Slab has " + wInuse(w) + " allocated objects but " + done
                    + " are to be freed");
                return;
            }
            if ((flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) == 0 && isOnFreelist(slab, head)) {
                doubleFree(slab, head);
                return;
            }
            setFp(tail, prior);
            final int in = wInuse(w) - done;
            mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, head, in, wObjects(w), false));
            discard = in == 0 && n.nrPartial >= minPartial;
            if (prior == 0) {
                n.removeFull(mm, slab);
                if (!discard) {
                    n.addPartial(mm, slab, true);
                    stat(cpu, StatItem.FREE_ADD_PARTIAL);
                }
            } else if (discard) {
                n.removePartial(mm, slab);
                stat(cpu, StatItem.FREE_REMOVE_PARTIAL);
            }
            if (discard) {
                decSlabsNode(n, wObjects(w));
            }
        } finally {
            n.listLock.unlock();
        }
        if (discard) {
            stat(cpu, StatItem.FREE_SLAB);
            freeSlab(slab);
        }
    }

    /** Whether {@code obj} is on the slab's own freelist (bounded walk). */
    boolean isOnFreelist(final long slab, final long obj) {
        final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
        int n = 0;
        for (long p = wFreelist(slab, w); p > 0 && n <= wObjects(w); p = nextChecked(slab, p), n++) {
            if (p == obj) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ bulk

    /** {@code __kmem_cache_alloc_bulk}: objects (phys) into {@code out[from..from+n)}; returns how many. */
    int allocBulkPhys(final int cpu, final int gfp, final long[] out, final int from, final int n) {
        final int base = cpu * STRIDE;
        lockSlot(cpu);
        try {
            for (int i = 0; i < n; i++) {
                final long fl = pcpu[base + W_FREELIST];
                final long obj;
                if (fl != 0) {
                    pcpu[base + W_FREELIST] = Math.max(nextFree(pcpu[base + W_SLAB], fl), 0);
                    obj = fl;
                    stat(cpu, StatItem.ALLOC_FASTPATH);
                } else {
                    obj = slabAllocLocked(cpu, gfp, -1, objectSize);
                    if (obj == 0) {
                        return i;
                    }
                }
                out[from + i] = obj;
            }
            return n;
        } finally {
            release(cpu);
        }
    }

    /**
     * {@code __kmem_cache_free_bulk}: frees objects (phys, all of this cache, already checked) by building a
     * detached freelist per slab ({@code build_detached_freelist}, look-ahead 3) and freeing each in one go.
     */
    void freeBulkPhys(final int cpu, final long[] p, final int count) {
        int size0 = count;
        final long[] work = java.util.Arrays.copyOf(p, count);
        while (size0 > 0) {
            // build_detached_freelist
            final long head = work[--size0];
            final long slab = slub.virtToSlab(head);
            long tail = head;
            int cnt = 1;
            int lookahead = 3;
            long fl = head;
            for (int i = size0 - 1; i >= 0; i--) {
                final long obj = work[i];
                if (slub.virtToSlab(obj) == slab) {
                    setFp(obj, fl);
                    fl = obj;
                    cnt++;
                    work[i] = work[--size0];
                } else if (--lookahead == 0) {
                    break;
                }
            }
            doSlabFree(cpu, slab, fl, tail, cnt);
        }
    }

    // ------------------------------------------------------------------ flush, shrink, shutdown

    /**
     * {@code flush_all}: every slot's sheaves, the calling thread's and ended threads' sheaves, the barns'
     * sheaves, then every CPU slab and CPU partial list go back to the node lists. The sheaves go first: freeing
     * their objects can put slabs on the calling slot's CPU partial list, which the CPU flush then empties (with
     * the barns drained after it, as {@code __kmem_cache_do_shrink} alone would, a shrink or a destroy left
     * empty slabs on a CPU partial list; mm4j drains them here, a departure in order only).
     */
    void flushAll() {
        if (pcs != null) {
            for (int c = 0; c < nrCpus; c++) {
                pcsFlush(c);
            }
        }
        slub.flushThreadSheaves(this);
        drainBarns();
        for (int c = 0; c < nrCpus; c++) {
            flushCpuSlab(c);
        }
    }

    /** {@code __flush_cpu_slab}: run for slot {@code cpu} from any thread. */
    void flushCpuSlab(final int cpu) {
        final int base = cpu * STRIDE;
        long slab;
        long fl;
        long partial;
        lockSlot(cpu);
        try {
            slab = pcpu[base + W_SLAB];
            fl = pcpu[base + W_FREELIST];
            pcpu[base + W_SLAB] = -1;
            pcpu[base + W_FREELIST] = 0;
            partial = pcpu[base + W_PARTIAL];
            pcpu[base + W_PARTIAL] = -1;
        } finally {
            release(cpu);
        }
        if (slab >= 0) {
            deactivateSlab(cpu, slab, fl);
            stat(cpu, StatItem.CPUSLAB_FLUSH);
        }
        if (partial >= 0) {
            putPartials(cpu, partial);
        }
    }

    /** {@code barn_shrink} of every node: full sheaves back to the slabs, empty ones dropped. */
    private void drainBarns() {
        for (final KmemCacheNode n : nodes) {
            if (n.barn != null) {
                for (final Sheaf s : n.barn.drainAll()) {
                    flushSheafToSlabs(cpus.current(), s);
                }
            }
        }
    }

    /** {@code __kmem_cache_do_shrink}: frees empty partial slabs; fuller slabs first on each list. */
    void doShrink() {
        for (final KmemCacheNode n : nodes) {
            final List<Long> discard = new ArrayList<>();
            n.listLock.lock();
            try {
                final List<List<Long>> promote = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    promote.add(new ArrayList<>());
                }
                long slab = n.partialHead;
                while (slab >= 0) {
                    final long next = mm.lruNext(slab);
                    final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
                    final int free = wObjects(w) - wInuse(w);
                    if (free <= 0 || free > wObjects(w)) {
                        slab = next;  // counters broken (mm4j.double_free=kernel): leave it for validate
                        continue;
                    }
                    if (free == wObjects(w)) {
                        n.removePartial(mm, slab);
                        decSlabsNode(n, wObjects(w));
                        discard.add(slab);
                    } else if (free <= 32) {
                        n.removePartial(mm, slab);
                        promote.get(free - 1).add(slab);
                    }
                    slab = next;
                }
                for (int i = 31; i >= 0; i--) {
                    final List<Long> l = promote.get(i);
                    for (int j = l.size() - 1; j >= 0; j--) {
                        n.addPartial(mm, l.get(j), false);
                    }
                }
            } finally {
                n.listLock.unlock();
            }
            for (final long s : discard) {
                freeSlab(s);
            }
        }
    }

    /**
     * {@code __kmem_cache_shutdown}: flushes, frees empty slabs, reports objects still allocated. Returns the
     * number of slabs that could not be freed (0 = the cache is empty).
     */
    int shutdown() {
        flushAll();
        doShrink();
        int left = 0;
        for (final KmemCacheNode n : nodes) {
            n.listLock.lock();
            try {
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    listSlabObjects(slab);
                    left++;
                }
            } finally {
                n.listLock.unlock();
            }
        }
        // full slabs are on no list (as in the kernel without STORE_USER); find them in mem_map to report them
        for (final long slab : slabsOfCache()) {
            if ((mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) == 0) {
                listSlabObjects(slab);
                left++;
            }
        }
        return left;
    }

    /** {@code list_slab_objects}: the kernel's report of a slab that still has objects at shutdown. */
    private void listSlabObjects(final long slab) {
        if (slub.debug() != null) {  // CONFIG_SLUB_DEBUG: every cache, debug flags or not
            slub.debug().listSlabObjects(this, new SlabPage(slub, slab));
            return;
        }
        slub.slabErr(this, slab, "Objects remaining in " + name + " on __kmem_cache_shutdown()");
        final boolean[] free = freeMap(slab);
        final long start = slabStart(slab);
        final long page = PhysicalMemory.pfnToPhys(slab);
        for (int i = 0; i < free.length; i++) {
            if (!free[i]) {
                final long p = start + (long) i * size;
                log.printk("Object 0x%016x @offset=%d", p + PhysicalMemory.PAGE_OFFSET, p - page);
            }
        }
    }

    /** Which objects of a slab are on its freelist ({@code __fill_map}). */
    boolean[] freeMap(final long slab) {
        final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
        final boolean[] map = new boolean[wObjects(w)];
        final long start = slabStart(slab);
        int n = 0;
        for (long p = wFreelist(slab, w); p > 0 && n < map.length; p = nextChecked(slab, p), n++) {
            final long idx = (p - start) / size;
            if (idx >= 0 && idx < map.length) {
                map[(int) idx] = true;
            }
        }
        return map;
    }

    /** Every slab of this cache, found by a walk of mem_map (head pages with PG_slab and our cache id). */
    List<Long> slabsOfCache() {
        final List<Long> out = new ArrayList<>();
        final long total = mm.nrPages();
        // deferred struct pages hold no slab: skip them, so the walk costs what is in use, not mem=
        final long[] deferred = buddy.deferredRanges();
        int d = 0;
        for (long pfn = 1; pfn < total; pfn++) {
            if (d < deferred.length && pfn >= deferred[d]) {
                pfn = Math.max(pfn, deferred[d + 1]) - 1;
                d += 2;
                continue;
            }
            final long f = mm.flags(pfn);
            if ((f & MemMap.PG_SLAB) != 0 && (f & MemMap.PG_TAIL) == 0 && mm.lpInt(pfn, MemMap.SLAB_CACHE) == id) {
                out.add(pfn);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ validate and counters

    /**
     * {@code validate_slab_cache}: flushes, then checks every slab (freelist well formed and inside the slab, no
     * cycle, free count + inuse = objects for unfrozen slabs), the partial lists (membership flags, counts) and
     * the node counters. Problems are reported to the kernel log; returns the number of errors.
     */
    public int validate() {
        checkLive("validate");
        flushAll();
        if (debug) {
            return SlubDebugSupport.validate(this);  // validate_slab_cache of mm/slub.c: the node lists, locked
        }
        int errors = 0;
        for (final KmemCacheNode n : nodes) {
            n.listLock.lock();
            try {
                long count = 0;
                long prev = -1;
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    count++;
                    if (mm.lruPrev(slab) != prev) {
                        errors += error("SLUB %s: partial list of node %d broken at slab pfn %d", name, n.nid, slab);
                        break;
                    }
                    prev = slab;
                    final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
                    if ((mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) == 0 || wFrozen(w)) {
                        errors += error("SLUB %s: slab pfn %d on the partial list is %s", name, slab,
                            wFrozen(w) ? "frozen" : "not marked partial");
                    }
                    if (wInuse(w) >= wObjects(w)) {
                        errors += error("SLUB %s: full slab pfn %d on the partial list", name, slab);
                    }
                    if (count > n.nrPartial + 1_000_000) {
                        break;
                    }
                }
                if (count != n.nrPartial) {
                    errors += error("SLUB %s: %d partial slabs counted but counter=%d", name, count, n.nrPartial);
                }
                if (prev != n.partialTail) {
                    errors += error("SLUB %s: partial list tail mismatch on node %d", name, n.nid);
                }
            } finally {
                n.listLock.unlock();
            }
        }
        for (final long slab : slabsOfCache()) {
            final KmemCacheNode n = nodes[slabNid(slab)];
            n.listLock.lock();  // partial-list slabs stand still; others are re-checked before being judged
            try {
                errors += validateSlab(slab);
            } finally {
                n.listLock.unlock();
            }
        }
        return errors + validateCounters();
    }

    /**
     * Compares the slabs and objects found in mem_map with the node counters, over a walk that no slab creation
     * or discard overlapped (retried a few times; under constant churn there is nothing exact to compare).
     */
    private int validateCounters() {
        for (int attempt = 0; attempt < 8; attempt++) {
            final long begun = slabChangesBegun.get();
            if (slabChangesDone.get() != begun) {
                validateRaces.incrementAndGet();
                Thread.yield();
                continue;
            }
            final long[] slabsPerNode = new long[nrNodes];
            final long[] objsPerNode = new long[nrNodes];
            for (final long slab : slabsOfCache()) {
                slabsPerNode[slabNid(slab)]++;
                objsPerNode[slabNid(slab)] += wObjects(mm.lvLong(slab, MemMap.SLAB_WORD));
            }
            final long[] counted = new long[2 * nrNodes];
            for (final KmemCacheNode n : nodes) {
                counted[2 * n.nid] = n.nrSlabs.get();
                counted[2 * n.nid + 1] = n.totalObjects.get();
            }
            if (slabChangesBegun.get() != begun) {
                validateRaces.incrementAndGet();
                continue;  // a slab came or went during the walk
            }
            int errors = 0;
            for (final KmemCacheNode n : nodes) {
                if (slabsPerNode[n.nid] != counted[2 * n.nid]) {
                    errors += error("SLUB: %s %d slabs counted but counter=%d", name, slabsPerNode[n.nid],
                        counted[2 * n.nid]);
                }
                if (objsPerNode[n.nid] != counted[2 * n.nid + 1]) {
                    errors += error("SLUB: %s %d objects counted but counter=%d", name, objsPerNode[n.nid],
                        counted[2 * n.nid + 1]);
                }
            }
            return errors;
        }
        return 0;
    }

    /**
     * {@code validate_slab} of a non-debug cache, under the node's list_lock. Only a partial-list slab stands
     * still under that lock: a CPU (frozen) or CPU-partial slab changes by cmpxchg of its slab word and can be
     * discarded meanwhile. So the checks run on one snapshot of the slab word, and are judged only when the slab
     * is still this cache's and its word unchanged afterwards (frees push onto the freelist and taking it swaps
     * the word, so an unchanged word means the walked chain was the freelist); otherwise it is tried again, and
     * left alone when it never holds still. The freelist of a frozen slab is not walked: its owner takes it.
     */
    private int validateSlab(final long slab) {
        for (int attempt = 0; attempt < 4; attempt++) {
            if (!isOurSlab(slab)) {
                validateRaces.incrementAndGet();
                return 0;  // discarded (or never finished) since mem_map was scanned
            }
            final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
            final List<String> problems = slabProblems(slab, w);
            if (isOurSlab(slab) && mm.lvLong(slab, MemMap.SLAB_WORD) == w) {
                for (final String text : problems) {
                    slub.slabErr(this, slab, text);
                }
                return problems.size();
            }
            validateRaces.incrementAndGet();
        }
        return 0;
    }

    private boolean isOurSlab(final long slab) {
        final long f = mm.flags(slab);
        return (f & MemMap.PG_SLAB) != 0 && (f & MemMap.PG_TAIL) == 0 && mm.lpInt(slab, MemMap.SLAB_CACHE) == id;
    }

    /** What is wrong with a slab whose slab word was {@code w} (the kernel's validate_slab texts). */
    private List<String> slabProblems(final long slab, final long w) {
        final List<String> out = new ArrayList<>(0);
        final int objects = wObjects(w);
        final int order = slabOrder(slab);
        final int maxObjects = Geometry.orderObjects(order, size);
        if (objects > maxObjects) {
            out.add("objects " + objects + " > max " + maxObjects);
        }
        if (wInuse(w) > objects) {
            out.add("inuse " + wInuse(w) + " > max " + objects);
        }
        if (wFrozen(w)) {
            return out;
        }
        int nr = 0;
        long p = wFreelist(slab, w);
        while (p != 0 && nr <= objects) {
            if (slub.virtToSlab(p) != slab || !validObject(slab, p)) {
                out.add("Freepointer 0x" + Long.toHexString(p + PhysicalMemory.PAGE_OFFSET) + " corrupt");
                return out;
            }
            nr++;
            p = getFp(p);
        }
        if (nr > objects) {
            out.add("Freelist cycle detected");
        } else if (nr + wInuse(w) != objects) {
            out.add("Wrong object count. Counter is " + wInuse(w) + " but counted were " + (objects - nr));
        }
        return out;
    }
    private int slabError(final long slab, final String text) {
        slub.slabErr(this, slab, text);
        return 1;
    }

    private int error(final String fmt, final Object... args) {
        log.printk(fmt, args);
        return 1;
    }

    /** Slabs of this cache on every node (the total of {@code /sys/kernel/slab/<cache>/slabs}). */
    public long nrSlabs() {
        long n = 0;
        for (final KmemCacheNode k : nodes) {
            n += k.nrSlabs.get();
        }
        return n;
    }

    long totalObjects() {
        long n = 0;
        for (final KmemCacheNode k : nodes) {
            n += k.totalObjects.get();
        }
        return n;
    }

    long countPartialFree(final KmemCacheNode n) {
        n.listLock.lock();
        try {
            long x = 0;
            for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
                x += wObjects(w) - wInuse(w);
            }
            return x;
        } finally {
            n.listLock.unlock();
        }
    }

    /** Per-node value of partial slabs, objects in them ({@code count_inuse}) or their capacity. */
    long countPartial(final KmemCacheNode n, final int what) {
        n.listLock.lock();
        try {
            long x = 0;
            for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                final long w = mm.lvLong(slab, MemMap.SLAB_WORD);
                x += what == 0 ? 1 : what == 1 ? wInuse(w) : wObjects(w);
            }
            return x;
        } finally {
            n.listLock.unlock();
        }
    }

    /**
     * Objects handed out to callers (slab inuse minus objects on CPU freelists and in sheaves); quiescent only.
     * Objects in sheaves count as allocated for the slab layer and /proc/slabinfo (as the kernel's per-CPU
     * sheaves do) but not here: see {@link #sheafUsage()} for the identity that ties the three together.
     */
    public long activeObjects() {
        long inuseSum = 0;
        for (final long slab : slabsOfCache()) {
            inuseSum += wInuse(mm.lvLong(slab, MemMap.SLAB_WORD));
        }
        for (int c = 0; c < nrCpus; c++) {
            slotLock[c].lock();
            try {
                final long cslab = pcpu[c * STRIDE + W_SLAB];
                final int max = cslab < 0 ? 0 : wObjects(mm.lvLong(cslab, MemMap.SLAB_WORD));
                int n = 0;
                for (long p = cpuFreelist((long) LA.getVolatile(pcpu, c * STRIDE)); p > 0 && n < max;
                     p = nextChecked(cslab, p)) {
                    n++;
                }
                inuseSum -= n;
            } finally {
                slotLock[c].unlock();
            }
            if (pcs != null) {
                inuseSum -= pcs[c].objects();
            }
        }
        for (final KmemCacheNode n : nodes) {
            if (n.barn != null) {
                inuseSum -= n.barn.objects();
            }
        }
        inuseSum -= slub.threadSheafObjects(this);
        return inuseSum;
    }

    /** {@code cpu_slabs}: CPU slabs plus slabs on CPU partial lists, per node. */
    long[] cpuSlabs() {
        final long[] perNode = new long[nrNodes];
        for (int c = 0; c < nrCpus; c++) {
            final long slab = pcpu[c * STRIDE + W_SLAB];
            if (slab >= 0) {
                perNode[slabNid(slab)]++;
            }
            final long partial = pcpu[c * STRIDE + W_PARTIAL];
            if (partial >= 0) {
                perNode[slabNid(partial)] += partialSlabs(partial);
            }
        }
        return perNode;
    }

    /** Slabs on slot {@code cpu}'s partial list (for slabs_cpu_partial). */
    int cpuPartialSlabsOf(final int cpu) {
        final long partial = pcpu[cpu * STRIDE + W_PARTIAL];
        return partial >= 0 ? partialSlabs(partial) : 0;
    }

    int nrCpus() {
        return nrCpus;
    }

    // ------------------------------------------------------------------ sheaves (per CPU slot, 6.18)

    /** {@code alloc_from_pcs}: pops from the slot's main sheaf under its try-lock. Returns phys or 0. */
    private long allocFromPcs(final int cpu, final int gfp) {
        final CpuSheaves p = pcs[cpu];
        if (!p.tryLock()) {
            pcpu[cpu * STRIDE + W_EVENTS + E_PCS_TRYLOCK_FAIL]++;
            return 0;
        }
        try {
            Sheaf main = p.main;
            if (main.size == 0) {
                if (p.spare != null && p.spare.size > 0) {
                    p.main = p.spare;
                    p.spare = main;
                } else {
                    final KmemCacheNode n = nodes[localNode(cpu)];
                    final Sheaf full = n.barn.getFull();
                    if (full != null) {
                        stat(cpu, StatItem.BARN_GET);
                        if (p.spare == null) {
                            p.spare = main;
                        } else if (!n.barn.putEmpty(main)) {
                            stat(cpu, StatItem.SHEAF_FREE);
                        }
                        p.main = full;
                    } else {
                        stat(cpu, StatItem.BARN_GET_FAIL);
                        if (refillSheaf(cpu, gfp, main) == 0) {
                            return 0;
                        }
                    }
                }
                main = p.main;
            }
            stat(cpu, StatItem.ALLOC_PCS);
            return main.objects[--main.size];
        } finally {
            p.unlock();
        }
    }

    /** {@code free_to_pcs}: pushes on the slot's main sheaf; false when the try-lock fails. */
    private boolean freeToPcs(final int cpu, final long phys) {
        final CpuSheaves p = pcs[cpu];
        if (!p.tryLock()) {
            pcpu[cpu * STRIDE + W_EVENTS + E_PCS_TRYLOCK_FAIL]++;
            return false;
        }
        try {
            Sheaf main = p.main;
            if (main.size == main.capacity()) {
                if (p.spare != null && p.spare.size < p.spare.capacity()) {
                    p.main = p.spare;
                    p.spare = main;
                } else {
                    final KmemCacheNode n = nodes[localNode(cpu)];
                    Sheaf empty = n.barn.getEmpty();
                    if (empty == null) {
                        empty = new Sheaf(sheafCapacity);
                        stat(cpu, StatItem.SHEAF_ALLOC);
                    }
                    if (n.barn.putFull(main)) {
                        stat(cpu, StatItem.BARN_PUT);
                    } else {
                        stat(cpu, StatItem.BARN_PUT_FAIL);
                        flushSheafToSlabs(cpu, main);
                        if (!n.barn.putEmpty(main)) {
                            stat(cpu, StatItem.SHEAF_FREE);
                        }
                    }
                    p.main = empty;
                }
                main = p.main;
            }
            main.objects[main.size++] = phys;
            stat(cpu, StatItem.FREE_PCS);
            return true;
        } finally {
            p.unlock();
        }
    }

    /** {@code refill_sheaf}: fills a sheaf to capacity by bulk allocation from slabs. Returns objects added. */
    int refillSheaf(final int cpu, final int gfp, final Sheaf sheaf) {
        final int want = sheaf.capacity() - sheaf.size;
        if (want <= 0) {
            return 0;
        }
        final int got = allocBulkPhys(cpu, gfp, sheaf.objects, sheaf.size, want);
        if (checkKey && keyIsFp) {
            for (int i = sheaf.size; i < sheaf.size + got; i++) {
                markFree(sheaf.objects[i]);  // off the freelist, the free pointer's word holds the key
            }
        }
        sheaf.size += got;
        statAdd(cpu, StatItem.SHEAF_REFILL, got);
        return got;
    }

    /** {@code sheaf_flush_unused}: returns every object of a sheaf to its slab. */
    void flushSheafToSlabs(final int cpu, final Sheaf sheaf) {
        if (sheaf.size == 0) {
            return;
        }
        statAdd(cpu, StatItem.SHEAF_FLUSH, sheaf.size);
        freeBulkPhys(cpu, sheaf.objects, sheaf.size);
        sheaf.size = 0;
    }

    /** {@code pcs_flush_all} for one slot. */
    private void pcsFlush(final int cpu) {
        final CpuSheaves p = pcs[cpu];
        p.lock();
        try {
            flushSheafToSlabs(cpu, p.main);
            if (p.spare != null) {
                flushSheafToSlabs(cpu, p.spare);
            }
        } finally {
            p.unlock();
        }
    }

    /**
     * The reclaim of {@link Slub#reclaimStranded()} for this cache, a {@code kmem_cache_shrink}: the per-CPU,
     * the calling thread's, ended threads' and the barns' sheaves back to the slabs, the CPU slabs back to the
     * node lists, then the empty slabs back to the page allocator. No slab lock may be held by the caller.
     */
    void reclaimSheaves() {
        flushAll();
        doShrink();
    }

    /**
     * Objects parked in sheaves of this cache and their bound (racy while threads run; exact at a quiet point).
     * The slab layer counts these objects as allocated ({@code inuse}, {@code /proc/slabinfo} active_objs), as
     * the kernel counts its per-CPU sheaves; {@link #activeObjects()} does not (no caller holds them). At a
     * quiet point after a flush ({@link #validate}, {@link #shrink}): active_objs = activeObjects() +
     * sheafUsage().objects().
     */
    public SheafUsage sheafUsage() {
        long cpuObjects = 0;
        if (pcs != null) {
            for (final CpuSheaves p : pcs) {
                cpuObjects += p.objects();
            }
        }
        long barnObjects = 0;
        long barnLimit = 0;
        final int barnCap = Math.max(sheafCapacity, slub.threadSheafCapacity());  // thread sheaves park here too
        for (final KmemCacheNode n : nodes) {
            if (n.barn != null) {
                barnObjects += n.barn.objects();
                barnLimit += (long) n.barn.maxFull() * barnCap;
            }
        }
        final int holders = slub.threadSheafHolders(this);
        final long perThread = debug ? 0 : 2L * slub.threadSheafCapacity();
        final long cpuLimit = pcs == null ? 0 : 2L * nrCpus * sheafCapacity;
        return new SheafUsage(slub.threadSheafObjects(this), holders, perThread, cpuObjects, cpuLimit,
            barnObjects, barnLimit);
    }

    /** Barn of the node local to slot {@code cpu} (thread sheaves use it too). */
    Barn barn(final int cpu) {
        return nodes[localNode(cpu)].barn;
    }

    /** A model event ({@code E_*}) summed over slots (racy while the cache is busy). */
    long modelEvent(final int event) {
        long sum = 0;
        for (int c = 0; c < nrCpus; c++) {
            sum += pcpu[c * STRIDE + W_EVENTS + event];
        }
        return sum;
    }

    /** Slab creations and discards begun so far (a validate walk overlapped slab churn when this moved). */
    long slabChanges() {
        return slabChangesBegun.get();
    }

    /** Slabs seen changing under validate walks, and counter comparisons retried, so far. */
    long validateRaces() {
        return validateRaces.get();
    }

    void statInc(final int cpu, final StatItem item) {
        stat(cpu, item);
    }
}
