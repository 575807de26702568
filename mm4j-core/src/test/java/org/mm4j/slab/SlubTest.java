package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlubTest {
    @Test
    void allocFreeFastPathAndStats() {
        // fixed free order: SLAB_FREELIST_RANDOM off, so a new slab hands out objects in address order
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.config.SLAB_FREELIST_RANDOM=n mm4j.config.SLUB_STATS=y")) {
            k.cpus().pin(0);
            final KmemCache s = k.slab().kmemCacheCreate("foo", 64, 0, 0, null);
            final long a = s.alloc();
            assertTrue(a > PhysicalMemory.PAGE_OFFSET && (a & 7) == 0);
            assertEquals(1, s.stat(StatItem.ALLOC_SLOWPATH));
            assertEquals(1, s.stat(StatItem.ALLOC_SLAB));
            final long b = s.alloc();
            assertEquals(a + 64, b, "objects come in address order from a new slab");
            assertEquals(1, s.stat(StatItem.ALLOC_FASTPATH));
            s.free(b);
            assertEquals(1, s.stat(StatItem.FREE_FASTPATH));
            assertEquals(b, s.alloc(), "LIFO cpu freelist");
            s.free(a);
            s.free(b);
            assertEquals(0, s.activeObjects());
            assertEquals("3 C0=3\n", k.procfs().read("/sys/kernel/slab/foo/free_fastpath"));
            assertEquals(0, s.validate());
            s.shrink();
            assertEquals(0, s.validate());
            s.destroy();
            assertTrue(s.isDestroyed());
            assertThrows(IllegalStateException.class, s::alloc);
        }
    }

    @Test
    void slowPathsPartialListsAndDiscard() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            k.cpus().pin(0);
            final KmemCache s = k.slab().kmemCacheCreate("bar", 512, 0, 0, null);
            final int per = s.objsPerSlab();
            final long free0 = (k.buddy().freePages() + k.buddy().pcpPages());
            final long[] objs = new long[per * 20];
            for (int i = 0; i < objs.length; i++) {
                objs[i] = s.alloc();
                assertNotEquals(0, objs[i]);
            }
            assertEquals(20, s.stat(StatItem.ALLOC_SLAB));
            assertEquals(objs.length, s.activeObjects());
            // free from another cpu slot: remote frees of full slabs go to that slot's cpu partial list
            k.cpus().pin(1);
            for (int i = 0; i < objs.length; i += 2) {
                s.free(objs[i]);
            }
            // CPU 1 has no cpu slab of bar: every one of its frees takes __slab_free (FREE_SLOWPATH); the first
            // free into each full slab freezes it onto CPU 1's partial list (CPU_PARTIAL_FREE): 19 slabs are
            // full, the 20th is CPU 0's frozen cpu slab, whose frees count FREE_FROZEN. Since 6.8 a slab on a cpu
            // partial list is not frozen: later frees into it count neither.
            assertEquals(objs.length / 2, s.stat(StatItem.FREE_SLOWPATH));
            assertEquals(19, s.stat(StatItem.CPU_PARTIAL_FREE));
            assertEquals(per / 2, s.stat(StatItem.FREE_FROZEN));
            assertEquals(0, s.validate());
            k.cpus().pin(0);
            for (int i = 1; i < objs.length; i += 2) {
                s.free(objs[i]);
            }
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate());
            s.shrink();
            assertEquals(0, s.validate());
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/bar/slabs"));
            assertEquals(free0, (k.buddy().freePages() + k.buddy().pcpPages()), "every slab went back to the buddy allocator");
            // reuse from partial lists
            for (int i = 0; i < objs.length; i++) {
                objs[i] = s.alloc();
            }
            k.cpus().pin(1);
            for (int i = 0; i < objs.length; i += 3) {
                s.free(objs[i]);
            }
            k.cpus().pin(0);
            s.flushAll();
            final long before = s.stat(StatItem.ALLOC_FROM_PARTIAL) + s.stat(StatItem.CPU_PARTIAL_ALLOC);
            for (int i = 0; i < objs.length; i += 3) {
                objs[i] = s.alloc();
            }
            assertTrue(s.stat(StatItem.ALLOC_FROM_PARTIAL) + s.stat(StatItem.CPU_PARTIAL_ALLOC) > before);
            assertEquals(0, s.validate());
            final long[] n = new long[objs.length];
            System.arraycopy(objs, 0, n, 0, objs.length);
            s.freeBulk(n, n.length);
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate());
        }
    }

    @Test
    void bulkAllocAndFree() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("bulk", 200, 0, 0, null);
            final long[] out = new long[1000];
            assertEquals(1000, s.allocBulk(Gfp.KERNEL, out, 1000));
            final Set<Long> uniq = new HashSet<>();
            for (final long o : out) {
                assertTrue(uniq.add(o));
            }
            assertEquals(1000, s.activeObjects());
            s.freeBulk(out, 1000);
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate());
        }
    }

    @Test
    void kmallocFamily() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final Slub slub = k.slab();
            final long p = slub.kmalloc(100, Gfp.KERNEL);
            assertEquals(128, slub.ksize(p));
            assertSame(slub.findCache("kmalloc-128"), slub.kmallocCache(100, Gfp.KERNEL));
            assertSame(slub.findCache("kmalloc-96"), slub.kmallocCache(96, Gfp.KERNEL));
            assertSame(slub.findCache("kmalloc-192"), slub.kmallocCache(129, Gfp.KERNEL));
            assertSame(slub.findCache("kmalloc-8"), slub.kmallocCache(1, Gfp.KERNEL));
            assertSame(slub.findCache("kmalloc-8k"), slub.kmallocCache(8192, Gfp.KERNEL));
            assertSame(slub.findCache("kmalloc-cg-64"), slub.kmallocCache(64, Gfp.KERNEL_ACCOUNT));
            assertSame(slub.findCache("kmalloc-rcl-64"), slub.kmallocCache(64, Gfp.KERNEL | Gfp.RECLAIMABLE));
            assertSame(slub.findCache("dma-kmalloc-64"), slub.kmallocCache(64, Gfp.KERNEL | Gfp.DMA));
            assertNull(slub.kmallocCache(8193, Gfp.KERNEL));
            assertEquals(Slub.ZERO_SIZE_PTR, slub.kmalloc(0, Gfp.KERNEL));
            slub.kfree(Slub.ZERO_SIZE_PTR);
            slub.kfree(0);
            // kzalloc zeroes
            slub.segment(p, 100).fill((byte) 0x5a);
            slub.kfree(p);
            final long z = slub.kzalloc(100, Gfp.KERNEL);
            final MemorySegment zs = slub.segment(z, 100);
            for (int i = 0; i < 100; i++) {
                assertEquals(0, zs.get(ValueLayout.JAVA_BYTE, i));
            }
            // krealloc moves and keeps the contents
            zs.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
            final long r = slub.krealloc(z, 1000, Gfp.KERNEL);
            assertEquals(1024, slub.ksize(r));
            assertEquals(0x1122334455667788L, slub.segment(r, 8).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(r, slub.krealloc(r, 900, Gfp.KERNEL), "shrinking stays in place");
            // large kmalloc from the buddy allocator
            final long free0 = (k.buddy().freePages() + k.buddy().pcpPages());
            final long big = slub.kmalloc(20000, Gfp.KERNEL);
            assertEquals(0, (big - PhysicalMemory.PAGE_OFFSET) & 4095);
            assertEquals(32768, slub.ksize(big));
            assertEquals(free0 - 8, (k.buddy().freePages() + k.buddy().pcpPages()));
            slub.kfree(big);
            assertEquals(free0, (k.buddy().freePages() + k.buddy().pcpPages()));
            assertEquals(0, slub.kmalloc(Slub.KMALLOC_MAX_SIZE + 1, Gfp.KERNEL));
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("KMALLOC_MAX_SIZE")));
            // kcalloc overflow
            assertEquals(0, slub.kcalloc(Long.MAX_VALUE / 2, 4, Gfp.KERNEL));
            final long c = slub.kcalloc(10, 10, Gfp.KERNEL);
            assertEquals(128, slub.ksize(c), "kmalloc-128 for 100 bytes");
            slub.kfree(c);
            slub.kfree(r);
            assertThrows(IllegalArgumentException.class, () -> slub.kmalloc(-1, Gfp.KERNEL));
        }
    }

    @Test
    void invalidFreesAreReportedNotApplied() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final Slub slub = k.slab();
            final long p = slub.kmalloc(64, Gfp.KERNEL);
            assertThrows(IllegalArgumentException.class, () -> slub.kfree(p + 8), "inside an object");
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Invalid object pointer")));
            assertThrows(IllegalArgumentException.class, () -> slub.kfree(0x1234), "not a kernel address");
            final long page = k.buddy().allocPages(Gfp.KERNEL, 0);
            assertThrows(IllegalArgumentException.class, () -> slub.kfree(PhysicalMemory.pageAddress(page)));
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Not a kmalloc allocation")));
            slub.kfree(p);
            assertThrows(IllegalStateException.class, () -> slub.kfree(p), "double free");
            final KmemCache s = slub.kmemCacheCreate("one", 64, 0, SlabFlags.SLAB_NO_MERGE, null);
            final long q = s.alloc();
            final KmemCache t = slub.kmemCacheCreate("two", 32, 0, SlabFlags.SLAB_NO_MERGE, null);
            t.free(q);  // wrong cache: warned, freed to the right one
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Wrong slab cache. two but object is"
                + " from one")));
            assertEquals(0, s.activeObjects());
            assertEquals(0, s.validate());
            assertEquals(0, slub.findCache("kmalloc-64").validate());
        }
    }

    @Test
    void mergingAndAliases() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache a = slub.kmemCacheCreate("cache_a", 64, 0, 0, null);
            final KmemCache b = slub.kmemCacheCreate("cache_b", 60, 0, 0, null);
            assertSame(a, b, "a compatible cache merges");
            assertSame(a, slub.findCache("cache_b"));
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/cache_a/aliases"));
            assertEquals("64\n", k.procfs().read("/sys/kernel/slab/:0000064/slab_size"));
            assertEquals("64\n", k.procfs().read("/sys/kernel/slab/cache_b/object_size"));
            final KmemCache c = slub.kmemCacheCreate("cache_c", 64, 0, SlabFlags.SLAB_RECLAIM_ACCOUNT, null);
            assertNotEquals(a, c, "different MERGE_SAME flags");
            assertEquals(":a-0000064", c.sysfsName);
            final KmemCache d = slub.kmemCacheCreate("cache_d", 64, 0, 0, Ctor.named("d_ctor", seg -> { }));
            assertNotEquals(a, d, "ctor caches never merge");
            assertEquals("d_ctor\n", k.procfs().read("/sys/kernel/slab/cache_d/ctor"));
            b.destroy();
            assertNull(slub.findCache("cache_b"));
            assertSame(a, slub.findCache("cache_a"));
            assertTrue(!a.isDestroyed());
            a.destroy();
            assertTrue(a.isDestroyed());
        }
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 slab_nomerge")) {
            final KmemCache a = k.slab().kmemCacheCreate("cache_a", 64, 0, 0, null);
            final KmemCache b = k.slab().kmemCacheCreate("cache_b", 64, 0, 0, null);
            assertNotEquals(a, b);
            assertEquals("cache_a", a.sysfsName);
        }
    }

    @Test
    void destroyReportsRemainingObjects() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("leaky", 128, 0, 0, null);
            final long a = s.alloc();
            s.alloc();
            s.free(a);
            s.destroy();
            assertTrue(k.log().messages().stream().anyMatch(l -> l.equals("BUG leaky (Not tainted): Objects remaining"
                + " on __kmem_cache_shutdown()")), String.join("\n", k.log().messages()));
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("kmem_cache_destroy leaky: Slab cache"
                + " still has objects")));
            assertNull(k.slab().findCache("leaky"));
            assertThrows(IllegalStateException.class, () -> s.free(a));
        }
    }

    @Test
    void ctorRunsOncePerObjectAtSlabCreation() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final int[] calls = {0};
            final KmemCache s = k.slab().kmemCacheCreate("ctored", 48, 0, 0, Ctor.named("init48", seg -> {
                calls[0]++;
                seg.set(ValueLayout.JAVA_LONG, 0, 0xfeedL);
            }));
            final long o = s.alloc();
            assertEquals(s.objsPerSlab(), calls[0]);
            assertEquals(0xfeedL, s.segment(o).get(ValueLayout.JAVA_LONG, 0));
            s.free(o);
            final long o2 = s.alloc();
            assertEquals(0xfeedL, s.segment(o2).get(ValueLayout.JAVA_LONG, 0), "free pointer is outside the object");
            assertEquals(48, s.segment(o2).byteSize());
        }
    }

    @Test
    void slabinfoAndSysfsFormats() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.config.SLUB_STATS=y")) {
            k.cpus().pin(1);
            final KmemCache s = k.slab().kmemCacheCreate("fmt", 256, 0, SlabFlags.SLAB_HWCACHE_ALIGN, null);
            for (int i = 0; i < 3; i++) {
                s.alloc();
            }
            final String info = k.procfs().read("/proc/slabinfo");
            final String[] lines = info.split("\n");
            assertEquals("slabinfo - version: 2.1", lines[0]);
            assertEquals("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> :"
                + " tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs>"
                + " <sharedavail>", lines[1]);
            assertEquals("fmt                   16     16    256   16    1 : tunables    0    0    0 : slabdata"
                + "      1      1      0", lines[2], "newest cache first; cpu slab objects count as active");
            assertTrue(info.contains("\nkmalloc-8k "));
            assertEquals("1 C1=1\n", k.procfs().read("/sys/kernel/slab/fmt/alloc_slowpath"));
            assertEquals("2 C1=2\n", k.procfs().read("/sys/kernel/slab/fmt/alloc_fastpath"));
            assertEquals("1 N0=1\n", k.procfs().read("/sys/kernel/slab/fmt/cpu_slabs"));
            assertEquals("1 N0=1\n", k.procfs().read("/sys/kernel/slab/fmt/slabs"));
            assertEquals("16 N0=16\n", k.procfs().read("/sys/kernel/slab/fmt/total_objects"));
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/fmt/partial"));
            assertEquals("0(0)\n", k.procfs().read("/sys/kernel/slab/fmt/slabs_cpu_partial"));
            assertEquals("1\n", k.procfs().read("/sys/kernel/slab/fmt/hwcache_align"));
            k.procfs().write("/sys/kernel/slab/fmt/alloc_fastpath", "0");
            assertEquals("0\n", k.procfs().read("/sys/kernel/slab/fmt/alloc_fastpath"));
            k.procfs().write("/sys/kernel/slab/fmt/shrink", "1");
            // validate_store (mm/slub.c 6.18): "if (buf[0] == '1' && kmem_cache_debug(s))", else -EINVAL
            final ProcFs.ProcFsException notDebug = assertThrows(ProcFs.ProcFsException.class,
                () -> k.procfs().write("/sys/kernel/slab/fmt/validate", "1"));
            assertEquals("/sys/kernel/slab/fmt/validate: Invalid argument", notDebug.getMessage());
            // alloc_calls/free_calls left sysfs in 5.14 (debugfs alloc_traces/free_traces since)
            for (final String gone : new String[] {"alloc_calls", "free_calls"}) {
                final ProcFs.ProcFsException e = assertThrows(ProcFs.ProcFsException.class,
                    () -> k.procfs().read("/sys/kernel/slab/fmt/" + gone));
                assertEquals("/sys/kernel/slab/fmt/" + gone + ": No such file or directory", e.getMessage());
                assertFalse(k.procfs().list("/sys/kernel/slab/fmt").contains(gone), gone);
            }
            assertNotNull(k.procfs().list("/sys/kernel/slab"));
            assertTrue(k.procfs().list("/sys/kernel/slab").contains("fmt"));
        }
    }

    @Test
    void slabFlagsTextIsThePgpOf618() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final long small = slub.kmalloc(64, org.mm4j.page.Gfp.KERNEL);
            final long big = slub.kmalloc(8192, org.mm4j.page.Gfp.KERNEL);
            final String order0 = new SlabPage(slub, slub.virtToSlab(small - org.mm4j.page.PhysicalMemory.PAGE_OFFSET))
                .flagsText();
            final String compound = new SlabPage(slub, slub.virtToSlab(big - org.mm4j.page.PhysicalMemory.PAGE_OFFSET))
                .flagsText();
            // lib/vsprintf.c format_page_flags (6.18): number(flags) in hex first, then the main-area flag names
            // and the pff[] fields node, zone, lastcpupid. Slab is a page type in 6.18, not a page flag: no
            // "slab". Reference config: node bits 54.., zone 51..53 (DMA32 = 1), lastcpupid 35..50 reset to ~0.
            assertEquals("0xffff800000000(node=0|zone=1|lastcpupid=0xffff)", order0);
            assertEquals("0xffff800000040(head|node=0|zone=1|lastcpupid=0xffff)", compound);
            slub.kfree(small);
            slub.kfree(big);
        }
    }
}
