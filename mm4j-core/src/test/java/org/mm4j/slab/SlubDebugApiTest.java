package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;
import org.mm4j.slab.debug.DebugReport;
import org.mm4j.slab.debug.SlubDebug;
import org.mm4j.slab.debug.SlubDebugException;

/** SLUB debugging through the public API: listener, strict mode, tracks, sysfs and debugfs files, slub_debug=. */
class SlubDebugApiTest {
    private static void poke(final Kernel k, final long kaddr, final int value) {
        k.slab().segment(kaddr, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) value);
    }

    @Test
    void listenerAndStrictMode() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final SlubDebug debug = k.slab().debug();
            final List<DebugReport> reports = new ArrayList<>();
            debug.addListener(reports::add);
            final KmemCache s = k.slab().kmemCacheCreate("strict", 64, 0,
                SlabFlags.SLAB_CONSISTENCY_CHECKS | SlabFlags.SLAB_POISON | SlabFlags.SLAB_STORE_USER, null);
            final long p = s.alloc();
            s.free(p);
            poke(k, p + 3, 0x00);  // write after free
            debug.strict(true);
            final SlubDebugException e = assertThrows(SlubDebugException.class, s::validate);
            assertEquals("Poison", e.report().what());
            assertEquals(p + 3, e.report().start());
            assertEquals(0x6b, e.report().expected());
            assertTrue(e.report().freeTrack().stack().stream()
                .anyMatch(c -> c.methodName().equals("listenerAndStrictMode")), e.report().freeTrack().toString());
            assertEquals(1, reports.size());
            final long q = s.alloc();  // repaired: usable again, no exception
            assertNotEquals(0, q);
            s.free(q);
            s.validate();
            final long r = s.alloc();
            s.free(r);
            assertThrows(SlubDebugException.class, () -> s.free(r), "double free in strict mode");
            debug.strict(false);
            assertEquals(2, reports.size());
        }
    }

    @Test
    void sysfsAndDebugfsFiles() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=FZPU,track_me")) {
            final KmemCache s = k.slab().kmemCacheCreate("track_me", 100, 0, 0, null);
            final KmemCache plain = k.slab().kmemCacheCreate("plain_one", 100, 0, 0, null);
            assertTrue(s.isDebug());
            assertTrue(!plain.isDebug());
            final String dir = "/sys/kernel/slab/track_me/";
            for (final String f : new String[] {"red_zone", "poison", "store_user", "sanity_checks"}) {
                assertEquals("1\n", k.procfs().read(dir + f), f);
            }
            assertEquals("0\n", k.procfs().read(dir + "trace"));
            final long[] o = new long[2];
            for (int i = 0; i < 2; i++) {
                o[i] = s.alloc();  // one call site
            }
            final long a = o[0];
            final long b = o[1];
            // alloc_calls/free_calls left sysfs in 5.14; debugfs alloc_traces/free_traces carry the same lines
            final String dbg = "/sys/kernel/debug/slab/track_me/";
            final String calls = k.procfs().read(dbg + "alloc_traces");
            assertTrue(calls.matches("(?s)      2 org\\.mm4j\\.slab\\.SlubDebugApiTest\\.sysfsAndDebugfsFiles\\+0x[0-9a-f]+"
                + "/0x0 \\[SlubDebugApiTest\\.java:\\d+] age=\\d+(/\\d+/\\d+)? pid=\\d+ cpus=\\d.*"), calls);
            assertTrue(calls.contains("\n        org.mm4j.slab.SlubDebugApiTest.sysfsAndDebugfsFiles+0x"), calls);
            assertThrows(ProcFs.ProcFsException.class, () -> k.procfs().read(dir + "alloc_calls"));
            assertThrows(ProcFs.ProcFsException.class, () -> k.procfs().read(dir + "free_calls"));
            s.free(a);
            assertTrue(k.procfs().read(dbg + "free_traces").startsWith("      1 <not-available> "),
                "the one allocated object was never freed");
            s.free(b);
            assertEquals("No data\n", k.procfs().read(dbg + "alloc_traces"));
            k.log().clear();
            k.procfs().write(dir + "validate", "1");
            assertTrue(k.log().messages().isEmpty(), "validate on a clean cache reports nothing: "
                + k.log().messages());
            assertThrows(RuntimeException.class,
                () -> k.procfs().read("/sys/kernel/debug/slab/plain_one/alloc_traces"));
            assertNull(SlubDebugSupport.traces(plain, true, false));
        }
    }

    @Test
    void bootOptionWithOrderRuleAndDash() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=FZPU;-,no_debug")) {
            assertTrue(k.slab().kmemCacheCreate("some_cache", 64, 0, 0, null).isDebug());
            assertTrue(!k.slab().kmemCacheCreate("no_debug", 64, 0, 0, null).isDebug());
            assertTrue(k.slab().findCache("kmalloc-64").isDebug());
        }
    }

    @Test
    void orderRuleDropsMetadataDebugging() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=FZPUO")) {
            // 4096-byte objects need order 1 with red zones and tracks: O keeps only F (and T)
            final KmemCache big = k.slab().kmemCacheCreate("big_one", 4096, 0, 0, null);
            assertEquals(SlabFlags.SLAB_CONSISTENCY_CHECKS, big.flags() & SlabFlags.SLAB_DEBUG_FLAGS);
            assertEquals(4096, big.size());
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/big_one/red_zone"));
            final KmemCache small = k.slab().kmemCacheCreate("small_one", 64, 0, 0, null);
            assertEquals(SlabFlags.DEBUG_DEFAULT_FLAGS, small.flags() & SlabFlags.SLAB_DEBUG_FLAGS);
        }
    }

    @Test
    void freeOfAnAddressOutsideAnySlab() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("fcache", 64, 0, SlabFlags.SLAB_CONSISTENCY_CHECKS, null);
            final long page = org.mm4j.page.PhysicalMemory.pageAddress(k.buddy().allocPages(0, 0));
            k.log().clear();
            assertThrows(IllegalArgumentException.class, () -> s.free(page + 64));
            assertTrue(k.log().messages().contains("virt_to_cache: Object is not a Slab page!"),
                String.join("\n", k.log().messages()));
            final long p = s.alloc();
            s.free(p);
        }
    }

    @Test
    void kzallocKeepsTheKmallocRedzone() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 init_on_alloc=1 slub_debug=FZPU,kmalloc-64")) {
            final long p = k.slab().kzalloc(40, org.mm4j.page.Gfp.KERNEL);
            final long q = k.slab().kmalloc(50, org.mm4j.page.Gfp.KERNEL);
            for (int i = 0; i < 40; i++) {
                assertEquals(0, k.slab().segment(p + i, 1).get(ValueLayout.JAVA_BYTE, 0), "byte " + i);
            }
            assertEquals((byte) SlubDebug.SLUB_RED_ACTIVE, k.slab().segment(p + 40, 1).get(ValueLayout.JAVA_BYTE, 0));
            try (SlubDebug.KunitErrors e = k.slab().debug().kunitErrors()) {
                k.slab().findCache("kmalloc-64").validate();
                assertEquals(0, e.count(), "zeroing stopped at orig_size");
            }
            k.slab().kfree(p);
            k.slab().kfree(q);
        }
    }

    @Test
    void ksizeHandsTheWholeObjectOver() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=ZU,kmalloc-64")) {
            final long p = k.slab().kmalloc(40, org.mm4j.page.Gfp.KERNEL);
            assertEquals(64, k.slab().ksize(p));
            k.slab().segment(p, 64).fill((byte) 0x11);  // legal after ksize(), as in the kernel
            try (SlubDebug.KunitErrors e = k.slab().debug().kunitErrors()) {
                k.slab().findCache("kmalloc-64").validate();
                assertEquals(0, e.count());
            }
            k.slab().kfree(p);
        }
    }

    @Test
    void traceFlagPrintsEachAllocAndFree() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=T,traced")) {
            final KmemCache s = k.slab().kmemCacheCreate("traced", 32, 0, 0, null);
            k.log().clear();
            final long p = s.alloc();
            s.free(p);
            final List<String> d = k.log().messages();
            final String hex = "0x[0-9a-f]{16}";
            assertTrue(d.stream().anyMatch(l -> l.matches("TRACE traced alloc " + hex + " inuse=1 fp=" + hex)),
                String.join("\n", d));
            assertTrue(d.stream().anyMatch(l -> l.matches("TRACE traced free " + hex + " inuse=1 fp=" + hex)));
            assertTrue(d.stream().anyMatch(l -> l.startsWith("Object ffff")), "the freed object's bytes");
            assertTrue(d.contains("Call Trace:"));
        }
    }
}
