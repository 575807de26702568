package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.base.ProcFs;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** failslab (mm/failslab.c, lib/fault-inject.c): the knobs, should_failslab's rules, the report, the Java API. */
class FailslabTest {
    private static final String DIR = "/sys/kernel/debug/failslab/";

    private static long reports(final Kernel k) {
        return k.log().messages().stream().filter(l -> l.equals("FAULT_INJECTION: forcing a failure.")).count();
    }

    private static List<String> nameLines(final Kernel k) {
        return k.log().messages().stream().filter(l -> l.startsWith("name failslab, ")).toList();
    }

    @Test
    void debugfsShowsTheKernelsDefaults() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final ProcFs fs = k.procfs();
            assertEquals(List.of("cache-filter", "ignore-gfp-wait", "interval", "probability", "space",
                "task-filter", "times", "verbose", "verbose_ratelimit_burst", "verbose_ratelimit_interval_ms"),
                fs.list("/sys/kernel/debug/failslab").stream().sorted().toList());
            assertEquals("0\n", fs.read(DIR + "probability"));
            assertEquals("1\n", fs.read(DIR + "interval"));
            assertEquals("1\n", fs.read(DIR + "times"));
            assertEquals("0\n", fs.read(DIR + "space"));
            assertEquals("2\n", fs.read(DIR + "verbose"));
            assertEquals("N\n", fs.read(DIR + "task-filter"));
            assertEquals("Y\n", fs.read(DIR + "ignore-gfp-wait"));
            assertEquals("N\n", fs.read(DIR + "cache-filter"));
            assertEquals("0\n", fs.read(DIR + "verbose_ratelimit_interval_ms"));
            assertEquals("10\n", fs.read(DIR + "verbose_ratelimit_burst"));
            fs.write(DIR + "times", "-1");
            assertEquals("-1\n", fs.read(DIR + "times"));
            fs.write(DIR + "probability", "0x10");
            assertEquals("16\n", fs.read(DIR + "probability"), "kstrtoull base 0");
            fs.write(DIR + "cache-filter", "y");
            assertEquals("Y\n", fs.read(DIR + "cache-filter"));
            final ProcFs.ProcFsException e = assertThrows(ProcFs.ProcFsException.class,
                () -> fs.write(DIR + "times", "many"));
            assertEquals(DIR + "times: Invalid argument", e.getMessage());
            assertThrows(ProcFs.ProcFsException.class, () -> fs.write(DIR + "probability", "-1"));
            assertThrows(ProcFs.ProcFsException.class, () -> fs.write(DIR + "ignore-gfp-wait", "maybe"));
            assertEquals("-1\n", fs.read(DIR + "times"), "a refused write changes nothing");
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/kmalloc-64/failslab"));
        }
    }

    @Test
    void failNextOfOneCacheFailsExactlyNThenSucceedsAndDamagesNothing() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final KmemCache s = k.slab().kmemCacheCreate("victim", 100, 0, 0, null);
            final KmemCache other = k.slab().kmemCacheCreate("bystander", 100, 0, SlabFlags.SLAB_NO_MERGE, null);
            final long before = s.alloc();
            k.slab().failslab().failNext(s, 3);
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/victim/failslab"));
            assertEquals("Y\n", k.procfs().read(DIR + "cache-filter"));
            assertEquals(0, s.alloc());
            assertNotEquals(0, other.alloc(), "cache-filter: only caches with SLAB_FAILSLAB fail");
            assertEquals(0, s.alloc(Gfp.KERNEL));
            assertEquals(0, s.alloc(Gfp.ATOMIC));
            assertEquals(3, reports(k));
            assertEquals(List.of("name failslab, interval 1, probability 100, space 0, times 3",
                "name failslab, interval 1, probability 100, space 0, times 2",
                "name failslab, interval 1, probability 100, space 0, times 1"), nameLines(k));
            assertTrue(k.log().messages().contains(" should_failslab"), "verbose 2: a stack");
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains(
                "FailslabTest.failNextOfOneCacheFailsExactlyNThenSucceedsAndDamagesNothing")),
                "the Java caller is in the stack");
            final long after = s.alloc();
            assertNotEquals(0, after, "times reached 0: allocations succeed again");
            k.slab().failslab().failNext(s, 1);
            final long[] bulk = new long[8];
            assertEquals(0, s.allocBulk(Gfp.KERNEL, bulk, 8), "kmem_cache_alloc_bulk asks once, fails whole");
            assertEquals(8, s.allocBulk(Gfp.KERNEL, bulk, 8));
            s.freeBulk(bulk, 8);
            assertEquals("0\n", k.procfs().read(DIR + "times"));
            assertEquals(4, reports(k));
            assertEquals(2, s.activeObjects());
            s.free(before);
            s.free(after);
            assertEquals(0, s.validate());
            assertEquals(0, s.activeObjects());
            assertFalse(k.log().messages().stream().anyMatch(l -> l.contains("Unable to allocate")),
                "an injected failure is not an out-of-memory report");
        }
    }

    @Test
    void theJvmAllocatorFailsTheWayItsApiSays() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            {
                final SlabAllocator a = k.slab().allocator();
                final List<Long> held = new ArrayList<>();
                for (int i = 0; i < 100; i++) {  // fill the thread's sheaves: the fast path has objects to hand out
                    held.add(a.kmalloc(64));
                }
                for (final long p : held) {
                    a.kfree(p);
                }
                final KmemCache kmalloc64 = k.slab().kmallocCache(64, Gfp.KERNEL);
                k.slab().failslab().failNext(kmalloc64, 2).attr().verbose(0);
                assertEquals(0, a.kmalloc(64), "a sheaf hit fails too: slab_pre_alloc_hook comes first");
                assertEquals(0, a.kmalloc(50));
                final long ok = a.kmalloc(64);
                assertNotEquals(0, ok);
                assertNotEquals(0, a.kmalloc(128), "other caches never failed");
                k.slab().failslab().failNext(kmalloc64, 1);
                final ModelOutOfMemoryException e = assertThrows(ModelOutOfMemoryException.class,
                    () -> a.allocate(64, 8));
                assertTrue(e.getMessage().contains("failslab"), e.getMessage());
                final MemorySegment seg = a.allocate(64, 8);
                a.free(seg);
                a.kfree(ok);
                k.slab().failslab().failNext(kmalloc64, 1);
                assertEquals(0, a.alloc(kmalloc64), "kmem_cache_alloc through the allocator");
                k.slab().failslab().disable();
                final long fast = a.kmalloc(64);
                assertNotEquals(0, fast, "disarmed: the fast path again");
                a.kfree(fast);
                a.flush();
                assertEquals(0, kmalloc64.validate());
            }
            assertEquals(0, reports(k), "verbose 0: no report");
        }
    }

    @Test
    void gfpRulesIgnoreGfpWaitNofailAndNowarn() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final ProcFs fs = k.procfs();
            fs.write(DIR + "times", "-1");
            fs.write(DIR + "probability", "100");
            final Slub slab = k.slab();
            final long p = slab.kmalloc(64, Gfp.KERNEL);
            assertNotEquals(0, p, "ignore-gfp-wait Y: an allocation that may sleep is exempt");
            assertEquals(0, slab.kmalloc(64, Gfp.ATOMIC));
            assertEquals(0, slab.kmalloc(64, Gfp.NOWAIT), "GFP_NOWAIT has __GFP_NOWARN: fails silently");
            assertEquals(1, reports(k));
            assertNotEquals(0, slab.kmalloc(64, Gfp.ATOMIC | Gfp.NOFAIL), "__GFP_NOFAIL never fails");
            fs.write(DIR + "ignore-gfp-wait", "N");
            assertEquals(0, slab.kmalloc(64, Gfp.KERNEL));
            assertNotEquals(0, slab.kmalloc(100_000, Gfp.KERNEL), "large kmallocs are the page allocator's");
            assertEquals("-1\n", fs.read(DIR + "times"), "times -1: no limit, never counted down");
            fs.write(DIR + "task-filter", "Y");
            assertNotEquals(0, slab.kmalloc(64, Gfp.ATOMIC), "task-filter: no task has make-it-fail");
            slab.kfree(p);
        }
    }

    @Test
    void spaceAndIntervalAsTheKernelCountsThem() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final KmemCache s = k.slab().kmemCacheCreate("sized", 64, 0, SlabFlags.SLAB_NO_MERGE, null);
            final Failslab f = k.slab().failslab().ignoreGfpWait(false);
            f.attr().verbose(0).times(-1).space(200).probability(100);
            final List<Boolean> ok = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ok.add(s.alloc() != 0);
            }
            // space 200 > 64 three times (136, 72, 8 left); then 8 > 64 is false and every call fails
            assertEquals(List.of(true, true, true, false, false), ok);
            assertEquals(8, f.attr().space());
            f.attr().space(0).interval(3);
            ok.clear();
            for (int i = 0; i < 6; i++) {
                ok.add(s.alloc() != 0);
            }
            assertEquals(List.of(true, true, false, true, true, false), ok, "every interval-th eligible call");
        }
    }

    @Test
    void verboseLevelsAndTheRateLimit() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final Failslab f = k.slab().failslab();
            f.attr().times(-1).verbose(1).probability(100);
            assertEquals(0, k.slab().kmalloc(32, Gfp.ATOMIC));
            assertEquals(1, reports(k));
            assertFalse(k.log().messages().contains(" should_failslab"), "verbose 1: no stack");
            k.procfs().write(DIR + "verbose_ratelimit_interval_ms", "250000");  // jiffies: 1000 s at HZ=250
            k.procfs().write(DIR + "verbose_ratelimit_burst", "2");
            for (int i = 0; i < 5; i++) {
                assertEquals(0, k.slab().kmalloc(32, Gfp.ATOMIC));
            }
            assertEquals(3, reports(k), "burst 2 per interval");
        }
    }

    @Test
    void bootParameterArmsIt() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 failslab=1,100,0,2")) {
            assertEquals("100\n", k.procfs().read(DIR + "probability"));
            assertEquals("2\n", k.procfs().read(DIR + "times"));
            assertEquals(0, k.slab().kmalloc(8, Gfp.ATOMIC));
            assertEquals(0, k.slab().kmalloc(8, Gfp.ATOMIC));
            assertNotEquals(0, k.slab().kmalloc(8, Gfp.ATOMIC));
            assertFalse(k.log().messages().stream().anyMatch(l -> l.startsWith("Unknown kernel command line")));
        }
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 failslab=1,100")) {
            assertTrue(k.log().messages().contains("FAULT_INJECTION: failed to parse arguments"));
            assertEquals("0\n", k.procfs().read(DIR + "probability"), "nothing changed");
        }
    }

    @Test
    void perCacheSysfsFileAndMergedCaches() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            k.slab().kmemCacheCreate("one", 200, 0, 0, null);
            k.slab().kmemCacheCreate("two", 200, 0, 0, null);  // merged with "one" (same geometry)
            assertThrows(ProcFs.ProcFsException.class,
                () -> k.procfs().write("/sys/kernel/slab/one/failslab", "1"), "refcount > 1: -EINVAL");
            final KmemCache own = k.slab().kmemCacheCreate("own", 200, 0, SlabFlags.SLAB_NO_MERGE, null);
            k.procfs().write("/sys/kernel/slab/own/failslab", "1");
            assertTrue(own.failslab());
            assertTrue(k.procfs().list("/sys/kernel/slab/own").contains("failslab"));
            k.procfs().write("/sys/kernel/slab/own/failslab", "0");
            assertFalse(own.failslab());
        }
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 slub_debug=A,marked")) {
            final KmemCache marked = k.slab().kmemCacheCreate("marked", 64, 0, 0, null);
            assertTrue(marked.failslab(), "slub_debug=A sets SLAB_FAILSLAB");
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/marked/failslab"));
        }
    }

    @Test
    void compiledOutWithTheConfig() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1 mm4j.config.FAILSLAB=n failslab=1,100,0,1")) {
            assertThrows(IllegalStateException.class, () -> k.slab().failslab());
            assertTrue(k.procfs().list("/sys/kernel/debug/failslab").isEmpty());
            assertFalse(k.procfs().list("/sys/kernel/slab/kmalloc-64").contains("failslab"));
            assertTrue(k.params().unknown().contains("failslab=1,100,0,1"), k.params().unknown().toString());
            assertNotEquals(0, k.slab().kmalloc(8, Gfp.ATOMIC));
        }
    }
}
