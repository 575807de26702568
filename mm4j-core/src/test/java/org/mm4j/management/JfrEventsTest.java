package org.mm4j.management;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.SlabFlags;
import org.mm4j.vma.Mman;
import org.mm4j.vma.Processes;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JFR events of issue 16, recorded the way a user records them ({@link Recording}, dumped to a file, read back
 * with {@link RecordingFile}): each situation is forced, then its event is looked up by name and its fields
 * checked against what the model reports for the same situation.
 */
class JfrEventsTest {
    private static final long MB = 1L << 20;
    private static final String[] EVENTS = {"org.mm4j.SlabDebugReport", "org.mm4j.SlabAllocFailure",
        "org.mm4j.PageAllocFailure", "org.mm4j.FaultInjection", "org.mm4j.SlabGrow", "org.mm4j.SlabDiscard",
        "org.mm4j.OomKill", "org.mm4j.KmemCacheStatistics", "org.mm4j.AllocationSample"};

    @TempDir
    Path tmp;

    private static List<RecordedEvent> record(final Path file, final Runnable scenario) throws Exception {
        try (Recording r = new Recording()) {
            for (final String e : EVENTS) {
                r.enable(e);
            }
            // the periodic event once more when the recording stops: no waiting for a period
            r.enable("org.mm4j.KmemCacheStatistics").with("period", "endChunk");
            r.start();
            scenario.run();
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(final List<RecordedEvent> all, final String name,
                                             final Predicate<RecordedEvent> which) {
        final List<RecordedEvent> out = new ArrayList<>();
        for (final RecordedEvent e : all) {
            if (e.getEventType().getName().equals(name) && which.test(e)) {
                out.add(e);
            }
        }
        return out;
    }

    private static Predicate<RecordedEvent> cache(final String name) {
        return e -> name.equals(e.getString("cache"));
    }

    @Test
    void slabEventsCarryTheCacheAndWhatHappened() throws Exception {
        final long[] seen = new long[9];
        final Set<Long> slabsOfObjects = new HashSet<>();
        final List<RecordedEvent> ev = record(tmp.resolve("slab.jfr"), () -> {
            try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
                seen[8] = k.id();
                // grow, then discard: every object back, shrink frees the empty slabs
                final KmemCache g = k.slab().kmemCacheCreate("jfr_grow", 200, 0, 0, null);
                final long[] objs = new long[g.objsPerSlab() * 2];
                for (int i = 0; i < objs.length; i++) {
                    objs[i] = g.alloc();
                }
                seen[0] = g.nrSlabs();
                seen[1] = g.order();
                seen[2] = g.objsPerSlab();
                for (final long p : objs) {  // each object's slab: its first byte, a kernel virtual address
                    slabsOfObjects.add(p & -(4096L << g.order()));
                }
                for (final long p : objs) {
                    g.free(p);
                }
                g.shrink();
                seen[3] = g.nrSlabs();
                // a debug report: write after free into a poisoned object, then validate
                final KmemCache d = k.slab().kmemCacheCreate("jfr_poison", 64, 0,
                    SlabFlags.SLAB_CONSISTENCY_CHECKS | SlabFlags.SLAB_POISON, null);
                final long p = d.alloc();
                d.free(p);
                k.slab().segment(p + 3, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
                d.validate();
                seen[4] = p;
                // failslab: the next allocation of jfr_fail fails
                final KmemCache f = k.slab().kmemCacheCreate("jfr_fail", 96, 0, SlabFlags.SLAB_NO_MERGE, null);
                k.slab().failslab().attr().verbose(0);
                k.slab().failslab().failNext(f, 1);
                seen[5] = f.alloc();
                k.slab().failslab().disable();
                // a slab allocation failure: fail_page_alloc refuses the pages of the new slab
                final KmemCache n = k.slab().kmemCacheCreate("jfr_nopages", 1024, 0, SlabFlags.SLAB_NO_MERGE, null);
                k.buddy().failPageAlloc().attr().verbose(0);
                k.buddy().failPageAlloc().failNext(1000, 0);  // every page request, until disabled
                seen[6] = n.alloc(Gfp.KERNEL | Gfp.NOWARN);
                k.buddy().failPageAlloc().disable();
                // sampled allocations: the JVM allocator's first allocation refills its empty sheaf
                final KmemCache a = k.slab().kmemCacheCreate("jfr_sample", 48, 0, SlabFlags.SLAB_NO_MERGE, null);
                final long q = k.slab().allocator().alloc(a);
                k.slab().allocator().free(a, q);
                k.slab().allocator().flush();
                seen[7] = a.objectSize();
            }
        });

        final List<RecordedEvent> grows = named(ev, "org.mm4j.SlabGrow", cache("jfr_grow"));
        assertEquals(seen[0], grows.size(), "one SlabGrow per slab the cache took: " + grows);
        for (final RecordedEvent e : grows) {
            assertEquals(seen[1], e.getInt("order"));
            assertEquals(seen[2], e.getInt("objects"));
            assertTrue(slabsOfObjects.contains(e.getLong("address")),
                "the slab's first byte, as the kernel prints it: " + Long.toHexString(e.getLong("address")));
        }
        final List<RecordedEvent> discards = named(ev, "org.mm4j.SlabDiscard", cache("jfr_grow"));
        assertEquals(seen[0] - seen[3], discards.size(), "one SlabDiscard per slab shrink freed: " + discards);
        assertTrue(discards.stream().allMatch(e -> grows.stream()
            .anyMatch(g -> g.getLong("address") == e.getLong("address"))), "each discarded slab was grown");

        final List<RecordedEvent> reports = named(ev, "org.mm4j.SlabDebugReport", cache("jfr_poison"));
        assertFalse(reports.isEmpty(), "the poison overwrite was reported");
        final RecordedEvent rep = reports.get(0);
        assertEquals("BYTES", rep.getString("kind"));
        assertEquals("Poison", rep.getString("what"));
        assertEquals(seen[4] + 3, rep.getLong("start"));
        assertEquals(seen[4], rep.getLong("object"));

        assertEquals(0, seen[5], "failslab made the allocation fail");
        final List<RecordedEvent> slabFaults = named(ev, "org.mm4j.FaultInjection", cache("jfr_fail"));
        assertEquals(1, slabFaults.size(), slabFaults.toString());
        assertEquals("failslab", slabFaults.get(0).getString("capability"));
        assertEquals(96, slabFaults.get(0).getLong("size"));
        assertEquals(-1, slabFaults.get(0).getInt("order"));
        assertEquals(0, slabFaults.get(0).getInt("timesLeft"));
        assertTrue(slabFaults.get(0).getString("gfp").startsWith("0xcc0(GFP_KERNEL"),
            slabFaults.get(0).getString("gfp"));

        assertEquals(0, seen[6], "no pages, no slab, no object");
        final List<RecordedEvent> pageFaults = named(ev, "org.mm4j.FaultInjection",
            e -> "fail_page_alloc".equals(e.getString("capability")));
        assertFalse(pageFaults.isEmpty());
        assertNull(pageFaults.get(0).getString("cache"));
        final List<RecordedEvent> oom = named(ev, "org.mm4j.SlabAllocFailure", cache("jfr_nopages"));
        assertFalse(oom.isEmpty(), "slab_out_of_memory was recorded");
        assertEquals(1024, oom.get(0).getInt("objectSize"));
        assertTrue(oom.get(0).getString("gfp").contains("__GFP_NOWARN"), oom.get(0).getString("gfp"));

        final List<RecordedEvent> samples = named(ev, "org.mm4j.AllocationSample", cache("jfr_sample"));
        assertFalse(samples.isEmpty(), "the sheaf refill was sampled");
        assertEquals(seen[7], samples.get(0).getInt("objectSize"));
        assertTrue(samples.get(0).getInt("sheafObjects") > 0);
        assertTrue(samples.get(0).getStackTrace().getFrames().stream()
            .anyMatch(fr -> fr.getMethod().getType().getName().equals(JfrEventsTest.class.getName())),
            "the sample carries the allocating stack");

        // every event names the kernel that fired it (Kernel.id()), so two kernels in one JVM are told apart
        for (final List<RecordedEvent> kind : List.of(grows, discards, reports, slabFaults, pageFaults, oom, samples)) {
            for (final RecordedEvent e : kind) {
                assertEquals(seen[8], e.getInt("kernel"), e.toString());
            }
        }
    }

    @Test
    void pageAllocationFailureAndOomKill() throws Exception {
        final int[] victim = new int[2];
        final List<RecordedEvent> ev = record(tmp.resolve("oom.jfr"), () -> {
            try (Kernel k = Kernel.boot("mem=64M norandmaps")) {
                victim[1] = k.id();
                // order-10 blocks until there is none: the last request fails (__GFP_NOWARN: no report, an event)
                final List<Long> blocks = new ArrayList<>();
                for (long pfn; (pfn = k.buddy().allocPages(Gfp.KERNEL | Gfp.NOWARN | Gfp.NORETRY, 10)) >= 0; ) {
                    blocks.add(pfn);
                }
                for (final long pfn : blocks) {
                    k.buddy().freePages(pfn, 10);
                }
                // a child with 20 MB, then init maps more than memory: the OOM killer kills the child
                k.procfs().write("/proc/sys/vm/overcommit_memory", "1");
                final Processes ps = k.processes();
                final int rw = Mman.PROT_READ | Mman.PROT_WRITE;
                final int anon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE;
                final int pid = ps.fork();
                ps.switchTo(pid);
                assertTrue(ps.currentMm().mmap(0, 20 * MB, rw, anon, null, 0) > 0);
                ps.switchTo(1);
                victim[0] = pid;
                ps.currentMm().mmap(0, 128 * MB, rw, anon, null, 0);
                assertNull(ps.get(pid), "the child was killed");
            }
        });
        final List<RecordedEvent> fails = named(ev, "org.mm4j.PageAllocFailure", e -> e.getInt("order") == 10);
        assertFalse(fails.isEmpty(), "the failed order-10 request");
        assertEquals(4096L << 10, fails.get(0).getLong("size"));
        assertTrue(fails.get(0).getString("gfp").contains("__GFP_NORETRY"), fails.get(0).getString("gfp"));
        final List<RecordedEvent> kills = named(ev, "org.mm4j.OomKill", e -> e.getInt("pid") == victim[0]);
        assertEquals(1, kills.size(), kills.toString());
        assertEquals("Out of memory", kills.get(0).getString("reason"));
        assertTrue(kills.get(0).getLong("anonRss") >= 19 * MB, "its 20 MB were resident: " + kills.get(0));
        assertEquals(victim[1], kills.get(0).getInt("kernel"));
        assertEquals(victim[1], fails.get(0).getInt("kernel"));
    }

    @Test
    void periodicStatisticsOnePerCache() throws Exception {
        final long[] seen = new long[3];
        final int[] id = new int[1];
        final List<RecordedEvent> ev = record(tmp.resolve("stats.jfr"), () -> {
            final Kernel k = Kernel.boot("mem=32M nr_cpus=2");
            final KmemCache s = k.slab().kmemCacheCreate("jfr_stats", 128, 0, SlabFlags.SLAB_NO_MERGE, null);
            for (int i = 0; i < 100; i++) {
                s.alloc();
            }
            id[0] = k.id();
            seen[0] = Long.parseLong(k.procfs().read("/sys/kernel/slab/jfr_stats/objects").split("\\s")[0]);
            seen[1] = Long.parseLong(k.procfs().read("/sys/kernel/slab/jfr_stats/total_objects").split("\\s")[0]);
            seen[2] = k.slab().caches().size();
            // left open: the recording's end emits the periodic event; closed by the cleaner below
            CLOSE_LATER.add(k);
        });
        try {
            final List<RecordedEvent> stats = named(ev, "org.mm4j.KmemCacheStatistics",
                e -> e.getInt("kernel") == id[0]);
            final List<RecordedEvent> mine = named(stats, "org.mm4j.KmemCacheStatistics", cache("jfr_stats"));
            assertFalse(mine.isEmpty(), "a statistics event for jfr_stats");
            final RecordedEvent e = mine.get(mine.size() - 1);
            assertEquals(128, e.getInt("objectSize"));
            assertEquals(seen[0], e.getLong("activeObjects"));
            assertEquals(seen[1], e.getLong("totalObjects"));
            assertTrue(e.getLong("slabs") > 0);
            assertEquals(seen[2] * mine.size(), stats.size(), "one event per cache each period");
        } finally {
            for (final Kernel k : CLOSE_LATER) {
                k.close();
            }
            CLOSE_LATER.clear();
        }
    }

    private static final List<Kernel> CLOSE_LATER = new ArrayList<>();
}
