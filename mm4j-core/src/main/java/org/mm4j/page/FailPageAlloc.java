package org.mm4j.page;

import org.mm4j.base.FaultAttr;
import org.mm4j.base.InternalApi;
import org.mm4j.base.ProcFs;
import org.mm4j.base.jfr.MmEvents;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code fail_page_alloc} (mm/fail_page_alloc.c, {@code CONFIG_FAIL_PAGE_ALLOC}): injected page allocation
 * failures. {@code should_fail_alloc_page()} is called by {@code prepare_alloc_pages()} at the start of every
 * {@code alloc_pages} ({@link BuddyAllocator#allocPagesNode}, so also slab pages, large kmallocs, page tables and
 * user pages); an injected failure returns NULL (-1) at once: no reclaim, no OOM killer and no "page allocation
 * failure" report, as in the kernel.
 *
 * <p>A request is exempt when its order is below {@code min-order} (default 1, so order-0 pages never fail unless
 * it is set to 0); with {@code __GFP_NOFAIL}; with {@code ignore-gfp-highmem} (default Y) when it has
 * {@code __GFP_HIGHMEM} (user pages); with {@code ignore-gfp-wait} (default Y) when it may sleep
 * ({@code __GFP_DIRECT_RECLAIM}). The rest is {@link FaultAttr#shouldFail} with {@code 1 << order} pages as the
 * size; {@code __GFP_NOWARN} suppresses the report. Files: {@code /sys/kernel/debug/fail_page_alloc/} (the
 * fault_attr files plus {@code ignore-gfp-wait}, {@code ignore-gfp-highmem} and {@code min-order}); boot parameter
 * {@code fail_page_alloc=<interval>,<probability>,<space>,<times>}.
 *
 * <p>Threads: the knobs are volatile; decisions follow {@link FaultAttr}. While probability is 0 a call costs one
 * volatile read.
 */
public final class FailPageAlloc {
    /** The kernel functions of a failing page allocation, innermost first, for the report's stack. */
    private static final List<String> TRACE = List.of("dump_stack_lvl", "should_fail_ex",
        "should_fail_alloc_page", "prepare_alloc_pages", "__alloc_frozen_pages_noprof", "alloc_pages_mpol",
        "alloc_pages_noprof");

    private final FaultAttr attr;
    private volatile boolean ignoreGfpHighmem = true;
    private volatile boolean ignoreGfpReclaim = true;
    private volatile int minOrder = 1;

    @InternalApi("org.mm4j")
    public FailPageAlloc(final FaultAttr attr) {
        this.attr = attr;
    }

    /** The fault_attr knobs (probability, interval, times, space, verbose, ...). */
    public FaultAttr attr() {
        return attr;
    }

    public boolean ignoreGfpWait() {
        return ignoreGfpReclaim;
    }

    /** {@code ignore-gfp-wait}: exempt requests that may sleep (default true). */
    public FailPageAlloc ignoreGfpWait(final boolean on) {
        ignoreGfpReclaim = on;
        return this;
    }

    public boolean ignoreGfpHighmem() {
        return ignoreGfpHighmem;
    }

    /** {@code ignore-gfp-highmem}: exempt {@code __GFP_HIGHMEM} (user page) requests (default true). */
    public FailPageAlloc ignoreGfpHighmem(final boolean on) {
        ignoreGfpHighmem = on;
        return this;
    }

    public int minOrder() {
        return minOrder;
    }

    /** {@code min-order}: the smallest order that may fail (default 1). */
    public FailPageAlloc minOrder(final int order) {
        if (order < 0) {
            throw new IllegalArgumentException("min-order=" + order + " (expected: >= 0)");
        }
        minOrder = order;
        return this;
    }

    /**
     * Makes the next {@code n} page allocations of order {@code >= minOrder} fail, whatever their gfp flags
     * (except __GFP_NOFAIL): probability 100, interval 1, space 0, times {@code n}, both ignore flags N.
     */
    public FailPageAlloc failNext(final int n, final int minOrder) {
        if (n < 0) {
            throw new IllegalArgumentException("failNext(n=" + n + ") (expected: n >= 0)");
        }
        minOrder(minOrder);
        ignoreGfpHighmem = false;
        ignoreGfpReclaim = false;
        attr.interval(1).space(0).times(n).probability(100);
        return this;
    }

    /** Stops injecting (probability 0). */
    public FailPageAlloc disable() {
        attr.probability(0);
        return this;
    }

    /** {@code should_fail_alloc_page(gfp_mask, order)}: true when this allocation is to fail. */
    boolean shouldFailAllocPage(final int gfp, final int order) {
        if (!attr.active() || order < minOrder || (gfp & Gfp.NOFAIL) != 0) {
            return false;
        }
        if (ignoreGfpHighmem && (gfp & Gfp.HIGHMEM) != 0) {
            return false;
        }
        if (ignoreGfpReclaim && (gfp & Gfp.DIRECT_RECLAIM) != 0) {
            return false;
        }
        final boolean fail = attr.shouldFail(1L << order, (gfp & Gfp.NOWARN) != 0 ? FaultAttr.FAULT_NOWARN : 0, TRACE);
        if (fail) {
            MmEvents.faultInjection(attr.kernelId(), attr.name(), null, order, 4096L << order, gfp, Gfp::describe, attr.times());
        }
        return fail;
    }

    /** {@code fail_page_alloc_debugfs}: /sys/kernel/debug/fail_page_alloc/. */
    @InternalApi("org.mm4j")
    public void registerDebugfs(final ProcFs procfs) {
        final String dir = "/sys/kernel/debug/" + attr.name();
        final Map<String, FaultAttr.Knob> extra = new LinkedHashMap<>();
        extra.put("ignore-gfp-wait", new FaultAttr.Knob(() -> FaultAttr.yn(ignoreGfpReclaim),
            v -> ignoreGfpWait(FaultAttr.bool(dir, v))));
        extra.put("ignore-gfp-highmem", new FaultAttr.Knob(() -> FaultAttr.yn(ignoreGfpHighmem),
            v -> ignoreGfpHighmem(FaultAttr.bool(dir, v))));
        extra.put("min-order", new FaultAttr.Knob(() -> minOrder + "\n", v -> minOrder(FaultAttr.u32(dir, v))));
        attr.registerDebugfs(procfs, extra);
    }
}
