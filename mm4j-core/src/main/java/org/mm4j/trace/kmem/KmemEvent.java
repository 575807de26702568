package org.mm4j.trace.kmem;

/**
 * One ftrace {@code kmem:*} event, as {@link KmemTraceReader} fills it: a mutable flyweight, reused for every line
 * so that reading a multi-GB trace allocates nothing per event. Fields an event type does not carry keep their
 * defaults (0, null, -1).
 *
 * <p>Event formats (include/trace/events/kmem.h, 6.18):
 * <pre>
 * kmalloc:          call_site=.. ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s
 * kfree:            call_site=.. ptr=%p
 * kmem_cache_alloc: call_site=.. ptr=%p name=%s bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s
 * kmem_cache_free:  call_site=.. ptr=%p name=%s
 * mm_page_alloc:    page=%p pfn=0x%lx order=%d migratetype=%d gfp_flags=%s
 * mm_page_free:     page=%p pfn=0x%lx order=%d
 * </pre>
 * Pointers ({@code %p}) are hashed by the kernel: equal within one boot, meaningless as addresses.
 * Not thread-safe: one reader fills one event.
 */
public final class KmemEvent {
    public static final int KMALLOC = 0;
    public static final int KFREE = 1;
    public static final int KMEM_CACHE_ALLOC = 2;
    public static final int KMEM_CACHE_FREE = 3;
    public static final int MM_PAGE_ALLOC = 4;
    public static final int MM_PAGE_FREE = 5;
    public static final int NR_TYPES = 6;

    private static final String[] NAMES = {
        "kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free", "mm_page_alloc", "mm_page_free"};

    int type = -1;
    int cpu;
    int pid;
    long timestampMicros;
    long ptr;
    long bytesReq;
    long bytesAlloc;
    int gfp;
    int node = -1;
    String cacheName;
    String callSite;
    /** The reader's id of {@link #cacheName} / {@link #callSite} (its interner's), -1 when none. */
    int cacheNameId = -1;
    int callSiteId = -1;
    long pfn = -1;
    int order;
    int migratetype = -1;
    long lineNo;

    /** The event name ftrace prints for a type ({@code kmem_cache_alloc}). */
    public static String typeName(final int type) {
        return NAMES[type];
    }

    /** The type whose name is {@code name}, or -1. */
    public static int typeOf(final String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    void reset() {
        type = -1;
        cpu = 0;
        pid = 0;
        timestampMicros = 0;
        ptr = 0;
        bytesReq = 0;
        bytesAlloc = 0;
        gfp = 0;
        node = -1;
        cacheName = null;
        callSite = null;
        cacheNameId = -1;
        callSiteId = -1;
        pfn = -1;
        order = 0;
        migratetype = -1;
    }

    public int type() {
        return type;
    }

    /** The CPU in brackets ({@code [001]}). */
    public int cpu() {
        return cpu;
    }

    public int pid() {
        return pid;
    }

    /** The trace clock, in microseconds. */
    public long timestampMicros() {
        return timestampMicros;
    }

    /** The hashed pointer ({@code ptr=}); 0 for kfree(NULL). */
    public long ptr() {
        return ptr;
    }

    public long bytesReq() {
        return bytesReq;
    }

    public long bytesAlloc() {
        return bytesAlloc;
    }

    /** {@code gfp_flags=}, as {@link org.mm4j.page.Gfp} bits (flag names mm4j does not model are dropped). */
    public int gfp() {
        return gfp;
    }

    public int node() {
        return node;
    }

    /** {@code name=} of kmem_cache_alloc/kmem_cache_free (interned: equal names are the same String). */
    public String cacheName() {
        return cacheName;
    }

    /**
     * {@code call_site=} of the slab events ({@code alloc_pipe_info+0x5d/0x230}; interned: equal sites are the same
     * String), or null when the line has none (page events).
     */
    public String callSite() {
        return callSite;
    }

    /** {@code pfn=} of the page events; -1 when the kernel's allocation failed (pfn=0xffffffffffffffff). */
    public long pfn() {
        return pfn;
    }

    public int order() {
        return order;
    }

    public int migratetype() {
        return migratetype;
    }

    /** Makes this event a copy of {@code o} (a flyweight handed between threads, see {@link KmemEventBatch}). */
    void copyFrom(final KmemEvent o) {
        type = o.type;
        cpu = o.cpu;
        pid = o.pid;
        timestampMicros = o.timestampMicros;
        ptr = o.ptr;
        bytesReq = o.bytesReq;
        bytesAlloc = o.bytesAlloc;
        gfp = o.gfp;
        node = o.node;
        cacheName = o.cacheName;
        callSite = o.callSite;
        cacheNameId = o.cacheNameId;
        callSiteId = o.callSiteId;
        pfn = o.pfn;
        order = o.order;
        migratetype = o.migratetype;
        lineNo = o.lineNo;
    }

    /** The line of the file this event came from (1-based). */
    public long lineNo() {
        return lineNo;
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder(type >= 0 ? NAMES[type] : "?").append(" cpu=").append(cpu);
        switch (type) {
            case KMALLOC, KMEM_CACHE_ALLOC -> sb.append(String.format(" ptr=%016x", ptr))
                .append(cacheName != null ? " name=" + cacheName : "")
                .append(" bytes_req=").append(bytesReq).append(" bytes_alloc=").append(bytesAlloc)
                .append(" gfp=").append(org.mm4j.page.Gfp.toString(gfp));
            case KFREE, KMEM_CACHE_FREE -> sb.append(String.format(" ptr=%016x", ptr))
                .append(cacheName != null ? " name=" + cacheName : "");
            case MM_PAGE_ALLOC, MM_PAGE_FREE -> sb.append(String.format(" pfn=0x%x order=%d", pfn, order));
            default -> { }
        }
        return sb.toString();
    }
}
