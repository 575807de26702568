package org.mm4j.slab;

import org.mm4j.boot.BootParams;
import org.mm4j.base.CpuSlots;
import org.mm4j.base.Current;
import org.mm4j.base.FaultAttr;
import org.mm4j.base.InternalApi;
import org.mm4j.base.Jiffies;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ProcFs;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.VmStat;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.mm4j.slab.debug.SlubDebug;

/**
 * The slab allocator of one {@link org.mm4j.Kernel}: the cache list ({@code slab_caches} under
 * {@code slab_mutex}), cache creation with merging ({@code __kmem_cache_create_args}, {@code find_mergeable}),
 * destruction, the kmalloc family over the kmalloc caches ({@code kmalloc_caches[type][index]}, the
 * {@code size_index} table, large allocations from the buddy allocator), and the JVM-facing
 * {@link SlabAllocator} (a {@link java.lang.foreign.SegmentAllocator} with per-thread sheaves).
 *
 * <p>Addresses are kernel virtual addresses ({@code PAGE_OFFSET + phys}); 0 is NULL and 16 is
 * {@code ZERO_SIZE_PTR}, what {@code kmalloc(0)} returns. Allocation failure returns 0 as in the kernel;
 * programming errors (negative sizes, frees of foreign pointers, use of a destroyed cache) are reported in the
 * kernel's words to the kernel log and thrown as {@link IllegalArgumentException}/{@link IllegalStateException}.
 *
 * <p>Threads: every method may be called from any thread. Cache creation and destruction are serialized on
 * this object (the kernel's {@code slab_mutex}); allocation and free follow {@link KmemCache}'s rules. The
 * per-thread sheaves of {@link #allocator()} are returned when their thread ends by a daemon thread,
 * {@code mm4j-sheaf-reaper} ({@link ThreadSheafRegistry}), started on first use and stopped by
 * {@link #shutdownThreads()}.
 */
