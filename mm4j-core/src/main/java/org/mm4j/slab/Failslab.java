package org.mm4j.slab;

import org.mm4j.base.FaultAttr;
import org.mm4j.base.ProcFs;
import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.Gfp;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code failslab} (mm/failslab.c, {@code CONFIG_FAILSLAB}): injected slab allocation failures, so that callers'
 * out-of-memory paths can be tested. {@code should_failslab()} is called by {@code slab_pre_alloc_hook()} before
 * every object allocation ({@code kmem_cache_alloc}, {@code kmalloc}, once per {@code kmem_cache_alloc_bulk}, and
 * the JVM allocator's calls, sheaf hits included); an injected failure returns NULL (0) at once, with no
 * "SLUB: Unable to allocate memory" report and no retry.
 *
 * <p>A call is exempt with {@code __GFP_NOFAIL}; with {@code ignore-gfp-wait} (default Y) when it may sleep
 * ({@code __GFP_DIRECT_RECLAIM}, so GFP_KERNEL allocations fail only after {@code echo N > ignore-gfp-wait}); with
 * {@code cache-filter} (default N) unless its cache has {@code SLAB_FAILSLAB} ({@code slub_debug=A,<cache>} or
 * {@code echo 1 > /sys/kernel/slab/<cache>/failslab}). The rest is {@link FaultAttr#shouldFail} with the cache's
 * object size; {@code __GFP_NOWARN} suppresses the report. Files: {@code /sys/kernel/debug/failslab/} (the
 * fault_attr files plus {@code ignore-gfp-wait} and {@code cache-filter}); boot parameter
 * {@code failslab=<interval>,<probability>,<space>,<times>}.
 *
 * <p>From Java: {@link #failNext(KmemCache, int)} makes the next N allocations of one cache fail (through every
 * path, including {@link SlabAllocator}, whose {@code kmalloc} then returns 0 and {@code allocate} throws
 * {@link org.mm4j.base.ModelOutOfMemoryException}); {@link #attr()} gives every knob. Departure: the kernel's
 * bootstrap cache {@code kmem_cache} is exempt there; the model keeps its caches' descriptors on the Java heap, so
 * there is no such cache.
 *
 * <p>Threads: the knobs are volatile; decisions follow {@link FaultAttr}. While probability is 0 a call costs one
 * volatile read ({@link #active()}).
 */
public final class Failslab {
    /** The kernel functions of a failing slab allocation, innermost first, for the report's stack. */
    private static final List<String> TRACE = List.of("dump_stack_lvl", "should_fail_ex", "should_failslab",
        "slab_pre_alloc_hook", "slab_alloc_node");

    private final FaultAttr attr;
    private volatile boolean ignoreGfpReclaim = true;
    private volatile boolean cacheFilter;

    Failslab(final FaultAttr attr) {
        this.attr = attr;
    }

    /** The fault_attr knobs (probability, interval, times, space, verbose, ...). */
    public FaultAttr attr() {
        return attr;
    }

    /** Whether failures may be injected now (probability is not 0). */
    public boolean active() {
        return attr.active();
    }

    public boolean ignoreGfpWait() {
        return ignoreGfpReclaim;
    }

    /** {@code ignore-gfp-wait}: exempt allocations that may sleep (default true). */
    public Failslab ignoreGfpWait(final boolean on) {
        ignoreGfpReclaim = on;
        return this;
    }

    public boolean cacheFilter() {
        return cacheFilter;
    }

    /** {@code cache-filter}: only caches with SLAB_FAILSLAB may fail (default false). */
    public Failslab cacheFilter(final boolean on) {
        cacheFilter = on;
        return this;
    }

    /**
     * Makes the next {@code n} allocations of {@code s} fail, then lets them succeed again: probability 100,
     * interval 1, space 0, times {@code n}, {@code ignore-gfp-wait} N, {@code cache-filter} Y and SLAB_FAILSLAB on
     * {@code s} (other caches with SLAB_FAILSLAB take part too, as in the kernel). The report's verbosity is left
     * as it is ({@code attr().verbose(0)} for none).
     */
    public Failslab failNext(final KmemCache s, final int n) {
        if (n < 0) {
            throw new IllegalArgumentException("failNext(" + s.name() + ", n=" + n + ") (expected: n >= 0)");
        }
        s.failslab(true);
        cacheFilter = true;
        return arm(n);
    }

    /** Makes the next {@code n} slab allocations of any cache fail (cache-filter N). */
    public Failslab failNext(final int n) {
        if (n < 0) {
            throw new IllegalArgumentException("failNext(n=" + n + ") (expected: n >= 0)");
        }
        cacheFilter = false;
        return arm(n);
    }

    private Failslab arm(final int n) {
        ignoreGfpReclaim = false;
        attr.interval(1).space(0).times(n).probability(100);
        return this;
    }

    /** Stops injecting (probability 0), as {@code echo 0 > /sys/kernel/debug/failslab/probability}. */
    public Failslab disable() {
        attr.probability(0);
        return this;
    }

    /** {@code should_failslab(s, gfpflags)}: true when this allocation of {@code s} is to fail. */
    boolean shouldFailslab(final KmemCache s, final int gfp) {
        if (!attr.active() || (gfp & Gfp.NOFAIL) != 0) {
            return false;
        }
        if (ignoreGfpReclaim && (gfp & Gfp.DIRECT_RECLAIM) != 0) {
            return false;
        }
        if (cacheFilter && !s.failslab()) {
            return false;
        }
        final boolean fail = attr.shouldFail(s.objectSize(), (gfp & Gfp.NOWARN) != 0 ? FaultAttr.FAULT_NOWARN : 0,
            TRACE);
        if (fail) {
            MmEvents.faultInjection(attr.kernelId(), attr.name(), s.name(), -1, s.objectSize(), gfp, Gfp::describe, attr.times());
        }
        return fail;
    }

    /** {@code failslab_debugfs_init}: /sys/kernel/debug/failslab/. */
    void registerDebugfs(final ProcFs procfs) {
        final String dir = "/sys/kernel/debug/" + attr.name();
        final Map<String, FaultAttr.Knob> extra = new LinkedHashMap<>();
        extra.put("ignore-gfp-wait", new FaultAttr.Knob(() -> FaultAttr.yn(ignoreGfpReclaim),
            v -> ignoreGfpWait(FaultAttr.bool(dir, v))));
        extra.put("cache-filter", new FaultAttr.Knob(() -> FaultAttr.yn(cacheFilter),
            v -> cacheFilter(FaultAttr.bool(dir, v))));
        attr.registerDebugfs(procfs, extra);
    }
}
