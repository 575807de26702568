package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.mm4j.slab.debug.SlubDebug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SLUB core driving the debug checks through its slow paths (lib/tests/slub_kunit.c cases). */
class SlubDebugIntegrationTest {
    private static MemorySegment raw(final Kernel k, final long kaddr, final long len) {
        return k.slab().segment(kaddr, len);
    }

    @Test
    void clobberRedZoneIsFoundByValidate() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("TestSlub_RZ_alloc", 64, 0, SlabFlags.SLAB_RED_ZONE, null);
            assertTrue(s.isDebug());
            final long p = s.alloc();
            raw(k, p, 65).set(ValueLayout.JAVA_BYTE, 64, (byte) 0x12);
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                s.validate();
                assertEquals(2, errors.count());
            }
            s.free(p);
            s.destroy();
        }
    }

    /**
     * The WARN block's lines and the allocation track name {@code current} (pid 1, "mm4j"), not the Java thread
     * (the main thread's id is 3).
     */
    @Test
    void theWarnBlockNamesTheCurrentProcess() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final KmemCache s = k.slab().kmemCacheCreate("TestSlub_RZ_comm", 64, 0,
                SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_STORE_USER, null);
            final long p = s.alloc();
            raw(k, p, 65).set(ValueLayout.JAVA_BYTE, 64, (byte) 0x12);
            k.log().clear();
            s.validate();
            final java.util.List<String> m = k.log().messages().stream()
                .flatMap(l -> l.lines()).filter(l -> l.startsWith("CPU: ")).toList();
            assertTrue(!m.isEmpty() && m.stream().allMatch(l -> l.matches("CPU: 0 UID: 0 PID: 1 Comm: mm4j .*")),
                k.log().messages().toString());
            final String all = String.join("\n", k.log().messages());
            assertTrue(all.contains("WARNING: CPU: 0 PID: 1 at mm/slub.c"), all);
            assertTrue(all.matches("(?s).*Allocated in .* age=\\d+ cpu=0 pid=1\\n.*"), all);
            s.free(p);
            s.destroy();
        }
    }

    @Test
    void firstWordAfterFreeIsPoisonCorruption() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("TestSlub_1th_word_free", 64, 0, SlabFlags.SLAB_POISON,
                null);
            final long p = s.alloc();
            s.free(p);
            raw(k, p, 8).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x78);
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                s.validate();
                assertEquals(2, errors.count());
            }
        }
    }

    @Test
    void leakAtDestroyIsReported() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("TestSlub_leak_destroy", 64, 0,
                SlabFlags.SLAB_CONSISTENCY_CHECKS | SlabFlags.SLAB_NO_MERGE, null);
            s.alloc();
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                s.destroy();
                assertEquals(2, errors.count());
            }
        }
    }

    @Test
    void bootOptionMakesKmallocCachesDebugCaches() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=FZPU,kmalloc-64")) {
            final KmemCache s = k.slab().findCache("kmalloc-64");
            assertTrue(s.isDebug());
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/kmalloc-64/red_zone"));
            assertEquals(0, s.cpuPartial());
            assertTrue(!k.slab().findCache("kmalloc-128").isDebug());
            final long p = k.slab().kmalloc(40, Gfp.KERNEL);
            raw(k, p, 41).set(ValueLayout.JAVA_BYTE, 40, (byte) 0x55);  // inside kmalloc red zone (orig_size 40)
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                s.validate();
                assertEquals(2, errors.count());
            }
            // double free with F: free_consistency_checks finds it on_freelist (object_err, one error), then
            // free_debug_processing's slab_fix "Object at ... not freed" (the second); nothing changed
            final long q = k.slab().kmalloc(64, Gfp.KERNEL);
            k.slab().kfree(q);
            final long inuse = s.activeObjects();
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                k.slab().kfree(q);
                assertEquals(2, errors.count());
            }
            assertEquals(inuse, s.activeObjects());
        }
    }

    @Test
    void optionOSkipsDebugWhenItWouldRaiseTheOrder() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slub_debug=FZPUO")) {
            assertTrue(!k.slab().findCache("kmalloc-4k").isDebug() || k.slab().findCache("kmalloc-4k").flags()
                == (k.slab().findCache("kmalloc-4k").flags() & ~SlabFlags.SLAB_RED_ZONE), "4k loses Z/P/U");
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/kmalloc-4k/red_zone"));
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/kmalloc-64/red_zone"));
        }
    }
}