public final class Slub {
    /** {@code ZERO_SIZE_PTR}: what kmalloc(0) returns; kfree/ksize accept it. */
    public static final long ZERO_SIZE_PTR = 16;
    public static final int KMALLOC_SHIFT_LOW = 3;
    public static final int KMALLOC_SHIFT_HIGH = 13;
    /** {@code KMALLOC_MAX_CACHE_SIZE}: larger requests go to the page allocator. */
    public static final int KMALLOC_MAX_CACHE_SIZE = 1 << KMALLOC_SHIFT_HIGH;
    /** {@code KMALLOC_MAX_SIZE}: the largest kmalloc (an order-MAX_PAGE_ORDER block). */
    public static final long KMALLOC_MAX_SIZE = (long) Geometry.PAGE_SIZE << Geometry.MAX_PAGE_ORDER;
    /** The kmalloc cache types, in the kernel's {@code enum kmalloc_cache_type} order. */
    public static final int KMALLOC_NORMAL = 0;
    public static final int KMALLOC_RECLAIM = 1;
    public static final int KMALLOC_DMA = 2;
    public static final int KMALLOC_CGROUP = 3;
    public static final int NR_KMALLOC_TYPES = 4;
    /** Head-page private word of a large kmalloc (the kernel's PGTY_large_kmalloc page type). */
    static final long LARGE_KMALLOC = MemMap.PGTY_LARGE_KMALLOC;
    private static final String[] TYPE_PREFIX = {"kmalloc-", "kmalloc-rcl-", "dma-kmalloc-", "kmalloc-cg-"};
    private static final String[] SHORT_SIZE = {"", "96", "192", "8", "16", "32", "64", "128", "256", "512", "1k",
        "2k", "4k", "8k"};
    /** {@code kmalloc_size_index[24]}: cache index of sizes 1..192 by {@code (size - 1) / 8}. */
    private static final byte[] SIZE_INDEX = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2,
        2};

    final PhysicalMemory mem;
    /** Native address of physical 0 and the model's size: {@link #nativeAddress} in one compare and one add. */
    private final long nativeBase;
    private final long memBytes;
    final MemMap memMap;
    final BuddyAllocator buddy;
    final CpuSlots cpus;
    final KernelLog log;
    final boolean initOnAlloc;
    final boolean initOnFree;
    private final int nrCpus;
    private final int maxOrder;
    private final int minOrder;
    private final int minObjects;
    private final boolean nomerge;
    /** {@code CONFIG_SLUB_STATS}: whether /sys/kernel/slab/CACHE/ shows the stat files (alloc_fastpath, ...). */
    final boolean slubStats;
    private final int threadSheafCapacity;
    /** {@code mm4j.sheaves=N} was given: every cache's thread sheaves hold N; else capacity by object size. */
    private final boolean explicitSheaves;
    private final SlubDebugOptions debugOptions;
    private final SlubDebug debug;
    /** {@code CONFIG_SLAB_FREELIST_HARDENED}: free pointers stored obfuscated, and checked before use. */
    final boolean freelistHardened;
    /** {@code CONFIG_SLAB_FREELIST_RANDOM}: new slabs link their objects in a shuffled order. */
    final boolean freelistRandom;
    /** {@code mm4j.random_seed}: the seed of every random value of the slab layer. */
    final long randomSeed;
    /** Not {@code mm4j.double_free=kernel}: every double free is refused (see {@link KmemCache}, Safety). */
    final boolean refuseDoubleFree;
    /** The per-boot double-free key: a free object holds {@code freeKey ^ phys} in its key word. */
    final long freeKey;
    private final ProcFs procfs;

    /** {@code slab_caches}, oldest first. Guarded by this. */
    private final List<KmemCache> slabCaches = new ArrayList<>();
    /** Names (cache names, alias names) to caches. Guarded by this. */
    private final Map<String, KmemCache> byName = new LinkedHashMap<>();
    /** Cache ids (SLAB_CACHE of a slab's head page) to caches; copy-on-write, read without lock. */
    private volatile KmemCache[] byId = new KmemCache[64];
    private int nextId = 1;
    private final KmemCache[][] kmallocCaches = new KmemCache[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1];
    final AtomicLong slabReclaimablePages = new AtomicLong();
    final AtomicLong slabUnreclaimablePages = new AtomicLong();
    final AtomicLong largeKmallocPages = new AtomicLong();
    private final ThreadLocal<SlabAllocator> threadAllocator;
    /** Platform threads' allocators with sheaves, and their reaper. */
    final ThreadSheafRegistry threadSheaves = new ThreadSheafRegistry();
    /** The allocator every virtual thread shares: no sheaves, unconfined. Made on first use. */
    private volatile SlabAllocator sharedAllocator;
    private final Object sharedAllocatorLock = new Object();
    /** Serializes {@link #reclaimStranded()} (taken with no slab lock held). */
    private final ReentrantLock reclaimLock = new ReentrantLock();

    /** {@code CONFIG_FAILSLAB}: injected slab allocation failures (off until asked). */
    final Failslab failslab;
    /** {@code CONFIG_DEBUG_KMEMLEAK} with {@code kmemleak=on}; null when off (then it costs nothing). */
    final Kmemleak kmemleak;
    /** Told of each cache created and destroyed (not of aliases), under this object's monitor. */
    private final List<CacheListener> cacheListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Told of each new cache (not of a name merged into an existing cache) and each cache the last
     * {@code kmem_cache_destroy} shut down, where the kernel adds and removes the cache's sysfs directory. Runs
     * under the cache list's lock ({@code slab_mutex}): a listener must not create or destroy caches.
     */
    @InternalApi("org.mm4j.management")
    public interface CacheListener {
        void created(KmemCache s);

        void destroyed(KmemCache s);
    }

    @InternalApi("org.mm4j.management")
    public void addCacheListener(final CacheListener l) {
        cacheListeners.add(l);
    }

    @InternalApi("org.mm4j.management")
    public void removeCacheListener(final CacheListener l) {
        cacheListeners.remove(l);
    }
    private final boolean failslabBuilt;
    /** The JVM users' leak detector ({@code mm4j.leak_detection=}, default disabled). */
    final LeakDetector leaks;

    @InternalApi("org.mm4j")
    public Slub(final BootParams params, final PhysicalMemory mem, final MemMap memMap, final BuddyAllocator buddy,
                final CpuSlots cpus, final KernelLog log, final ProcFs procfs) {
        this(params, mem, memMap, buddy, cpus, log, procfs, new Current());
    }

    /** @param current the task fault-injection reports name ({@code current}) */
    @InternalApi("org.mm4j")
    public Slub(final BootParams params, final PhysicalMemory mem, final MemMap memMap, final BuddyAllocator buddy,
                final CpuSlots cpus, final KernelLog log, final ProcFs procfs, final Current current) {
        this(params, mem, memMap, buddy, cpus, log, procfs, current,
            Jiffies.realTime((int) params.config().longValue("HZ")));
    }

    /** @param jiffies the model's clock (kmemleak ages objects by it) */
    @InternalApi("org.mm4j")
    public Slub(final BootParams params, final PhysicalMemory mem, final MemMap memMap, final BuddyAllocator buddy,
                final CpuSlots cpus, final KernelLog log, final ProcFs procfs, final Current current,
                final Jiffies jiffies) {
        this.procfs = procfs;
        this.mem = mem;
        this.nativeBase = mem.nativeAddress(0);
        this.memBytes = mem.totalBytes();
        this.memMap = memMap;
        this.buddy = buddy;
        this.cpus = cpus;
        this.log = log;
        this.nrCpus = cpus.nrCpus();
        this.maxOrder = params.slubMaxOrder();
        this.minOrder = params.slubMinOrder();
        this.minObjects = params.slubMinObjects();
        this.nomerge = params.slabNomerge();
        this.slubStats = params.config().isEnabled("SLUB_STATS");
        this.initOnAlloc = params.initOnAlloc();
        this.initOnFree = params.initOnFree();
        // KMEMLEAK HOOK: with kmemleak on, the JVM allocators have no sheaves, so every allocation and free goes
        // through slab_post_alloc_hook/slab_free_hook (the fast paths are untouched when it is off)
        this.kmemleak = params.kmemleak() ? new Kmemleak(mem, log, current, jiffies, procfs,
            params.config().isEnabled("DEBUG_KMEMLEAK_AUTO_SCAN"), params.config().isEnabled("DEBUG_KMEMLEAK_VERBOSE"))
            : null;
        this.explicitSheaves = params.all().containsKey("mm4j.sheaves");
        this.threadSheafCapacity = kmemleak != null ? 0
            : explicitSheaves ? params.sheafCapacity() : SlabAllocator.DEFAULT_SHEAF_CAPACITY;
        this.freelistHardened = params.config().isEnabled("SLAB_FREELIST_HARDENED");
        this.freelistRandom = params.config().isEnabled("SLAB_FREELIST_RANDOM");
        this.randomSeed = params.randomSeed();
        this.refuseDoubleFree = !params.doubleFreeKernel();
        this.freeKey = SlabRandom.next(randomSeed, 0x6b6579L, 0) | 1L << 63;  // never 0 (a zeroed object)
        this.debugOptions = SlubDebugOptions.parse(params.slubDebug());
        for (final String m : debugOptions.messages()) {
            log.printk(m);
        }
        this.debug = new SlubDebug(mem, log, cpus, current);
        this.threadAllocator = ThreadLocal.withInitial(this::newAllocator);
        this.leaks = new LeakDetector(this, log, params.leakDetection() == null ? LeakDetector.Level.DISABLED
            : LeakDetector.Level.parse(params.leakDetection()));
        this.failslab = new Failslab(new FaultAttr("failslab", log, cpus, current, randomSeed));
        this.failslabBuilt = params.config().isEnabled("FAILSLAB");
        failslab.attr().onActiveChange(this::failslabArmed);
        if (failslabBuilt && params.all().containsKey("failslab")) {
            failslab.attr().setup(params.all().get("failslab"));
        }
        createKmallocCaches();
        SlubSysfs.register(this);
        if (failslabBuilt && procfs != null && params.config().isEnabled("FAULT_INJECTION_DEBUG_FS")) {
            failslab.registerDebugfs(procfs);
        }
    }

    /**
     * failslab ({@code CONFIG_FAILSLAB}, mm/failslab.c): its knobs, and {@link Failslab#failNext(KmemCache, int)}
     * to make the next N allocations of a cache fail.
     *
     * @throws IllegalStateException when the config has no CONFIG_FAILSLAB ({@code mm4j.config.FAILSLAB=n})
     */
    public Failslab failslab() {
        if (!failslabBuilt) {
            throw new IllegalStateException("failslab: CONFIG_FAILSLAB is not set (booted with "
                + "mm4j.config.FAILSLAB=n or FAULT_INJECTION=n)");
        }
        return failslab;
    }

    /** Whether kmemleak runs (booted with {@code kmemleak=on}, {@code CONFIG_DEBUG_KMEMLEAK}). */
    public boolean kmemleakEnabled() {
        return kmemleak != null;
    }

    /**
     * kmemleak ({@code CONFIG_DEBUG_KMEMLEAK}, mm/kmemleak.c): scans, reports, roots.
     *
     * @throws IllegalStateException when the kernel was not booted with {@code kmemleak=on}
     */
    public Kmemleak kmemleak() {
        if (kmemleak == null) {
            throw new IllegalStateException("kmemleak: not running (boot with kmemleak=on)");
        }
        return kmemleak;
    }

    /**
     * The leak detector for segments of {@link SlabAllocator#allocate} dropped without {@code free}: its level
     * ({@code mm4j.leak_detection=} at boot), listeners and reports.
     */
    public LeakDetector leakDetector() {
        return leaks;
    }

    /** The leak detector's level was set: every registered allocator consults it, or stops consulting it. */
    void leakLevelChanged(final boolean on) {
        for (final SlabAllocator a : threadSheaves.owners()) {
            a.leakTracking(on);
        }
    }

    /** Whether the config has CONFIG_FAILSLAB (and so /sys/kernel/slab/NAME/failslab). */
    boolean failslabBuilt() {
        return failslabBuilt;
    }

    /**
     * failslab was armed or disarmed (probability changed from or to 0): the JVM allocators' fast paths are
     * diverted to their slow paths (where should_failslab is asked) while it is armed, and restored after.
     */
    private void failslabArmed() {
        final boolean on = failslab.active();
        for (final SlabAllocator a : threadSheaves.owners()) {
            a.failslabArmed(on);
        }
    }

    /** {@code create_kmalloc_caches}: every type (normal, rcl, dma, cg), 96 and 192 first, then 8 .. 8k. */
    private void createKmallocCaches() {
        for (int type = 0; type < NR_KMALLOC_TYPES; type++) {
            for (final int idx : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}) {
                long flags = SlabFlags.SLAB_KMALLOC;
                switch (type) {
                    case KMALLOC_RECLAIM -> flags |= SlabFlags.SLAB_RECLAIM_ACCOUNT;
                    case KMALLOC_DMA -> flags |= SlabFlags.SLAB_CACHE_DMA;
                    case KMALLOC_CGROUP -> flags |= SlabFlags.SLAB_ACCOUNT;
                    default -> flags |= SlabFlags.SLAB_NO_MERGE;
                }
                final int size = kmallocSize(idx);
                final KmemCacheArgs args = new KmemCacheArgs(0, flags, null, false, 0, 0, size, 0);
                kmallocCaches[type][idx] = create(TYPE_PREFIX[type] + SHORT_SIZE[idx], size, args, false);
            }
        }
    }

    /** Object size of kmalloc cache index {@code idx} (1 = 96, 2 = 192, else 2^idx). */
    public static int kmallocSize(final int idx) {
        return idx == 1 ? 96 : idx == 2 ? 192 : 1 << idx;
    }

    /** {@code kmalloc_index()}/{@code kmalloc_slab()}: the cache index for {@code size} (1..8192). */
    public static int kmallocIndex(final long size) {
        if (size <= 192) {
            return SIZE_INDEX[(int) (size - 1) >>> 3];
        }
        return 64 - Long.numberOfLeadingZeros(size - 1);
    }

    /** {@code kmalloc_type()}: DMA, then RECLAIMABLE, then ACCOUNT (cgroup), else normal. */
    public static int kmallocType(final int gfp) {
        if ((gfp & (Gfp.DMA | Gfp.RECLAIMABLE | Gfp.ACCOUNT)) == 0) {
            return KMALLOC_NORMAL;
        }
        if ((gfp & Gfp.DMA) != 0) {
            return KMALLOC_DMA;
        }
        return (gfp & Gfp.RECLAIMABLE) != 0 ? KMALLOC_RECLAIM : KMALLOC_CGROUP;
    }

    /** The kmalloc cache serving {@code size} with {@code gfp}, or null for 0 and sizes above 8k. */
    public KmemCache kmallocCache(final long size, final int gfp) {
        if (size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) {
            return null;
        }
        return kmallocCaches[kmallocType(gfp)][kmallocIndex(size)];
    }

    KmemCache kmallocCacheByIndex(final int type, final int idx) {
        return kmallocCaches[type][idx];
    }

    // ------------------------------------------------------------------ cache creation and destruction

    /** {@code kmem_cache_create(name, size, align, flags, ctor)}. */
    public KmemCache kmemCacheCreate(final String name, final int size, final int align, final long flags,
                                     final Ctor ctor) {
        return kmemCacheCreate(name, size, KmemCacheArgs.of(align, flags, ctor));
    }

    /**
     * {@code kmem_cache_create(name, size, &args, flags)}: a new cache, or an existing compatible one this name
     * becomes an alias of (unless {@code slab_nomerge}). Bad arguments are an {@link IllegalArgumentException}
     * naming them (the kernel's -EINVAL).
     */
    public KmemCache kmemCacheCreate(final String name, final int size, final KmemCacheArgs args) {
        final KmemCacheArgs a = args == null ? KmemCacheArgs.DEFAULT : args;
        checkCacheName(name);
        final long bad = a.flags() & ~SlabFlags.SLAB_FLAGS_PERMITTED;
        if (bad != 0) {
            throw new IllegalArgumentException(String.format("kmem_cache_create(%s): flags 0x%x outside"
                + " SLAB_FLAGS_PERMITTED (bits 0x%x are unknown or reserved to the allocator): -EINVAL", name,
                a.flags(), bad));
        }
        return create(name, size, a, true);
    }

    /** Longest cache name: one sysfs directory name under /sys/kernel/slab (NAME_MAX). */
    public static final int MAX_CACHE_NAME = 255;

    /**
     * The name rules of {@code kmem_cache_create} and of its sysfs directory: not empty, not {@code .} or
     * {@code ..}, no {@code /}, blank or control character, at most {@link #MAX_CACHE_NAME} bytes (UTF-8).
     */
    static void checkCacheName(final String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("kmem_cache_create: empty cache name: -EINVAL");
        }
        final int bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_CACHE_NAME) {
            throw new IllegalArgumentException("kmem_cache_create: cache name of " + bytes + " bytes is longer than"
                + " " + MAX_CACHE_NAME + " (one /sys/kernel/slab directory name): -ENAMETOOLONG");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("kmem_cache_create: cache name '" + name + "' cannot be a"
                + " /sys/kernel/slab directory: -EINVAL");
        }
        if (name.chars().anyMatch(c -> c == '/' || Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw new IllegalArgumentException("kmem_cache_create: bad cache name '" + name + "' (expected: a"
                + " name without blanks, control characters or '/'): -EINVAL");
        }
    }

    /** Whether {@code s} is one of the boot kmalloc caches (never destroyed). */
    private boolean isBootKmalloc(final KmemCache s) {
        for (final KmemCache[] row : kmallocCaches) {
            for (final KmemCache c : row) {
                if (c == s) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code kmem_cache_destroy} of the cache or alias named {@code name}: that name goes away (each name can be
     * destroyed once) and the cache loses one reference; the last reference shuts it down. An unknown name is an
     * {@link IllegalArgumentException}.
     */
    public void kmemCacheDestroy(final String name) {
        final KmemCache s;
        synchronized (this) {
            s = byName.get(name);
            if (s == null) {
                throw new IllegalArgumentException("kmem_cache_destroy: no cache or alias named '" + name + "'");
            }
            if (isBootKmalloc(s) && s.name().equals(name)) {
                throw new IllegalArgumentException("kmem_cache_destroy: " + name + " is a kmalloc cache");
            }
            if (s.refcount > 1) {
                s.refcount--;
                byName.remove(name);
                s.aliasNames.remove(name);
                return;
            }
        }
        destroy(s);
    }

    private synchronized KmemCache create(final String name, final int size, final KmemCacheArgs args,
                                          final boolean mayMerge) {
        if (name == null || name.isBlank() || name.contains("/") || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("kmem_cache_create: bad cache name '" + name + "' (expected: a"
                + " non-empty name without spaces or '/')");
        }
        if (size <= 0 || size > KMALLOC_MAX_SIZE) {
            throw new IllegalArgumentException("kmem_cache_create(" + name + "): size " + size + " (expected: 1 to "
                + KMALLOC_MAX_SIZE + ")");
        }
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("kmem_cache_create(" + name + "): a cache of that name exists");
        }
        if (args.useroffset() < 0 || args.usersize() < 0 || args.useroffset() > size
            || args.usersize() > size - args.useroffset()) {
            throw new IllegalArgumentException("kmem_cache_create(" + name + "): usercopy region "
                + args.useroffset() + "+" + args.usersize() + " outside the object of " + size + " bytes");
        }
        if (args.sheafCapacity() < 0 || args.sheafCapacity() > 4096) {
            throw new IllegalArgumentException("kmem_cache_create(" + name + "): sheaf_capacity "
                + args.sheafCapacity() + " (expected: 0 to 4096)");
        }
        final long flags = debugOptions.cacheFlags(args.flags(), name);
        if (mayMerge && args.usersize() == 0 && args.sheafCapacity() == 0) {
            final KmemCache s = SlabMerge.findMergeable(slabCaches, nomerge, size, args.align(), flags, args.ctor());
            if (s != null) {
                s.refcount++;
                s.aliasNames.add(name);
                s.objectSize = Math.max(s.objectSize, size);
                s.inuse = Math.max(s.inuse, Geometry.alignUp(size, 8));
                byName.put(name, s);
                return s;
            }
        }
        Geometry geo = Geometry.compute(size, args.align(), flags, args.ctor() != null, nrCpus, maxOrder,
            minOrder, minObjects, args.useFreeptrOffset(), args.freeptrOffset());
        final long lean = debugOptions.applyHigherOrderRule(flags, geo.size(), size);  // slub_debug=O
        if (lean != flags) {
            geo = Geometry.compute(size, args.align(), lean, args.ctor() != null, nrCpus, maxOrder, minOrder,
                minObjects, args.useFreeptrOffset(), args.freeptrOffset());
        }
        final int id = nextId++;
        final KmemCache s = new KmemCache(this, id, name, geo, args);
        if (id >= byId.length) {
            byId = java.util.Arrays.copyOf(byId, byId.length * 2);
        }
        final KmemCache[] ids = byId.clone();
        ids[id] = s;
        byId = ids;
        slabCaches.add(s);
        byName.put(name, s);
        s.sysfsName = SlabMerge.unmergeable(nomerge, s) ? name : SlabMerge.uniqueId(s);
        cacheListeners.forEach(l -> l.created(s));  // sysfs_slab_add's place: the JMX registrar
        return s;
    }

    /**
     * {@code kmem_cache_destroy}: drops one reference (an alias); the last one flushes and shuts the cache
     * down, reporting objects still allocated as the kernel does. The cache leaves the list either way.
     */
    public void destroy(final KmemCache s) {
        if (s == null) {
            return;
        }
        final int left;
        synchronized (this) {
            if (s.isDestroyed()) {
                throw new IllegalStateException("kmem_cache_destroy: cache " + s.name() + " already destroyed");
            }
            if (isBootKmalloc(s)) {
                throw new IllegalArgumentException("kmem_cache_destroy: " + s.name() + " is a kmalloc cache");
            }
            s.refcount--;
            if (s.refcount > 0) {
                final String alias = s.aliasNames.isEmpty() ? null : s.aliasNames.remove(s.aliasNames.size() - 1);
                if (alias != null) {
                    byName.remove(alias);
                }
                return;
            }
            left = SlubShrink.shutdown(s);
            if (left != 0) {
                debug.destroyBusyWarning(s.name());
            }
            SlubShrink.markDestroyed(s);
            slabCaches.remove(s);
            cacheListeners.forEach(l -> l.destroyed(s));  // sysfs_slab_unlink's place
            byName.values().removeIf(c -> c == s);
        }
    }

    /** A cache by name; an alias name resolves to the cache it was merged into. Null when none. */
    public synchronized KmemCache findCache(final String name) {
        return byName.get(name);
    }

    /** Every cache, newest first (the order of /proc/slabinfo). */
    public synchronized List<KmemCache> caches() {
        final List<KmemCache> l = new ArrayList<>(slabCaches);
        Collections.reverse(l);
        return l;
    }

    /** Names under /sys/kernel/slab: sysfs names of caches and every alias name. */
    synchronized Map<String, KmemCache> sysfsEntries() {
        final Map<String, KmemCache> m = new LinkedHashMap<>();
        for (final KmemCache s : slabCaches) {
            m.put(s.sysfsName, s);
            m.put(s.name(), s);
        }
        m.putAll(byName);
        return m;
    }

    KmemCache cacheById(final int slabCacheId) {
        final int id = slabCacheId & ~KmemCache.DESTROYED_ID;  // slabs left by a destroyed cache still name it
        final KmemCache[] ids = byId;
        return id > 0 && id < ids.length ? ids[id] : null;
    }

    /** SLUB debugging (slub_debug=): checks, reports, tracks, kunit-style error counting. */
    public SlubDebug debug() {
        return debug;
    }

    ProcFs procfs() {
        return procfs;
    }

    public SlubDebugOptions debugOptions() {
        return debugOptions;
    }

    public int nrCpus() {
        return nrCpus;
    }

    // ------------------------------------------------------------------ kmalloc family

    /** {@code kmalloc(size, gfp)}. */
    public long kmalloc(final long size, final int gfp) {
        return kmallocNode(size, gfp, -1);
    }

    /** {@code kzalloc(size, gfp)}. */
    public long kzalloc(final long size, final int gfp) {
        return kmallocNode(size, gfp | Gfp.ZERO, -1);
    }

    /** {@code kmalloc_array(n, size, gfp)}: 0 when {@code n * size} overflows. */
    public long kmallocArray(final long n, final long size, final int gfp) {
        if (n < 0 || size < 0) {
            throw new IllegalArgumentException("kmalloc_array: n=" + n + " size=" + size + " (expected: >= 0)");
        }
        if (size != 0 && n > Long.MAX_VALUE / size) {
            return 0;
        }
        return kmallocNode(n * size, gfp, -1);
    }

    /** {@code kcalloc(n, size, gfp)}: zeroed, overflow checked. */
    public long kcalloc(final long n, final long size, final int gfp) {
        return kmallocArray(n, size, gfp | Gfp.ZERO);
    }

    /** {@code kmalloc_node(size, gfp, nid)} ({@code nid < 0} = NUMA_NO_NODE). */
    public long kmallocNode(final long size, final int gfp, final int nid) {
        if (size < 0) {
            throw new IllegalArgumentException("kmalloc: size " + size + " (expected: >= 0)");
        }
        if (size > KMALLOC_MAX_CACHE_SIZE) {
            return KmallocLarge.kmallocLarge(this, size, gfp, nid);
        }
        if (size == 0) {
            return ZERO_SIZE_PTR;
        }
        final KmemCache s = kmallocCaches[kmallocType(gfp)][kmallocIndex(size)];
        final long phys = s.slabAllocNode(cpus.current(), gfp, nid, (int) size);
        if (phys == 0) {
            return 0;
        }
        s.postAlloc(phys, gfp, size);
        return PhysicalMemory.PAGE_OFFSET + phys;
    }

    /** {@code kfree(x)}: NULL and ZERO_SIZE_PTR are ignored; anything else must be a kmalloc'ed object. */
    public void kfree(final long kaddr) {
        if (kaddr == 0 || kaddr == ZERO_SIZE_PTR) {
            return;
        }
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (!mem.validPhys(phys)) {
            reportNotSlab("kfree", kaddr);
            return;
        }
        final long pfn = phys >>> PhysicalMemory.PAGE_SHIFT;
        long f = memMap.lpLong(pfn, MemMap.FLAGS);
        long head = pfn;
        if ((f & MemMap.PG_TAIL) != 0) {
            head = memMap.lpLong(pfn, MemMap.PRIVATE);
            f = memMap.lpLong(head, MemMap.FLAGS);
        }
        if ((f & MemMap.PG_SLAB) != 0) {
            final KmemCache s = cacheById(memMap.lpInt(head, MemMap.SLAB_CACHE));
            if (s == null || s.isDestroyed()) {
                throw new IllegalStateException("kfree: 0x" + Long.toHexString(kaddr) + " belongs to destroyed cache "
                    + (s == null ? "?" : s.name()));
            }
            leaks.untrackKernelFree(phys);  // a JVM allocator segment freed here loses its leak record
            s.freeChecked(cpus.current(), head, phys);
            return;
        }
        leaks.untrackKernelFree(phys);
        KmallocLarge.freeLarge(this, "kfree", kaddr, head, phys);
    }

    /** {@code ksize(x)}: the usable size of an allocated object. */
    public long ksize(final long kaddr) {
        if (kaddr == 0 || kaddr == ZERO_SIZE_PTR) {
            return 0;
        }
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (!mem.validPhys(phys)) {
            reportNotSlab("ksize", kaddr);
            return 0;
        }
        final long head = memMap.compoundHead(phys >>> PhysicalMemory.PAGE_SHIFT);
        if (memMap.test(head, MemMap.PG_SLAB)) {
            final KmemCache s = cacheById(memMap.lpInt(head, MemMap.SLAB_CACHE));
            if (s == null || !s.validObject(head, phys)) {
                throw new IllegalArgumentException("ksize: 0x" + Long.toHexString(kaddr) + " is not an object");
            }
            debug.skipOrigSizeCheck(s.debugView(), kaddr);  // __ksize: the caller may now use all of it
            return slabKsize(s);
        }
        if (memMap.privateWord(head) == LARGE_KMALLOC && memMap.test(head, MemMap.PG_HEAD)) {
            return (long) Geometry.PAGE_SIZE << memMap.compoundOrder(head);
        }
        dumpPage(head, "Not a kmalloc allocation");
        throw new IllegalArgumentException("ksize: 0x" + Long.toHexString(kaddr) + " is not a kmalloc allocation");
    }

    /** {@code slab_ksize()}. */
    static int slabKsize(final KmemCache s) {
        if ((s.flags & (SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON)) != 0) {
            return s.objectSize();
        }
        if ((s.flags & (SlabFlags.SLAB_TYPESAFE_BY_RCU | SlabFlags.SLAB_STORE_USER)) != 0) {
            return s.inuse();
        }
        return s.size();
    }

    /**
     * {@code krealloc(p, new_size, gfp)}: grows by moving when the object is too small; {@code new_size} 0 frees
     * and returns ZERO_SIZE_PTR; 0 on failure (the old object stays valid).
     */
    public long krealloc(final long kaddr, final long newSize, final int gfp) {
        if (newSize < 0) {
            throw new IllegalArgumentException("krealloc: size " + newSize + " (expected: >= 0)");
        }
        if (newSize == 0) {
            kfree(kaddr);
            return ZERO_SIZE_PTR;
        }
        if (kaddr == 0 || kaddr == ZERO_SIZE_PTR) {
            return kmalloc(newSize, gfp);
        }
        if (SlubDebugSupport.kreallocInPlace(this, kaddr, newSize, (gfp & Gfp.ZERO) != 0 || initOnAlloc)) {
            return kaddr;  // __do_krealloc with orig_size tracked: precise zeroing, new kmalloc red zone
        }
        final long tracked = SlubDebugSupport.copySize(this, kaddr, Long.MAX_VALUE);  // before ksize() resets it
        final long ks = ksize(kaddr);
        if (newSize <= ks) {
            return kaddr;
        }
        final long ret = kmalloc(newSize, gfp);
        if (ret == 0) {
            return 0;
        }
        final long from = kaddr - PhysicalMemory.PAGE_OFFSET;
        final long to = ret - PhysicalMemory.PAGE_OFFSET;
        final long copy = Math.min(tracked, ks);  // the kernel copies orig_size bytes when it is tracked
        MemorySegment.copy(mem.slice(from, copy), 0, mem.slice(to, copy), 0, copy);
        if ((gfp & Gfp.ZERO) != 0) {
            mem.fill(to + copy, newSize - copy, (byte) 0);
        }
        kfree(kaddr);
        return ret;
    }

    /** {@code kmalloc_node} then the usable size: convenience for FFM users. */
    public MemorySegment segment(final long kaddr, final long byteSize) {
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (byteSize < 0 || !mem.validPhys(phys) || (byteSize > 0 && !mem.validPhys(phys + byteSize - 1))) {
            throw new IllegalArgumentException("0x" + Long.toHexString(kaddr) + "+" + byteSize
                + " is not inside the model's memory (expected: 0x" + Long.toHexString(PhysicalMemory.PAGE_OFFSET)
                + " to 0x" + Long.toHexString(PhysicalMemory.PAGE_OFFSET + mem.totalBytes()) + ")");
        }
        return mem.slice(phys, byteSize);
    }

    /**
     * The real native address of {@code kaddr}.
     *
     * @throws IllegalArgumentException naming {@code kaddr} when it is not inside the model's memory
     */
    public long nativeAddress(final long kaddr) {
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (Long.compareUnsigned(phys, memBytes) >= 0) {
            kaddrToPhys(kaddr);  // throws, naming kaddr
        }
        return nativeBase + phys;  // the model's memory is one contiguous reservation
    }

    /** {@code __pa(kaddr)}, refusing an address outside the model's memory with an exception naming it. */
    private long kaddrToPhys(final long kaddr) {
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (!mem.validPhys(phys)) {
            throw new IllegalArgumentException("0x" + Long.toHexString(kaddr) + " is not inside the model's memory"
                + " (expected: 0x" + Long.toHexString(PhysicalMemory.PAGE_OFFSET) + " to 0x"
                + Long.toHexString(PhysicalMemory.PAGE_OFFSET + mem.totalBytes()) + ")");
        }
        return phys;
    }

    /** The kernel address of a native address inside the model's memory, or 0. */
    public long kaddrOfNative(final long nativeAddress) {
        final long phys = mem.nativeToPhys(nativeAddress);
        return phys < 0 ? 0 : PhysicalMemory.PAGE_OFFSET + phys;
    }

    // ------------------------------------------------------------------ the JVM-facing allocator

    /**
     * The calling thread's {@link SlabAllocator}: a {@link java.lang.foreign.SegmentAllocator} over kmalloc.
     * A platform thread gets its own, confined to it, with per-thread sheaves (capacity {@code mm4j.sheaves=N},
     * default by object size, {@link SlabAllocator#sheafCapacityFor}; 0 = the CPU-slab paths), given back when it
     * ends.
     * Every virtual thread gets the same shared allocator without sheaves: its calls take the per-CPU slab paths
     * (the lockless {@code cmpxchg} on the CPU slot's freelist, the slot lock on the slow path), so virtual
     * threads strand nothing and cost no registration.
     */
    public SlabAllocator allocator() {
        if (Thread.currentThread().isVirtual()) {
            final SlabAllocator shared = sharedAllocator;
            return shared != null ? shared : newSharedAllocator();
        }
        return threadAllocator.get();
    }

    private SlabAllocator newSharedAllocator() {
        synchronized (sharedAllocatorLock) {
            SlabAllocator shared = sharedAllocator;
            if (shared == null) {
                shared = new SlabAllocator(this, null, 0, 0);
                sharedAllocator = shared;
            }
            return shared;
        }
    }

    /**
     * The calling thread's own confined allocator with per-thread sheaves, on a virtual thread too: for a
     * long-lived virtual thread whose allocations are hot (per-thread sheaves cost about a third of the per-CPU
     * slab paths). Such a virtual thread is registered and its sheaves go back when it ends, as a platform
     * thread's do; it adds up to twice a cache's thread sheaf capacity per cache it uses to what is parked until
     * then. On a platform thread this is {@link #allocator()}.
     */
    public SlabAllocator confinedAllocator() {
        return threadAllocator.get();
    }

    private SlabAllocator newAllocator() {
        final SlabAllocator a = new SlabAllocator(this, Thread.currentThread(), threadSheafCapacity,
            cpus.current());
        if (threadSheafCapacity > 0) {
            threadSheaves.register(a);
            a.failslabArmed(failslab.active());  // armed between construction and registration: not missed
            a.leakTracking(leaks.level() != LeakDetector.Level.DISABLED);  // likewise the leak detector's level
        }
        return a;
    }

    int threadSheafCapacity() {
        return threadSheafCapacity;
    }

    /**
     * Thread sheaf capacity of a cache of {@code size}-byte slots with {@code sheaf_capacity} {@code requested}:
     * {@code mm4j.sheaves=N} if given (0: none), else by size, {@link SlabAllocator#sheafCapacityFor}.
     */
    int threadSheafCapacity(final int size, final int requested) {
        return threadSheafCapacity == 0 || explicitSheaves ? threadSheafCapacity
            : SlabAllocator.sheafCapacityFor(size, requested);
    }

    int threadSheafCapacity(final KmemCache s) {
        return threadSheafCapacity(s.size(), s.sheafCapacity);
    }

    /**
     * Flushes the sheaves of {@code s} held by this thread's allocator and all sheaves of allocators of ended
     * threads (each exactly once, see {@link ThreadSheafRegistry}). Never touches a live thread's sheaves.
     */
    void flushThreadSheaves(final KmemCache s) {
        final Thread me = Thread.currentThread();
        for (final SlabAllocator a : threadSheaves.owners()) {
            if (a.owner() == me) {
                a.flush(s);
            } else if (!a.owner().isAlive()) {
                threadSheaves.reap(a);
            }
        }
    }

    /**
     * What the kernel does before an allocation fails (direct reclaim's {@code drain_all_pages} and shrinkers,
     * {@code flush_all} of the per-CPU sheaves): returns the sheaves of ended threads and of the calling thread,
     * the per-CPU sheaves and the barns' sheaves of every cache to the slabs, and frees the empty slabs. Called
     * with no slab lock held, by an allocation about to fail (which then retries once). Live threads' sheaves
     * are never touched: at most twice the cache's thread sheaf capacity per live thread and cache stays out of reach.
     * Departure from Linux, named: the kernel has no shrinker for sheaves; mm4j reclaims them here because a JVM
     * thread, unlike a CPU, can end with its cache full.
     */
    public void reclaimStranded() {
        reclaimLock.lock();
        try {
            threadSheaves.reapEnded();
            final Thread me = Thread.currentThread();
            for (final SlabAllocator a : threadSheaves.owners()) {
                if (a.owner() == me) {
                    a.flushAllCaches();
                }
            }
            for (final KmemCache s : caches()) {
                if (!s.isDestroyed()) {
                    SlubShrink.reclaimSheaves(s);
                }
            }
        } finally {
            reclaimLock.unlock();
        }
    }

    /** Fast-path sheaf counts of every thread allocator for {@code s} on {@code cpu}. */
    long threadSheafStat(final KmemCache s, final StatItem item, final int cpu) {
        long n = 0;
        for (final SlabAllocator a : threadSheaves.owners()) {
            n += a.pendingStat(s, item, cpu);
        }
        return n;
    }

    void clearThreadSheafStat(final KmemCache s, final StatItem item) {
        for (final SlabAllocator a : threadSheaves.owners()) {
            a.clearPendingStat(s, item);
        }
    }

    /** Objects of {@code s} held in thread sheaves (exact when those threads are quiescent). */
    long threadSheafObjects(final KmemCache s) {
        long n = 0;
        for (final SlabAllocator a : threadSheaves.owners()) {
            n += a.objects(s);
        }
        return n;
    }

    /** Registered threads holding sheaves of {@code s} (including ended ones not yet reaped). */
    int threadSheafHolders(final KmemCache s) {
        int n = 0;
        for (final SlabAllocator a : threadSheaves.owners()) {
            if (a.hasSheaves(s)) {
                n++;
            }
        }
        return n;
    }

    /** Platform threads registered with sheaves (live, or ended and not yet reaped). */
    public int threadSheafOwners() {
        return threadSheaves.liveOwners();
    }

    /** Ended platform threads whose sheaves have not gone back yet (0 once the reaper caught up). */
    public int endedThreadSheafOwners() {
        return threadSheaves.endedOwners();
    }

    /** Ended threads whose sheaves went back (by the reaper or a slow path). */
    public long reapedThreads() {
        return threadSheaves.reapedThreads();
    }

    /** Objects that went back with the sheaves of ended threads. */
    public long reapedObjects() {
        return threadSheaves.reapedObjects();
    }

    /** Stops the sheaf reaper (waiting for a flush in progress); {@link org.mm4j.Kernel#close()}. */
    public void shutdownThreads() {
        threadSheaves.close();
        for (final SlabAllocator a : threadSheaves.owners()) {
            a.forgetSheaves();  // their hot paths read object memory unchecked: nothing left to pop once it is gone
        }
    }

    // ------------------------------------------------------------------ shared helpers

    /** {@code virt_to_slab}: head pfn of the slab holding {@code phys}, or -1. */
    long virtToSlab(final long phys) {
        if (!mem.validPhys(phys)) {
            return -1;
        }
        final long head = memMap.compoundHead(phys >>> PhysicalMemory.PAGE_SHIFT);
        return memMap.test(head, MemMap.PG_SLAB) ? head : -1;
    }

    void reportNotSlab(final String op, final long kaddr) {
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (mem.validPhys(phys)) {
            dumpPage(memMap.compoundHead(phys >>> PhysicalMemory.PAGE_SHIFT), "Not a kmalloc allocation");
        } else {
            log.printk("%s: Object is not a Slab page! (0x%x is outside the kernel direct map)", op, kaddr);
        }
        throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(kaddr) + " is not a slab object");
    }

    void dumpPage(final long pfn, final String reason) {
        log.printk("------------[ cut here ]------------");
        log.printk("WARNING: CPU: %d PID: %d at mm/slub.c:4755 free_large_kmalloc+0x62/0x90", cpus.current(),
            ProcessHandle.current().pid());
        log.printk("page: refcount:%d mapcount:%d mapping:0000000000000000 index:0x0 pfn:0x%x",
            memMap.refcount(pfn), memMap.lpInt(pfn, MemMap.MAPCOUNT), pfn);
        log.printk("flags: 0x%x", memMap.flags(pfn) & ~MemMap.MT_MASK);
        log.printk("page dumped because: %s", reason);
        log.printk("---[ end trace 0000000000000000 ]---");
    }

    /** {@code slab_err}: the BUG banner, the message, the slab line. */
    void slabErr(final KmemCache s, final long slab, final String text) {
        // the kernel's report, taint, WARN, kunit counting
        debug.slabErr(s.debugView(), new SlabPage(this, slab), text);
    }

    void warn(final String text) {
        log.printk("------------[ cut here ]------------");
        log.printk("WARNING: CPU: %d PID: %d: %s", cpus.current(), ProcessHandle.current().pid(), text);
        log.printk("---[ end trace 0000000000000000 ]---");
    }

    void accountSlabPages(final KmemCache s, final int delta) {
        if ((s.flags & SlabFlags.SLAB_RECLAIM_ACCOUNT) != 0) {
            slabReclaimablePages.addAndGet(delta);
            buddy.vmstat().add(VmStat.NR_SLAB_RECLAIMABLE, delta);
        } else {
            slabUnreclaimablePages.addAndGet(delta);
            buddy.vmstat().add(VmStat.NR_SLAB_UNRECLAIMABLE, delta);
        }
    }

    /** Pages held by reclaimable slabs ({@code NR_SLAB_RECLAIMABLE_B / PAGE_SIZE}). */
    public long slabReclaimablePages() {
        return slabReclaimablePages.get();
    }

    /** Pages held by unreclaimable slabs and large kmallocs. */
    public long slabUnreclaimablePages() {
        return slabUnreclaimablePages.get();
    }
}
