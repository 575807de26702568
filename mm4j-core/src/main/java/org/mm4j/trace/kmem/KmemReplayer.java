package org.mm4j.trace.kmem;

import org.mm4j.base.CpuSlots;
import org.mm4j.boot.BootParams;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.Zone;
import org.mm4j.slab.Ctor;
import org.mm4j.slab.Geometry;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.KmemCacheArgs;
import org.mm4j.slab.SlabFlags;
import org.mm4j.slab.Slub;
import org.mm4j.slab.StatItem;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays {@link KmemEvent}s through a booted model kernel: slab events through SLUB, page events through the
 * buddy allocator, each on the CPU slot the trace names.
 *
 * <p>Matching: the kernel hashes the pointers it prints ({@code %p}), consistently within one boot, so an object's
 * alloc and free carry the same value. A {@link LongLongMap} maps each live hashed pointer to the model's address
 * (and each live traced pfn to the model's pfn and order): bounded memory, no boxing. A free whose pointer was never
 * seen frees an object allocated before the capture began: counted and skipped. {@code kfree(NULL)} is legal and
 * counted. Page events whose pfn is -1 record a failed allocation of the real kernel and are skipped.
 *
 * <p>Caches: a cache named in a kmem_cache_alloc event is looked up in the model's SLUB and, when absent, created
 * with the kernel's geometry: {@code bytes_req} is the cache's {@code object_size} and {@code bytes_alloc} its
 * {@code size}, so the replay picks the flags (none, SLAB_HWCACHE_ALIGN, a constructor) under which mm4j's
 * calculate_sizes gives that size; when none does, the cache is made with {@code bytes_alloc} as object size.
 * kmalloc events go
 * through the model's kmalloc, which picks the size class and type (cg, rcl) from the size and gfp flags. Frees go
 * through {@code kfree}, which finds each object's cache from its slab page, as the kernel's does.
 *
 * <p>Departures, named: the real kernel's slab pages also appear as mm_page_alloc/mm_page_free events, so the model's
 * buddy allocator sees that traffic twice (once from the model's own SLUB, once replayed). Objects alive when the
 * capture started are not in the model, so slab occupancy starts from empty.
 *
 * <p>Page blocks allocated for mm_page_alloc events are only held, never written: they are freed with
 * {@link BuddyAllocator#freePagesUnwritten}, so a block the model zeroed for a {@code __GFP_ZERO} event is not
 * zeroed again when the next such event gets it (its bytes are zero either way).
 *
 * <p>Time: from the first event to {@link #finish()} the buddy allocator's once-a-second vmstat tick
 * ({@code decay_pcp_high}) runs on the trace's clock, the events' timestamps, not on wall-clock time: how fast the
 * replay ran does not change its result, and two replays of one trace on the same boot end in the same state.
 *
 * <p>Threads: one replayer runs on one thread (it pins that thread to each event's CPU slot).
 */
public final class KmemReplayer {
    /** Live objects and pages tracked at most (beyond: counted as untracked; 2 x 16 B x 2^23 = 256 MiB worst case). */
    public static final int MAX_TRACKED = 1 << 23;

    /** Allocations replayed under one name (a cache, a call site): how many, bytes asked for, bytes handed out. */
    public static class AllocStats {
        final String name;
        long allocs;
        long bytesReq;
        long bytesAlloc;

        AllocStats(final String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public long allocs() {
            return allocs;
        }

        /** Bytes the callers asked for, summed over replayed allocations. */
        public long bytesReq() {
            return bytesReq;
        }

        /** Bytes handed out for them (the object size of the cache that served each). */
        public long bytesAlloc() {
            return bytesAlloc;
        }

        /** Internal fragmentation: the share of allocated bytes nobody asked for. */
        public double wasteShare() {
            return bytesAlloc == 0 ? 0 : (bytesAlloc - bytesReq) / (double) bytesAlloc;
        }
    }

    /** Per-cache figures of a replay. */
    public static final class CacheStats extends AllocStats {
        long failures;
        int series = -1;

        CacheStats(final String name) {
            super(name);
        }

        public long failures() {
            return failures;
        }
    }

    /**
     * Per-call-site figures of a replay, as {@code perf kmem stat --caller --alloc} prints them: the allocations
     * made from one {@code call_site=} (replayed ones), the bytes asked for and the bytes the model handed out.
     */
    public static final class CallSiteStats extends AllocStats {
        /** Dense number of this site, in order of first appearance: what a live object's map entry records. */
        final int index;
        long pingPong;

        CallSiteStats(final String site, final int index) {
            super(site);
            this.index = index;
        }

        /**
         * Objects from this site freed on another CPU than the one that allocated them (perf's "Ping-pong":
         * replayed frees of objects allocated during the replay, CPUs as the trace names them).
         */
        public long pingPong() {
            return pingPong;
        }

        /** {@code function+0xoff/0xlen} as the trace prints it; {@link #UNKNOWN_SITE} or {@link #OTHER_SITES}. */
        public String site() {
            return name;
        }

        /** Allocations made from this site (perf's "Hit"). */
        public long hits() {
            return allocs;
        }
    }

    /** The site of allocations whose line has no call_site=. */
    public static final String UNKNOWN_SITE = "(no call_site)";
    /** Where allocations go once {@link #MAX_SITES} distinct call sites have been seen (memory stays bounded). */
    public static final String OTHER_SITES = "(other call sites)";
    /** Call sites tracked one by one at most. */
    public static final int MAX_SITES = 1 << 16;

    /** A cache as the trace names it, with the model's cache behind it. */
    private static final class TraceCache {
        final KmemCache cache;
        final CacheStats stats;

        TraceCache(final KmemCache cache, final CacheStats stats) {
            this.cache = cache;
            this.stats = stats;
        }
    }

    private final BootParams params;
    private final CpuSlots cpus;
    private final BuddyAllocator buddy;
    private final Slub slub;
    private final Map<String, TraceCache> traceCaches = new HashMap<>();
    /** A cache's and a call site's entry by the reader's id of its name ({@code KmemEvent#cacheNameId}, ...). */
    private final ById<TraceCache> cacheById = new ById<>();
    private final ById<CallSiteStats> siteById = new ById<>();

    /**
     * Entries by the reader's id of an interned string (0, 1, 2...: at most the interner's 2^15), each with the
     * String instance it was stored for: a hit needs that same instance, so a stale or foreign id only misses.
     */
    private static final class ById<T> {
        private Object[] values = new Object[64];
        private String[] keys = new String[64];

        /** The entry of {@code id} stored for {@code key}, or null. */
        @SuppressWarnings({"unchecked", "ReferenceEquality"}) // keys are interned by the reader: identity is equality
        T get(final int id, final String key) {
            return id >= 0 && id < keys.length && keys[id] == key ? (T) values[id] : null;
        }

        void put(final int id, final String key, final T value) {
            if (id < 0 || key == null) {
                return;
            }
            if (id >= keys.length) {
                final int n = Math.max(id + 1, 2 * keys.length);
                values = java.util.Arrays.copyOf(values, n);
                keys = java.util.Arrays.copyOf(keys, n);
            }
            values[id] = value;
            keys[id] = key;
        }
    }
    private long peakSlabPages;
    private long cachesCreated;
    private long cachesMatched;
    private long refused;
    private String firstRefusal;
    private final int nrCpus;
    private final LongLongMap objects = new LongLongMap(1 << 12, MAX_TRACKED);
    private final LongLongMap pages = new LongLongMap(1 << 12, MAX_TRACKED);
    private final Map<String, CacheStats> caches = new HashMap<>();
    private final Map<String, CallSiteStats> sites = new HashMap<>();
    /** The sites by {@link CallSiteStats#index}. */
    private CallSiteStats[] siteList = new CallSiteStats[64];
    private long pingPongs;
    private final long[] pageAllocsByOrder = new long[Timeline.ORDERS];
    private final long[] pageFreesByOrder = new long[Timeline.ORDERS];
    private long objectFrees;
    private final Timeline timeline = new Timeline(512);
    private final long[] freeScratch = new long[Timeline.ORDERS];
    private long[] seriesScratch = new long[16];
    /**
     * The caches {@link #sample()} saw, by position from the oldest in {@link Slub#caches()} (which lists the newest
     * first, so a new cache does not move the older ones), and each one's timeline series: a cache found at its
     * position again needs no lookup by name.
     */
    private KmemCache[] sampledCaches = new KmemCache[0];
    private int[] sampledSeries = new int[0];

    /** {@link #kmallocStats}: per slot of the kmalloc table (slot 0: kmalloc-large), the cache and its figures. */
    private final KmemCache[] kmallocStatsOf =
        new KmemCache[1 + Slub.NR_KMALLOC_TYPES * (Slub.KMALLOC_SHIFT_HIGH + 1)];
    private final CacheStats[] kmallocStats = new CacheStats[kmallocStatsOf.length];

    private final long[] perType = new long[KmemEvent.NR_TYPES];
    /** The batch {@link #replay(KmemEvent)} copies its one event into. */
    private final KmemEventBatch one = new KmemEventBatch(1);
    private long events;
    private long kfreeNull;
    private long preCaptureObjectFrees;
    private long preCapturePageFrees;
    private long kernelPageFailures;
    private long modelPageFailures;
    private long modelObjectFailures;
    private long untracked;
    private long orderMismatches;
    private long cpuFolded;
    private long lastMicros;
    private long firstMicros = -1;

    /**
     * A replayer over one booted kernel's subsystems (from the composition root: {@code kernel.params()},
     * {@code kernel.buddy()}, {@code kernel.slab()}, {@code kernel.cpus()}).
     */
    public KmemReplayer(final BootParams params, final BuddyAllocator buddy, final Slub slub, final CpuSlots cpus) {
        this.params = params;
        this.cpus = cpus;
        this.buddy = buddy;
        this.slub = slub;
        this.nrCpus = cpus.nrCpus();
    }

    /** Replays one event. */
    public void replay(final KmemEvent ev) {
        one.clear();
        one.add(ev);
        replay(one, 0);
    }

    /** Replays event {@code i} of {@code b}, read in place (the pipelined replay: no copy per event). */
    public void replay(final KmemEventBatch b, final int i) {
        int cpu = b.cpu[i];
        if (cpu >= nrCpus) {
            cpuFolded++;
            cpu %= nrCpus;
        }
        cpus.pin(cpu);
        final long micros = b.micros[i];
        if (firstMicros < 0) {
            firstMicros = micros;
            buddy.startTraceClock(traceNanos(micros));
        } else if (micros != lastMicros) {
            buddy.advanceTraceClock(traceNanos(micros));
        }
        lastMicros = micros;
        events++;
        final int type = b.type[i];
        perType[type]++;
        try {
            switch (type) {
                case KmemEvent.MM_PAGE_ALLOC -> pageAlloc(b.pfn[i], b.order[i], b.gfp[i]);
                case KmemEvent.MM_PAGE_FREE -> pageFree(b.pfn[i], b.order[i]);
                case KmemEvent.KMALLOC -> kmalloc(b.bytesReq[i], b.gfp[i], b.callSite[i], b.callSiteId[i], b.ptr[i],
                    b.cpu[i]);
                case KmemEvent.KMEM_CACHE_ALLOC -> kmemCacheAlloc(b.cacheName[i], b.cacheNameId[i], b.bytesReq[i],
                    b.bytesAlloc[i], b.gfp[i], b.callSite[i], b.callSiteId[i], b.ptr[i], b.cpu[i]);
                default -> free(b.ptr[i], b.cpu[i]);
            }
            if (type < KmemEvent.MM_PAGE_ALLOC) {
                final long slabPages = slub.slabReclaimablePages() + slub.slabUnreclaimablePages();
                if (slabPages > peakSlabPages) {
                    peakSlabPages = slabPages;
                }
            }
        } catch (final IllegalArgumentException | IllegalStateException e) {
            // the model refused this event (an absurd size, say): counted, and the replay goes on
            refused++;
            if (firstRefusal == null) {
                firstRefusal = "line " + b.lineNo[i] + ": " + e.getMessage();
            }
        }
        if (timeline.due(events)) {
            sample();
        }
    }

    /** A trace timestamp as the buddy allocator's vmstat clock (nanoseconds, saturated, never negative). */
    private static long traceNanos(final long micros) {
        return micros <= 0 ? 0 : micros >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : micros * 1000;
    }

    /**
     * The end of the replay: the buddy allocator's vmstat tick, which ran on the trace's clock (the events'
     * timestamps, so that a replay is repeatable), goes back to wall-clock time.
     */
    public void finish() {
        if (firstMicros >= 0) {
            buddy.stopTraceClock();
        }
    }

    private void pageAlloc(final long tracePfn, final int order, final int gfp) {
        if (tracePfn == -1) {
            kernelPageFailures++;
            return;
        }
        final long pfn = buddy.allocPages(gfp, order);
        if (pfn < 0) {
            modelPageFailures++;
            return;
        }
        pageAllocsByOrder[order]++;
        final long old = pages.swap(tracePfn + 1, pfn << 4 | order);
        if (old == LongLongMap.FULL) {
            untracked++;
            buddy.freePagesUnwritten(pfn, order);
        } else if (old != LongLongMap.MISSING) {
            // allocated twice without a free in between: the free was not captured; let the old block go
            buddy.freePagesUnwritten(old >>> 4, (int) (old & 0xf));
        }
    }

    private void pageFree(final long tracePfn, final int traceOrder) {
        final long v = pages.remove(tracePfn + 1);
        if (v == LongLongMap.MISSING) {
            preCapturePageFrees++;
            return;
        }
        final int order = (int) (v & 0xf);
        if (order != traceOrder) {
            orderMismatches++;
        }
        pageFreesByOrder[order]++;
        buddy.freePagesUnwritten(v >>> 4, order);
    }

    private void kmalloc(final long bytesReq, final int gfp, final String callSite, final int siteId,
                         final long ptr, final int traceCpu) {
        final long kaddr = slub.kmalloc(bytesReq, gfp);
        final KmemCache c = slub.kmallocCache(bytesReq, gfp);
        final CacheStats st = kmallocStats(c, bytesReq, gfp);
        if (kaddr == 0) {
            st.failures++;
            modelObjectFailures++;
            return;
        }
        final long size = c != null ? c.size() : slub.ksize(kaddr);
        st.allocs++;
        st.bytesReq += bytesReq;
        st.bytesAlloc += size;
        track(ptr, kaddr, traceCpu, site(callSite, siteId, bytesReq, size));
    }

    private void kmemCacheAlloc(final String name, final int nameId, final long bytesReq, final long bytesAlloc,
                                final int gfp, final String callSite, final int siteId, final long ptr,
                                final int traceCpu) {
        final TraceCache tc = traceCache(name, nameId, bytesReq, bytesAlloc);
        if (tc == null) {
            modelObjectFailures++;
            return;
        }
        final long kaddr = tc.cache.alloc(gfp);
        if (kaddr == 0) {
            tc.stats.failures++;
            modelObjectFailures++;
            return;
        }
        tc.stats.allocs++;
        tc.stats.bytesReq += bytesReq;
        tc.stats.bytesAlloc += tc.cache.size();
        track(ptr, kaddr, traceCpu, site(callSite, siteId, bytesReq, tc.cache.size()));
    }

    private TraceCache traceCache(final String name, final int nameId, final long bytesReq, final long bytesAlloc) {
        final TraceCache known = cacheById.get(nameId, name);
        if (known != null && !known.cache.isDestroyed()) {
            return known;
        }
        TraceCache tc = traceCaches.get(name);
        if (tc == null || tc.cache.isDestroyed()) {
            tc = newTraceCache(name, bytesReq, bytesAlloc);
            if (tc == null) {
                return null;
            }
        }
        cacheById.put(nameId, name, tc);
        return tc;
    }

    /** The trace's cache {@code name}: the model's of that name, else one created with the kernel's geometry. */
    private TraceCache newTraceCache(final String name, final long bytesReq, final long bytesAlloc) {
        KmemCache c = slub.findCache(name);
        if (c == null) {
            final long size = bytesAlloc > 0 ? bytesAlloc : bytesReq;
            if (size <= 0 || size > Slub.KMALLOC_MAX_SIZE || bytesReq > Slub.KMALLOC_MAX_SIZE) {
                return null;
            }
            try {
                final KmemCacheArgs args = kernelGeometry((int) bytesReq, (int) size);
                if (args != null) {
                    c = slub.kmemCacheCreate(name, (int) bytesReq, args);
                    cachesMatched++;
                } else {
                    c = slub.kmemCacheCreate(name, (int) size, KmemCacheArgs.DEFAULT);
                }
                cachesCreated++;
            } catch (final IllegalArgumentException | IllegalStateException e) {
                return null;
            }
        }
        final TraceCache tc = new TraceCache(c, stats(name));
        traceCaches.put(name, tc);
        return tc;
    }

    /** A no-op constructor: the kernel cache had one (its free pointer sits after the object). */
    private static final Ctor TRACE_CTOR = Ctor.named("ctor+0x0/0x10", seg -> { });

    /**
     * Arguments under which a cache of {@code objectSize} (the event's bytes_req: {@code s->object_size}) gets
     * the per-object size the kernel printed ({@code bytes_alloc}: {@code s->size}): plain, hardware-cache
     * aligned, with a constructor (free pointer moved out of the object), or both; null when none fits.
     */
    private KmemCacheArgs kernelGeometry(final int objectSize, final int size) {
        if (objectSize <= 0 || objectSize > size) {
            return null;
        }
        final long[] flags = {0, SlabFlags.SLAB_HWCACHE_ALIGN};
        for (final boolean ctor : new boolean[] {false, true}) {
            for (final long f : flags) {
                final Geometry g;
                try {
                    g = Geometry.compute(objectSize, 0, f, ctor, nrCpus, params.slubMaxOrder(),
                        params.slubMinOrder(), params.slubMinObjects(), false, 0);
                } catch (final IllegalArgumentException e) {
                    continue;
                }
                if (g.size() == size) {
                    KmemCacheArgs a = KmemCacheArgs.DEFAULT.withFlags(f);
                    return ctor ? a.withCtor(TRACE_CTOR) : a;
                }
            }
        }
        return null;
    }

    /*
     * A live object's entry in the pointer map: its model address, the trace CPU that allocated it and its call
     * site's index, packed in one non-negative long (so never MISSING or FULL): the offset into the direct map in
     * 8-byte units (objects are at least word aligned; the model has at most 2^40 bytes: 37 bits), the CPU (8 bits:
     * at most 256) and the site (18 bits: at most MAX_SITES + 1 of them).
     */
    private static final int ENTRY_CPU_SHIFT = 37;
    private static final int ENTRY_SITE_SHIFT = 45;
    private static final long ENTRY_ADDR_MASK = (1L << ENTRY_CPU_SHIFT) - 1;

    private static long entry(final long kaddr, final int traceCpu, final int site) {
        final long off = kaddr - PhysicalMemory.PAGE_OFFSET;
        assert (off & 7) == 0 && off >>> 3 <= ENTRY_ADDR_MASK : Long.toHexString(kaddr);
        return off >>> 3 | (long) (traceCpu & 0xff) << ENTRY_CPU_SHIFT | (long) site << ENTRY_SITE_SHIFT;
    }

    private static long entryAddr(final long entry) {
        return PhysicalMemory.PAGE_OFFSET + ((entry & ENTRY_ADDR_MASK) << 3);
    }

    private void track(final long ptr, final long kaddr, final int traceCpu, final int site) {
        if (ptr == 0) {
            return;
        }
        final long old = objects.swap(ptr, entry(kaddr, traceCpu, site));
        if (old == LongLongMap.FULL) {
            untracked++;
            slub.kfree(kaddr);
        } else if (old != LongLongMap.MISSING) {
            // the same hashed pointer allocated again without a captured free: let the old object go
            slub.kfree(entryAddr(old));
        }
    }

    private void free(final long ptr, final int traceCpu) {
        if (ptr == 0) {
            kfreeNull++;
            return;
        }
        final long e = objects.remove(ptr);
        if (e == LongLongMap.MISSING) {
            preCaptureObjectFrees++;
            return;
        }
        objectFrees++;
        if ((int) (e >>> ENTRY_CPU_SHIFT & 0xff) != (traceCpu & 0xff)) {
            // perf kmem: a free on another CPU than the allocation's is a ping-pong of the allocating site
            pingPongs++;
            siteList[(int) (e >>> ENTRY_SITE_SHIFT)].pingPong++;
        }
        slub.kfree(entryAddr(e));
    }

    /** Counts an allocation from {@code callSite}; returns the site's {@link CallSiteStats#index}. */
    private int site(final String callSite, final int siteId, final long bytesReq, final long size) {
        CallSiteStats st = siteById.get(siteId, callSite);
        if (st == null) {
            final String key = callSite != null ? callSite : UNKNOWN_SITE;
            st = sites.get(key);
            if (st == null) {
                final String k = sites.size() < MAX_SITES ? key : OTHER_SITES;
                st = sites.computeIfAbsent(k, this::newSite);
            }
            siteById.put(siteId, callSite, st);
        }
        st.allocs++;
        st.bytesReq += bytesReq;
        st.bytesAlloc += size;
        return st.index;
    }

    private CallSiteStats newSite(final String site) {
        final CallSiteStats st = new CallSiteStats(site, sites.size());
        if (st.index >= siteList.length) {
            siteList = java.util.Arrays.copyOf(siteList, 2 * siteList.length);
        }
        siteList[st.index] = st;
        return st;
    }

    /**
     * The figures of kmalloc cache {@code c} (null: kmalloc-large) serving {@code size} with {@code gfp}: by the
     * cache's slot in the kmalloc table, checked against the cache itself, else by name (first use).
     */
    private CacheStats kmallocStats(final KmemCache c, final long size, final int gfp) {
        final int slot = c == null ? 0 : 1 + Slub.kmallocType(gfp) * (Slub.KMALLOC_SHIFT_HIGH + 1)
            + Slub.kmallocIndex(size);
        if (kmallocStatsOf[slot] == c && kmallocStats[slot] != null) {
            return kmallocStats[slot];
        }
        final CacheStats st = stats(c != null ? c.name() : "kmalloc-large");
        kmallocStatsOf[slot] = c;
        kmallocStats[slot] = st;
        return st;
    }

    private CacheStats stats(final String name) {
        CacheStats s = caches.get(name);
        if (s == null) {
            s = new CacheStats(name);
            caches.put(name, s);
        }
        return s;
    }

    /**
     * Takes a timeline sample now (also done every so many events, and should be at the end). Cheap on purpose:
     * it runs a few thousand times per replay, so it reads each zone under one lock hold, and the loop over every
     * cache is a method of its own ({@link #sampleSlabBytes}) that finds a cache's series by the cache itself rather
     * than by its name. This method then loops too little for C2 to compile it (with the list copy, the lock and
     * the timeline's row copies inlined: 9 KB of code, compiled twice); only the small loop is compiled.
     */
    public void sample() {
        java.util.Arrays.fill(freeScratch, 0);
        for (final Zone z : buddy.zones()) {
            z.addNrFree(freeScratch);
        }
        // slab bytes per cache, as /proc/slabinfo shows them (num_slabs x pagesperslab)
        java.util.Arrays.fill(seriesScratch, 0);
        sampleSlabBytes(slub.caches());
        final int n = timeline.seriesCount();
        timeline.add(events, lastMicros, freeScratch, java.util.Arrays.copyOf(seriesScratch, n));
    }

    /** Sets {@code seriesScratch[series of c]} to the slab bytes of each cache {@code c} of {@code all}. */
    private void sampleSlabBytes(final List<KmemCache> all) {
        final int nc = all.size();
        if (sampledCaches.length < nc) {
            sampledCaches = java.util.Arrays.copyOf(sampledCaches, Math.max(nc, 2 * sampledCaches.length));
            sampledSeries = java.util.Arrays.copyOf(sampledSeries, sampledCaches.length);
        }
        for (int j = 0; j < nc; j++) {
            final KmemCache c = all.get(j);
            final int k = nc - 1 - j;  // the list is newest first: position k from the oldest is stable
            final int i = sampledCaches[k] == c ? sampledSeries[k] : newSampledCache(c, k);
            seriesScratch[i] = slabPages(c) << PhysicalMemory.PAGE_SHIFT;
        }
    }

    /** A cache not seen at position {@code k} before: its series by name (added when new); returns its index. */
    private int newSampledCache(final KmemCache c, final int k) {
        final int i = timeline.seriesIndex(c.name());
        sampledCaches[k] = c;
        sampledSeries[k] = i;
        if (seriesScratch.length <= i) {
            seriesScratch = java.util.Arrays.copyOf(seriesScratch, Math.max(i + 1, 2 * seriesScratch.length));
        }
        return i;
    }

    /** Pages in the slabs of {@code c} (what /sys/kernel/slab/CACHE/slabs counts, in slabs of 2^order pages). */
    private static long slabPages(final KmemCache c) {
        return c.nrSlabs() << c.order();
    }

    /** Slab pages at the highest point of the replay. */
    public long peakSlabPages() {
        return peakSlabPages;
    }

    /** Caches the replay created (named in the trace, unknown to the model). */
    public long cachesCreated() {
        return cachesCreated;
    }

    /** Of {@link #cachesCreated()}, those whose object_size and size equal the kernel's (from the events). */
    public long cachesMatched() {
        return cachesMatched;
    }

    /** Events the model refused with an error (see {@link #firstRefusal()}). */
    public long refused() {
        return refused;
    }

    /** The first refusal's line and message, or null. */
    public String firstRefusal() {
        return firstRefusal;
    }

    /** The sum of one SLUB statistic over every cache. */
    public long stat(final StatItem item) {
        long n = 0;
        for (final KmemCache c : slub.caches()) {
            n += c.stat(item);
        }
        return n;
    }

    public Timeline timeline() {
        return timeline;
    }

    public Collection<CacheStats> caches() {
        return List.copyOf(caches.values());
    }

    /** Per call site of the replayed allocations (at most {@link #MAX_SITES} + 1 rows). */
    public Collection<CallSiteStats> callSites() {
        return List.copyOf(sites.values());
    }

    /** Page blocks of {@code order} the model allocated for mm_page_alloc events. */
    public long pageAllocs(final int order) {
        return pageAllocsByOrder[order];
    }

    /** Page blocks of {@code order} freed for mm_page_free events of blocks allocated during the replay. */
    public long pageFrees(final int order) {
        return pageFreesByOrder[order];
    }

    /** kfree/kmem_cache_free events of objects allocated during the replay (replayed frees). */
    public long objectFrees() {
        return objectFrees;
    }

    /** Of {@link #objectFrees()}, those on another CPU than the allocation (perf kmem's ping-pong, summed). */
    public long pingPongs() {
        return pingPongs;
    }

    public long events() {
        return events;
    }

    public long events(final int type) {
        return perType[type];
    }

    public long kfreeNull() {
        return kfreeNull;
    }

    public long preCaptureObjectFrees() {
        return preCaptureObjectFrees;
    }

    public long preCapturePageFrees() {
        return preCapturePageFrees;
    }

    /** mm_page_alloc events of allocations the real kernel failed (pfn=-1). */
    public long kernelPageFailures() {
        return kernelPageFailures;
    }

    /** Page allocations the model could not serve (its memory is smaller than the traced machine's). */
    public long modelPageFailures() {
        return modelPageFailures;
    }

    public long modelObjectFailures() {
        return modelObjectFailures;
    }

    /** Allocations not tracked because the pointer map was full (their frees then count as pre-capture). */
    public long untracked() {
        return untracked;
    }

    public long orderMismatches() {
        return orderMismatches;
    }

    /** Events whose CPU was >= nr_cpus, replayed on CPU % nr_cpus. */
    public long cpuFolded() {
        return cpuFolded;
    }

    /** Objects and pages allocated during the replay and still live. */
    public long liveObjects() {
        return objects.size();
    }

    public long livePages() {
        return pages.size();
    }

    /** Trace time covered, in microseconds. */
    public long traceMicros() {
        return firstMicros < 0 ? 0 : lastMicros - firstMicros;
    }

    List<String> seriesNames() {
        return new ArrayList<>(timeline.seriesNames());
    }
}
