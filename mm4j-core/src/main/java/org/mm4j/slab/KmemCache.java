package org.mm4j.slab;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.KernelLog;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

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
 * in the per-CPU word, slab-relative in the slab word (see below). The free pointer of a free object is 8 bytes
 * at {@link #offset()} holding the next free object's phys (0 ends the list).
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
 * mem=256M, 35 at 256G, 37 at the 1 TiB maximum), the tid the rest (39, 29, 27 bits). The word is read and
 * written only through {@link #lvFreelistTid}, {@link #casFreelistTid}, {@link #svFreelistTid} (JCTools prefixes:
 * volatile load, CAS, volatile store), {@code c->slab} by the fast paths through {@link #laCpuSlab}.
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
 * checks): (4) a free object of this cache has its free mark set ({@link FreeMarks}, a byte beside mem_map)
 * wherever it is (sheaf, barn, CPU or slab freelist), set when it is freed or its slab made; an object in a
 * caller's hands has it clear (cleared when handed out). Where the mark is the key in the free pointer's word
 * ({@link #keyIsFp}) (4) holds in sheaves only; on freelists that word holds the encoded pointer. A free
 * checks (4) first ({@link DoubleFreeGuard#checkFree}); a handout checks and clears it
 * ({@link DoubleFreeGuard#handoutFromSheaf}). (5) a free
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
 * and take {@code __slab_free}, which is always correct. Each operation advances the tid by {@link #TID_STEP}
 * (the ABA window: package documentation; {@link #MIN_TID_BITS}). Assumed locks are asserted.
 *
 * <p>Files: this class holds the state, the public API, the packed words and the lockless fast paths
 * ({@code slab_alloc_node}, {@code do_slab_free}); {@link SlubSlowPath}, {@link SlubPartial}, {@link SlabPages},
 * {@link PcsSheaves}, {@link SlubBulk}, {@link SlubShrink}, {@link SlubValidate}, {@link SlabCounters},
 * {@link DoubleFreeGuard} (Safety above) and {@link SlubDebugSupport} work on it (see the package table).
 */
public final class KmemCache {
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
     * to prove the race they target happened ({@link SlabCounters#modelEvent}).
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
    final String name;
    final Geometry geo;
    final PhysicalMemory mem;
    /** One node: SLUB's words in objects are read as aligned words ({@link PhysicalMemory#word}). */
    private final boolean oneNode;
    final MemMap mm;
    final BuddyAllocator buddy;
    final CpuSlots cpus;
    final KernelLog log;
    final int nrCpus;
    final int nrNodes;

    final long flags;
    final Ctor ctor;
    final boolean debug;
    final int size;
    final int offset;
    final int redLeftPad;
    final int align;
    private final long recip;
    /** Low bits of the per-CPU word holding the tid ({@link #tidBits(long)}); the freelist ref is above them. */
    private final int tidBits;
    private final long tidMask;
    final int oo;
    final int allocGfp;
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
    volatile boolean destroyed;
    /** SLAB_FAILSLAB, which /sys/kernel/slab/NAME/failslab sets and clears (the kernel writes s->flags). */
    private volatile boolean failslab;
    /**
     * Slab creations and discards begun and done (a slab gaining PG_slab up to being counted in its node, or
     * being uncounted up to losing PG_slab): validate compares its mem_map count with the node counters only
     * over a walk that no such change overlapped. Slow paths only (they go to the buddy allocator anyway).
     */
    final AtomicLong slabChangesBegun = new AtomicLong();
    final AtomicLong slabChangesDone = new AtomicLong();
    /** Slabs that changed under a validate walk (re-read or left unjudged) and counter comparisons retried. */
    final AtomicLong validateRaces = new AtomicLong();
    /** Bit set in the cache id of slabs left behind by a destroyed cache (see {@link SlubShrink#markDestroyed}). */
    static final int DESTROYED_ID = 1 << 30;

    /** {@code s->random}: the per-cache secret of hardened free pointers (0 without SLAB_FREELIST_HARDENED). */
    final long random;
    final boolean hardened;
    /** {@code s->random_seq}: offsets of the objects of an oo-order slab in shuffled order, or null. */
    final int[] randomSeq;
    final long shuffleStream;
    final AtomicLong shuffles = new AtomicLong();
    /** Double frees refused (not {@code mm4j.double_free=kernel}, not a debug cache): the key checks run. */
    final boolean checkKey;
    /** The boot's double-free key; a free object of a {@link #keyIsFp} cache holds {@code freeKey ^ phys}. */
    final long freeKey;
    /** Offset of the key word in an object slot: the free pointer's own word ({@link #keyIsFp} caches only). */
    final int keyOffset;
    /** No spare word for the key (8-byte objects; ctor and RCU caches, whose contents must survive a free). */
    final boolean keyIsFp;

    final long[] pcpu;
    final ReentrantLock[] slotLock;
    final KmemCacheNode[] nodes;
    final CpuSheaves[] pcs;

    KmemCache(final Slub slub, final int id, final String name, final Geometry geo, final KmemCacheArgs args) {
        this.slub = slub;
        this.id = id;
        this.name = name;
        this.geo = geo;
        this.mem = slub.mem;
        this.oneNode = mem.nrNodes() == 1;
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
        this.randomSeq = slub.freelistRandom ? SlabPages.initCacheRandomSeq(geo, name, size, slub.randomSeed) : null;
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
        this.nodes = PcsSheaves.initKmemCacheNodes(nrNodes, sheafCapacity, slub, size);
        this.pcs = PcsSheaves.initPercpuSheaves(nrCpus, sheafCapacity);
        if (pcs != null) {
            statAdd(cpus.current(), StatItem.SHEAF_ALLOC, nrCpus);  // counted on the CPU that creates the cache
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

    /** {@code get_freepointer} on kernel virtual addresses (0 = NULL). */
    public long getFreePointer(final long object) {
        final long fp = getFp(object - PhysicalMemory.PAGE_OFFSET);
        return fp == 0 ? 0 : fp + PhysicalMemory.PAGE_OFFSET;
    }

    /** {@code set_freepointer} on kernel virtual addresses (0 = NULL). */
    public void setFreePointer(final long object, final long fp) {
        setFp(object - PhysicalMemory.PAGE_OFFSET, fp == 0 ? 0 : fp - PhysicalMemory.PAGE_OFFSET);
    }

    /** The cache as the SLUB debug checks see it ({@link KmemCacheDebugView}). */
    KmemCacheDebugView debugView() {
        return new KmemCacheDebugView(this);
    }

    static long kaddr(final long phys) {
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
        slub.leaks.untrackKernelFree(phys);  // a JVM allocator segment freed here loses its leak record
        final int cid = mm.lpInt(slab, MemMap.SLAB_CACHE);
        if (cid != id) {
            final KmemCache real = slub.cacheById(cid);
            final String msg = "kmem_cache_free: Wrong slab cache. " + name + " but object is from "
                + (real == null ? "?" : real.name);
            if (real == null || real.destroyed) {
                slub.warn(msg);
                throw new IllegalArgumentException(msg);
            }
            slub.debug().wrongCacheWarning(debugView(), real.debugView(), new SlabPage(slub, slab), kaddr);
            real.freeChecked(cpus.current(), slab, phys);
            return;
        }
        freeChecked(cpus.current(), slab, phys);
    }

    /** {@code kmem_cache_alloc_bulk}: fills {@code out[0..n)}; returns n, or 0 (nothing allocated) on failure. */
    public int allocBulk(final int gfp, final long[] out, final int n) {
        return SlubBulk.allocBulk(this, gfp, out, n);
    }

    /** {@code kmem_cache_free_bulk}: frees {@code objs[0..n)} (kernel virtual addresses). */
    public void freeBulk(final long[] objs, final int n) {
        SlubBulk.freeBulk(this, objs, n);
    }

    /** {@code kmem_cache_shrink}: flushes CPU slabs and sheaves, frees empty slabs, sorts partial lists. */
    public void shrink() {
        checkLive("kmem_cache_shrink");
        SlubShrink.flushAll(this);
        SlubShrink.doShrink(this);
    }

    /** {@code kmem_cache_destroy}. */
    public void destroy() {
        slub.destroy(this);
    }

    /**
     * {@code validate_slab_cache}: flushes, then checks every slab, the partial lists and the node counters
     * ({@link SlubValidate}). Problems are reported to the kernel log; returns the number of errors.
     */
    public int validate() {
        return SlubValidate.validate(this);
    }

    /** The value of one statistic summed over CPU slots. */
    public long stat(final StatItem item) {
        return SlabCounters.stat(this, item);
    }

    /** The value of one statistic on one CPU slot (with the per-thread sheaves' fast-path counts). */
    public long stat(final StatItem item, final int cpu) {
        return SlabCounters.stat(this, item, cpu);
    }

    /** Clears a statistic on every slot (writing 0 to its sysfs file). */
    public void clearStat(final StatItem item) {
        SlabCounters.clearStat(this, item);
    }

    /** Slabs of this cache on every node (the total of {@code /sys/kernel/slab/<cache>/slabs}). */
    public long nrSlabs() {
        return SlabCounters.nrSlabs(this);
    }

    /** Objects handed out to callers; quiescent only ({@link SlabCounters#activeObjects}). */
    public long activeObjects() {
        return SlabCounters.activeObjects(this);
    }

    /** Objects parked in sheaves of this cache and their bound ({@link SlabCounters#sheafUsage}). */
    public SheafUsage sheafUsage() {
        return SlabCounters.sheafUsage(this);
    }

    // ------------------------------------------------------------------ for the JVM allocator and tests

    /** {@code refill_sheaf} ({@link PcsSheaves#refillSheaf}). */
    int refillSheaf(final int cpu, final int gfp, final Sheaf sheaf) {
        return PcsSheaves.refillSheaf(this, cpu, gfp, sheaf);
    }

    /** {@code sheaf_flush_unused} ({@link PcsSheaves#flushSheafToSlabs}). */
    void flushSheafToSlabs(final int cpu, final Sheaf sheaf) {
        PcsSheaves.flushSheafToSlabs(this, cpu, sheaf);
    }

    /** {@link DoubleFreeGuard#checkFree}. */
    void checkFree(final long slab, final long phys) {
        DoubleFreeGuard.checkFree(this, slab, phys);
    }

    /** {@link DoubleFreeGuard#markFree}. */
    void markFree(final long phys) {
        DoubleFreeGuard.markFree(this, phys);
    }

    /** {@link DoubleFreeGuard#handoutFromSheaf}. */
    boolean handoutFromSheaf(final long phys) {
        return DoubleFreeGuard.handoutFromSheaf(this, phys);
    }

    /** A model event ({@code E_*}) summed over slots ({@link SlabCounters#modelEvent}). */
    long modelEvent(final int event) {
        return SlabCounters.modelEvent(this, event);
    }

    /** {@code __flush_cpu_slab} ({@link SlubShrink#flushCpuSlab}). */
    void flushCpuSlab(final int cpu) {
        SlubShrink.flushCpuSlab(this, cpu);
    }

    /** {@code __kmem_cache_do_shrink} ({@link SlubShrink#doShrink}). */
    void doShrink() {
        SlubShrink.doShrink(this);
    }

    /** {@link DoubleFreeGuard#isOnFreelist}. */
    boolean isOnFreelist(final long slab, final long obj) {
        return DoubleFreeGuard.isOnFreelist(this, slab, obj);
    }

    /** {@code flush_all} ({@link SlubShrink#flushAll}). */
    void flushAll() {
        SlubShrink.flushAll(this);
    }

    // ------------------------------------------------------------------ internals: memory and words

    long raw(final long phys) {
        return oneNode ? mem.word(phys) : mem.getLong(phys);
    }

    void raw(final long phys, final long value) {
        if (oneNode) {
            mem.word(phys, value);
        } else {
            mem.putLong(phys, value);
        }
    }

    /**
     * {@code get_freepointer} + {@code freelist_ptr_decode}: the next free object (phys, 0 = NULL) as stored in
     * the object. Unchecked: a corrupted word decodes to anything; callers that follow it use
     * {@link #nextFree}/{@link #nextChecked}.
     */
    long getFp(final long objPhys) {
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
    void setFp(final long objPhys, final long fpPhys) {
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
    long nextFree(final long slab, final long obj) {
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

    /**
     * {@code lv}: a volatile read of the per-CPU word {freelist, tid} of the slot whose block starts at
     * {@code base} ({@code cpu * STRIDE}); the fast paths' {@code READ_ONCE(c->tid)} and freelist in one load.
     */
    long lvFreelistTid(final int base) {
        return (long) LA.getVolatile(pcpu, base + W_WORD);
    }

    /** {@code cas}: the fast paths' {@code this_cpu_cmpxchg_double} on {freelist, tid}, one 64-bit CAS. */
    boolean casFreelistTid(final int base, final long expect, final long update) {
        return LA.compareAndSet(pcpu, base + W_WORD, expect, update);
    }

    /** {@code sv}: a volatile store of {freelist, tid}, publishing a seized word again ({@link #release}). */
    void svFreelistTid(final int base, final long value) {
        LA.setVolatile(pcpu, base + W_WORD, value);
    }

    /** {@code la}: an acquire read of {@code c->slab}, paired with the word's volatile store that published it. */
    long laCpuSlab(final int base) {
        return (long) LA.getAcquire(pcpu, base + W_SLAB);
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

    /** {@code stat(s, item)}: one more event on slot {@code cpu} (a plain increment, racy like the kernel's). */
    void statInc(final int cpu, final StatItem item) {
        pcpu[cpu * STRIDE + W_STATS + item.ordinal()]++;
    }

    void statAdd(final int cpu, final StatItem item, final int n) {
        pcpu[cpu * STRIDE + W_STATS + item.ordinal()] += n;
    }

    void checkLive(final String op) {
        if (destroyed) {
            throw new IllegalStateException(op + ": cache " + name + " was destroyed (use after"
                + " kmem_cache_destroy)");
        }
    }

    int localNode(final int cpu) {
        return cpu % nrNodes;
    }

    int slabNid(final long slab) {
        return mem.pfnToNid(slab);
    }

    int slabOrder(final long slab) {
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
        assert slotLocked(cpu) : "slot " + cpu + " of " + name + " not locked";
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = lvFreelistTid(base);
            final long nw = cpuWord(0, (w & tidMask) + TID_STEP - 1) | LOCKED;
            if (casFreelistTid(base, w, nw)) {
                pcpu[base + W_FREELIST] = cpuFreelist(w);
                return;
            }
        }
    }

    /** Publishes the slot's freelist again with the next tid, clears LOCKED and drops the slot lock. */
    void release(final int cpu) {
        assert slotSeized(cpu) : "slot " + cpu + " of " + name + " not locked and seized";
        final int base = cpu * STRIDE;
        final long w = lvFreelistTid(base);
        final long fl = pcpu[base + W_FREELIST];
        pcpu[base + W_FREELIST] = 0;
        svFreelistTid(base, cpuWord(fl, (w & tidMask) + 1));
        slotLock[cpu].unlock();
    }

    void lockSlot(final int cpu) {
        slotLock[cpu].lock();
        seize(cpu);
    }

    /** For asserts: the calling thread holds slot {@code cpu}'s lock ({@code lockdep_assert_held}). */
    boolean slotLocked(final int cpu) {
        return slotLock[cpu].isHeldByCurrentThread();
    }

    /** For asserts: the calling thread holds slot {@code cpu}'s lock and its word is seized (LOCKED). */
    boolean slotSeized(final int cpu) {
        return slotLocked(cpu) && (lvFreelistTid(cpu * STRIDE) & LOCKED) != 0;
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
                final long obj = PcsSheaves.allocFromPcs(this, cpu, gfp);
                if (obj == 0) {
                    break;
                }
                if (!checkKey || DoubleFreeGuard.handoutFromSheaf(this, obj)) {
                    return obj;
                }
            }
        }
        for (;;) {
            final long obj = allocCpuSlab(cpu, gfp, nid, origSize);
            if (obj == 0 || !checkKey || DoubleFreeGuard.handoutFromFreelist(this, obj)) {
                return obj;
            }
        }
    }

    /** {@code __slab_alloc_node}: the lockless per-CPU freelist fast path. */
    long allocCpuSlab(final int cpu, final int gfp, final int nid, final int origSize) {
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = lvFreelistTid(base);
            final long obj = cpuFreelist(w);
            if (obj == 0 || (nid >= 0 && nid < nrNodes && mem.pfnToNid(obj >>> PhysicalMemory.PAGE_SHIFT) != nid)) {
                return SlubSlowPath.slabAllocSlow(this, cpu, gfp, nid, origSize);
            }
            final long cslab = laCpuSlab(base);
            final long next = getFp(obj);
            if (next != 0 && (cslab < 0 || !validObject(cslab, next))) {
                // corrupt, or a stale read: decided under the lock
                return SlubSlowPath.slabAllocSlow(this, cpu, gfp, nid, origSize);
            }
            final long nw = cpuWord(next, (w & tidMask) + TID_STEP);
            if (casFreelistTid(base, w, nw)) {
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

    // ------------------------------------------------------------------ partial lists

    // ------------------------------------------------------------------ slabs from and to the buddy allocator

    /** The offsets of {@code random_seq} (a copy), or null when the cache's new slabs are not shuffled. */
    public int[] randomSeq() {
        return randomSeq == null ? null : randomSeq.clone();
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
            DoubleFreeGuard.checkFree(this, slab, phys);
        }
        if (SlubDebugOptions.wantInitOnFree(slub.initOnFree, flags, ctor != null)) {
            mem.fill(phys, objectSize, (byte) 0);
        }
        if (checkKey) {
            DoubleFreeGuard.markFree(this, phys);
        }
        slabFree(cpu, slab, phys);
        if (debug) {
            slub.debug().checkpoint();
        }
    }

    // ------------------------------------------------------------------ double-free refusal (mm4j, see Safety)

    /** {@code slab_free}: a sheaf when the cache has them, else {@code do_slab_free}. */
    void slabFree(final int cpu, final long slab, final long phys) {
        if (pcs != null && PcsSheaves.freeToPcs(this, cpu, phys)) {
            return;
        }
        doSlabFree(cpu, slab, phys, phys, 1);
    }

    /** {@code do_slab_free}: the lockless fast path when the object's slab is this CPU's slab. */
    void doSlabFree(final int cpu, final long slab, final long head, final long tail, final int cnt) {
        if (debug) {
            SlubSlowPath.slabFreeSlow(this, cpu, slab, head, tail, cnt);
            return;
        }
        final int base = cpu * STRIDE;
        for (;;) {
            final long w = lvFreelistTid(base);
            final long cslab = laCpuSlab(base);
            if (slab != cslab || (w & LOCKED) != 0) {
                if (slab == cslab) {
                    pcpu[base + W_EVENTS + E_FREE_MET_LOCKED]++;
                }
                SlubSlowPath.slabFreeSlow(this, cpu, slab, head, tail, cnt);
                return;
            }
            final long fl = cpuFreelist(w);
            if (fl == head && (hardened || checkKey)) {
                DoubleFreeGuard.doubleFree(this, slab, head);
                return;
            }
            setFp(tail, fl);
            final long nw = cpuWord(head, (w & tidMask) + TID_STEP);
            if (casFreelistTid(base, w, nw)) {
                pcpu[base + S_FREE_FASTPATH] += cnt;
                return;
            }
            pcpu[base + S_CPU_FAIL]++;
        }
    }

    // ------------------------------------------------------------------ bulk

    // ------------------------------------------------------------------ flush, shrink, shutdown

    // ------------------------------------------------------------------ validate and counters

    int nrCpus() {
        return nrCpus;
    }

    // ------------------------------------------------------------------ sheaves (per CPU slot, 6.18)

    /** Barn of the node local to slot {@code cpu} (thread sheaves use it too). */
    Barn barn(final int cpu) {
        return nodes[localNode(cpu)].barn;
    }

    /** Slab creations and discards begun so far (a validate walk overlapped slab churn when this moved). */
    long slabChanges() {
        return slabChangesBegun.get();
    }

    /** Slabs seen changing under validate walks, and counter comparisons retried, so far. */
    long validateRaces() {
        return validateRaces.get();
    }
}
