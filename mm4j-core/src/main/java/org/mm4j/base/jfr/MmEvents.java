package org.mm4j.base.jfr;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

import java.util.function.IntFunction;

/**
 * The model's JFR events, one static method per kind, for one-line hooks on slow paths (the kernel's
 * tracepoints: {@code trace_mm_page_alloc}-style calls that cost nothing while tracing is off).
 *
 * <p>Cost: until the JVM's Flight Recorder is initialized (a {@link jdk.jfr.Recording} made, {@code jcmd
 * JFR.start}, {@code -XX:StartFlightRecording}, JMC), each method is one volatile read: no event class is
 * touched, so a JVM that never uses JFR never pays JFR's start-up (about 0.2 s of CPU for its metadata). After
 * that, each method makes its event object and returns at once unless a recording enables the event
 * ({@link jdk.jfr.Event#shouldCommit()}, which also applies the event's threshold and throttle); the JIT removes
 * the object of an event that is not committed. No method is called on a fast path: slab grow/discard, the
 * allocation failure paths, fault injection, debug reports, OOM kills and the JVM allocator's sheaf slow path
 * only. {@link KmemCacheStatisticsEvent} is periodic and emitted by the composition root, which sees the caches.
 *
 * <p>This package is a leaf: it imports nothing of mm4j, so that base, page, slab and vma may all use it. Gfp
 * masks arrive as an int and the caller's formatter (the events show them as the kernel prints them,
 * {@code 0xcc0(GFP_KERNEL)}), which runs only when the event is recorded.
 *
 * <p>Every event names its kernel ({@code kernel}: the {@code KernelLog#kernelId()} of the subsystem that fires it,
 * {@code Kernel.id()}), so the events of several kernels booted in one JVM can be told apart.
 *
 * <p>Threads: every method may be called from any thread, under any model lock (JFR's commit takes none of them).
 */
public final class MmEvents {
    /** Set once, when the Flight Recorder is initialized (before that no recording can take an event). */
    private static volatile boolean recorder;

    static {
        whenRecorderInitialized(() -> recorder = true);
    }

    private MmEvents() {
    }

    /**
     * Runs {@code r} once the JVM's Flight Recorder is initialized: now if it is, else on the thread that
     * initializes it. What the composition root uses to register its periodic event only when JFR is in use.
     * The listener stays registered (it holds {@code r} for the life of the JVM).
     *
     * @return the listener, for {@link FlightRecorder#removeListener}
     */
    public static FlightRecorderListener whenRecorderInitialized(final Runnable r) {
        final FlightRecorderListener l = new FlightRecorderListener() {
            @Override
            public void recorderInitialized(final FlightRecorder fr) {
                r.run();
            }
        };
        FlightRecorder.addListener(l);
        return l;
    }

    /** Whether events may be recorded (the Flight Recorder is initialized); the hooks' only cost before. */
    public static boolean recorderInitialized() {
        return recorder;
    }

    /** A slub_debug report ({@code slab_bug} and friends), after its lines went to the log. */
    public static void slabDebugReport(final int kernel, final String kind, final String cache, final String reason, final String what,
                                       final long start, final long end, final long object, final long slab) {
        if (!recorder) {
            return;
        }
        final SlabDebugReportEvent e = new SlabDebugReportEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.kind = kind;
            e.cache = cache;
            e.reason = reason;
            e.what = what;
            e.start = start;
            e.end = end;
            e.object = object;
            e.slab = slab;
            e.commit();
        }
    }

    /** {@code slab_out_of_memory}: a cache found no object and got no slab. */
    public static void slabAllocFailure(final int kernel, final String cache, final int objectSize, final int order, final int gfp,
                                        final IntFunction<String> gfpText, final int node) {
        if (!recorder) {
            return;
        }
        final SlabAllocFailureEvent e = new SlabAllocFailureEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.cache = cache;
            e.objectSize = objectSize;
            e.order = order;
            e.gfp = gfpText.apply(gfp);
            e.node = node;
            e.commit();
        }
    }

    /** {@code __alloc_pages_slowpath} gave up ({@code nopage}). */
    public static void pageAllocFailure(final int kernel, final int order, final int gfp,
                                        final IntFunction<String> gfpText, final long freePages) {
        if (!recorder) {
            return;
        }
        final PageAllocFailureEvent e = new PageAllocFailureEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.order = order;
            e.size = 4096L << order;
            e.gfp = gfpText.apply(gfp);
            e.freePages = freePages;
            e.commit();
        }
    }

    /**
     * {@code should_fail_ex} forced a failure.
     *
     * @param cache the slab cache for failslab, null for fail_page_alloc
     * @param order the page order for fail_page_alloc, -1 for failslab
     */
    public static void faultInjection(final int kernel, final String capability, final String cache, final int order, final long size,
                                      final int gfp, final IntFunction<String> gfpText, final int timesLeft) {
        if (!recorder) {
            return;
        }
        final FaultInjectionEvent e = new FaultInjectionEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.capability = capability;
            e.cache = cache;
            e.order = order;
            e.size = size;
            e.gfp = gfpText.apply(gfp);
            e.timesLeft = timesLeft;
            e.commit();
        }
    }

    /** {@code new_slab}: a slab of {@code 1 << order} pages at {@code address} now holds {@code objects}. */
    public static void slabGrow(final int kernel, final String cache, final int order, final int objects, final int node,
                                final long address) {
        if (!recorder) {
            return;
        }
        new SlabGrowEvent().commit(kernel, cache, order, objects, node, address);
    }

    /** {@code discard_slab}: an empty slab goes back to the page allocator. */
    public static void slabDiscard(final int kernel, final String cache, final int order, final int objects, final int node,
                                   final long address) {
        if (!recorder) {
            return;
        }
        new SlabDiscardEvent().commit(kernel, cache, order, objects, node, address);
    }

    /** {@code __oom_kill_process}: sizes in bytes. */
    public static void oomKill(final int kernel, final int pid, final String comm, final String reason, final long totalVm,
                               final long anonRss, final long fileRss, final long shmemRss, final int oomScoreAdj) {
        if (!recorder) {
            return;
        }
        final OomKillEvent e = new OomKillEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.pid = pid;
            e.comm = comm;
            e.reason = reason;
            e.totalVm = totalVm;
            e.anonRss = anonRss;
            e.fileRss = fileRss;
            e.shmemRss = shmemRss;
            e.oomScoreAdj = oomScoreAdj;
            e.commit();
        }
    }

    /** The JVM allocator's slow path (main sheaf was empty); throttled by the event's setting. */
    public static void allocationSample(final int kernel, final String cache, final int objectSize, final int sheafObjects) {
        if (!recorder) {
            return;
        }
        final AllocationSampleEvent e = new AllocationSampleEvent();
        if (e.shouldCommit()) {
            e.kernel = kernel;
            e.cache = cache;
            e.objectSize = objectSize;
            e.sheafObjects = sheafObjects;
            e.commit();
        }
    }
}
