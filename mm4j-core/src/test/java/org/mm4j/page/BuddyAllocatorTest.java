package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.base.CpuSlots;
import org.mm4j.Kernel;
import org.mm4j.base.KernelLog;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuddyAllocatorTest {
    static Kernel boot(final String cmdline) {
        return Kernel.boot(cmdline);
    }

    /**
     * The zone a GFP_KERNEL request on node 0 tries first: the node's highest populated zone
     * ({@code build_zonelists} lists them from Normal down to DMA). At {@code mem=} up to 4 GiB that is DMA32 (x86-64:
     * DMA below 16 MiB, DMA32 below 4 GiB), at {@code mem=16M} DMA.
     */
    static Zone firstZone(final BuddyAllocator b) {
        return b.zones().stream().filter(z -> z.nid() == 0).reduce((a, c) -> c).orElseThrow();
    }

    @Test
    void freshBootHasEverythingFreeInMaxOrderBlocksAndIsValid() {
        try (Kernel k = boot("mem=16M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            b.checkInvariants();
            final Zone z = b.zones().get(0);
            // x86-64 zone_sizes_init: memory below MAX_DMA_PFN (16 MiB) is ZONE_DMA; DMA32 and Normal are empty
            assertEquals(1, b.zones().size());
            assertEquals("DMA", z.name());
            assertEquals(4096, z.spannedPages());
            assertEquals(4095, z.managedPages());
            assertEquals(4095, b.freePages());
            // pfn 0 reserved: orders 0..9 hold one block each, then 3 max-order blocks
            for (int o = 0; o < Zone.MAX_PAGE_ORDER; o++) {
                assertEquals(1, z.nrFree(o), "order " + o);
            }
            assertEquals(3, z.nrFree(Zone.MAX_PAGE_ORDER));
        }
    }

    @Test
    void watermarksAndPcpSizesFollowTheKernelFormulas() {
        try (Kernel k = boot("mem=256M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final Zone dma = b.zones().get(0);
            final Zone z = b.zones().get(1);
            assertEquals("DMA", dma.name());
            assertEquals(4095, dma.managedPages());
            assertEquals("DMA32", z.name());
            assertEquals(61440, z.managedPages());
            // lowmem 4095 + 61440 = 65535 pages = 262140 kB; int_sqrt(262140 * 16) = 2047
            assertEquals(2047, b.minFreeKbytes());
            // __setup_per_zone_wmarks splits pages_min = 2047 >> 2 = 511 by managed pages:
            // DMA32 511 * 61440 / 65535 = 479, DMA 511 * 4095 / 65535 = 31
            assertEquals(479, z.watermark(Zone.WMARK_MIN));
            // tmp = max(479 >> 2, 61440 * 10 / 10000) = 119
            assertEquals(598, z.watermark(Zone.WMARK_LOW));
            assertEquals(717, z.watermark(Zone.WMARK_HIGH));
            assertEquals(836, z.watermark(Zone.WMARK_PROMO));
            // DMA: tmp = max(31 >> 2, 4095 * 10 / 10000) = 7
            assertEquals(31, dma.watermark(Zone.WMARK_MIN));
            assertEquals(38, dma.watermark(Zone.WMARK_LOW));
            assertEquals(45, dma.watermark(Zone.WMARK_HIGH));
            // batch: min(61440 >> 12, 64) = 15 -> rounddown_pow_of_two(22) - 1 = 15; DMA: 4095 >> 12 = 0 -> 1
            assertEquals(15, z.pcpBatch());
            assertEquals(1, dma.pcpBatch());
            assertEquals(598 / 2, z.pcpHighMin());
            assertEquals(61440 / 8 / 2, z.pcpHighMax());
            // setup_per_zone_lowmem_reserve, ratio 256 for DMA: DMA32's 61440 managed / 256 = 240 for every
            // higher index; DMA32 (ratio 256) has nothing above it
            for (int j = Zone.ZONE_DMA32; j < Zone.MAX_NR_ZONES; j++) {
                assertEquals(240, dma.lowmemReserve(j), "DMA lowmem_reserve[" + j + "]");
                assertEquals(0, z.lowmemReserve(j), "DMA32 lowmem_reserve[" + j + "]");
            }
            // calculate_totalreserve_pages: min(largest reserve + high, managed) per zone: (240 + 45) + (0 + 717)
            assertEquals(285 + 717, b.totalreservePages());
        }
    }

    @Test
    void batchSizeFormula() {
        assertEquals(1, BuddyAllocator.zoneBatchsize(4095));
        assertEquals(1, BuddyAllocator.zoneBatchsize(8191));
        assertEquals(63, BuddyAllocator.zoneBatchsize(1L << 20));
        assertEquals(3, BuddyAllocator.zoneBatchsize(3 << 12));
        assertEquals(2047, BuddyAllocator.intSqrt(4194240));
    }

    @Test
    void firstOrder0AllocationRefillsThePcpListWithABatch() {
        try (Kernel k = boot("mem=256M nr_cpus=2")) {
            k.cpus().pin(0);
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            final long free0 = b.freePages();
            final long p = b.allocPages(Gfp.KERNEL, 0);
            assertTrue(p > 0);
            // nr_pcp_alloc: batch 15 taken under the zone lock, one handed out
            assertEquals(14, z.pcpCount(0));
            assertEquals(free0 - 15, b.freePages());
            assertTrue(b.freePages(p, 0));
            assertEquals(15, z.pcpCount(0));
            b.drainAllPages();
            assertEquals(0, z.pcpCount(0));
            assertEquals(free0, b.freePages());
            b.checkInvariants();
        }
    }

    @Test
    void freeingPastHighDrainsABatchToTheBuddyLists() {
        try (Kernel k = boot("mem=256M nr_cpus=2")) {
            k.cpus().pin(1);
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            final List<Long> pages = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                pages.add(b.allocPages(Gfp.KERNEL, 0));
            }
            for (final long p : pages) {
                assertTrue(b.freePages(p, 0));
                assertTrue(z.pcpCount(1) <= z.pcpHighMax(), "pcp count " + z.pcpCount(1));
            }
            assertTrue(z.pcpCount(1) > 0);
            b.checkInvariants();
            b.drainAllPages();
            assertEquals(0, b.pcpPages());
            assertEquals(b.totalramPages(), b.freePages());
            b.checkInvariants();
        }
    }

    @Test
    void compoundPagesHaveHeadAndTails() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final MemMap mm = k.memMap();
            final long p = b.allocPages(Gfp.KERNEL | Gfp.COMP, 3);
            assertEquals(0, p & 7);
            assertTrue(mm.test(p, MemMap.PG_HEAD));
            assertEquals(3, mm.compoundOrder(p));
            for (int i = 1; i < 8; i++) {
                assertTrue(mm.test(p + i, MemMap.PG_TAIL));
                assertEquals(p, mm.compoundHead(p + i));
            }
            assertEquals(2, b.getPage(p + 5));
            assertEquals(2, b.pageCount(p + 3));
            assertFalse(b.putPage(p + 2));
            assertTrue(b.putPage(p + 7));
            assertFalse(mm.test(p + 1, MemMap.PG_TAIL));
            b.drainAllPages();
            assertEquals(b.totalramPages(), b.freePages());
            b.checkInvariants();
        }
    }

    @Test
    void gfpZeroAndInitOnAllocZeroTheBlock() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            final long p = b.allocPages(Gfp.KERNEL, 2);
            m.fill(PhysicalMemory.pfnToPhys(p), 4 * 4096, (byte) 0x5a);
            b.freePages(p, 2);
            final long q = b.allocPages(Gfp.KERNEL | Gfp.ZERO, 2);
            assertEquals(p, q, "LIFO reuse of the pcp list");
            for (long off = 0; off < 4 * 4096; off += 8) {
                assertEquals(0, m.getLong(PhysicalMemory.pfnToPhys(q) + off));
            }
        }
        try (Kernel k = boot("mem=16M nr_cpus=1 init_on_free=1")) {
            final BuddyAllocator b = k.buddy();
            final long p = b.allocPages(Gfp.KERNEL, 0);
            k.memory().putLong(PhysicalMemory.pfnToPhys(p), -1L);
            b.freePages(p, 0);
            assertEquals(0, k.memory().getLong(PhysicalMemory.pfnToPhys(p)));
        }
    }

    @Test
    void splitPageGivesIndependentOrder0Pages() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final long p = b.allocPages(Gfp.KERNEL, 2);
            b.splitPage(p, 2);
            for (int i = 3; i >= 0; i--) {
                assertTrue(b.freePages(p + i, 0));
            }
            b.drainAllPages();
            assertEquals(b.totalramPages(), b.freePages());
            b.checkInvariants();
            assertThrows(IllegalArgumentException.class, () -> b.splitPage(b.allocPages(Gfp.KERNEL | Gfp.COMP, 1), 1));
        }
    }

    @Test
    void kernelAllocationsStopAtMinWatermarkAtomicOnesDipBelow() {
        try (Kernel k = boot("mem=64M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            int n = 0;
            while (b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0) >= 0) {
                n++;
            }
            assertTrue(n > 0);
            // GFP_KERNEL (highest zone Normal) fails once every zone is at or below min + lowmem_reserve[Normal]
            // (__zone_watermark_ok): DMA32 down to its min, DMA down to min plus the 12288 / 256 = 48 pages it
            // keeps from requests that could use a higher zone (the slow path drained the pcp lists)
            assertEquals(48, b.zones().get(0).lowmemReserve(Zone.ZONE_NORMAL));
            for (final Zone z : b.zones()) {
                final long min = z.watermark(Zone.WMARK_MIN);
                final long mark = min + z.lowmemReserve(Zone.ZONE_NORMAL);
                assertTrue(z.freePages() <= mark, z + ": free " + z.freePages() + " min+reserve " + mark);
                assertTrue(z.freePages() > mark - min / 2, z + ": free " + z.freePages() + " min+reserve " + mark);
            }
            // __GFP_HIGH from a non-blocking context: min - min/2 - (min - min/2)/4, the reserve still applies
            int atomic = 0;
            while (b.allocPages(Gfp.ATOMIC | Gfp.NOWARN, 0) >= 0) {
                atomic++;
            }
            assertTrue(atomic > 0, "GFP_ATOMIC gets into the reserve");
            for (final Zone z : b.zones()) {
                final long min = z.watermark(Zone.WMARK_MIN);
                final long atomicMin = (min - min / 2) - (min - min / 2) / 4 + z.lowmemReserve(Zone.ZONE_NORMAL);
                // no direct reclaim for GFP_ATOMIC, so no drain: it fails with pages left on the pcp lists
                assertTrue(z.freePages() <= atomicMin, z + ": free " + z.freePages() + " atomic min " + atomicMin);
                assertTrue(z.freePages() > atomicMin - 3 * 32, z + ": free " + z.freePages() + " atomic min "
                    + atomicMin);
            }
            // __GFP_MEMALLOC ignores watermarks
            assertTrue(b.allocPages(Gfp.ATOMIC | Gfp.MEMALLOC, 0) >= 0);
            b.checkInvariants();
        }
    }

    @Test
    void allocationFailureIsLoggedUnlessNowarn() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            k.log().clear();
            assertEquals(-1, b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 11));
            assertEquals(-1, b.allocPages(Gfp.KERNEL | Gfp.NOWARN, -1));
            final List<Long> big = new ArrayList<>();
            long p;
            while ((p = b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 10)) >= 0) {
                big.add(p);
            }
            assertTrue(k.log().messages().isEmpty(), k.log().messages().toString());
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 10));
            final List<String> m = k.log().messages();
            assertTrue(m.get(0).matches("mm4j: page allocation failure: order:10, mode:0x[0-9a-f]+\\(GFP_KERNEL\\), "
                + "nodemask=\\(null\\),cpuset=/,mems_allowed=0"), m.toString());
            // warn_alloc: dump_stack() (the model's stand-in: CPU line, call trace by name), then show_mem
            assertTrue(m.get(1).startsWith("CPU: 0 UID: 0 PID: 1 Comm: mm4j "), m.toString()); // current, not the thread
            assertEquals("Call Trace:", m.get(3));
            assertEquals(" <TASK>", m.get(4));
            assertEquals(" dump_stack_lvl", m.get(5));
            assertEquals(" warn_alloc", m.get(6));
            final int mem = m.indexOf("Mem-Info:");
            assertEquals(" </TASK>", m.get(mem - 1), "the stack comes before show_mem");
            // warn_alloc's show_mem: the buddy lists per order with their migratetype letters
            // mem=16M: all memory is ZONE_DMA
            assertTrue(m.stream().anyMatch(l -> l.matches("Node 0 DMA: (\\d+\\*\\d+kB (\\([UMEHCI]+\\) )?){11}"
                + "= \\d+kB")), m.toString());
            assertTrue(m.stream().anyMatch(l -> l.startsWith("Node 0 DMA free:") && l.contains(" min:508kB ")), m.toString());
            assertTrue(m.contains("lowmem_reserve[]: 0 0 0 0 0"), m.toString());
            assertEquals("0 pages hwpoisoned", m.get(m.size() - 1));
            k.log().clear();
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 10));
            assertTrue(k.log().messages().isEmpty(), "rate-limited to one report per 10 s");
            big.forEach(x -> b.freePages(x, 10));
            b.checkInvariants();
        }
    }

    @Test
    void unmovableAllocationClaimsAMovablePageblock() {
        try (Kernel k = boot("mem=32M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            assertEquals(MigrateType.MOVABLE, z.pageblockMigratetype(z.startPfn()));
            final long p = b.allocPages(Gfp.KERNEL, 0);
            assertEquals(MigrateType.UNMOVABLE, z.pageblockMigratetype(p));
            final long r = b.allocPages(Gfp.KERNEL | Gfp.RECLAIMABLE, 0);
            assertEquals(MigrateType.RECLAIMABLE, z.pageblockMigratetype(r));
            final long m = b.allocPages(Gfp.HIGHUSER_MOVABLE, 0);
            assertEquals(MigrateType.MOVABLE, z.pageblockMigratetype(m));
            b.checkInvariants();
            final String pti = k.procfs().read("/proc/pagetypeinfo");
            // the largest fallback block is claimed whole: an order-10 block is two pageblocks (of DMA32's 8; the
            // DMA zone below it is untouched: GFP_KERNEL takes DMA32 first)
            assertTrue(pti.contains(String.format("Node 0, zone %8s %12d %12d %12d %12d %12d %12d ", "DMA32", 2, 4,
                2, 0, 0, 0)), pti);
            assertTrue(pti.contains(String.format("Node 0, zone %8s %12d %12d %12d %12d %12d %12d ", "DMA", 0, 8,
                0, 0, 0, 0)), pti);
        }
    }

    @Test
    void misuseIsReportedAndLeavesTheListsIntact() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final KernelLog log = k.log();
            final long c = b.allocPages(Gfp.KERNEL | Gfp.COMP, 2);
            final long p = b.allocPages(Gfp.KERNEL, 1);
            final long s = b.allocPages(Gfp.KERNEL, 0);
            k.memMap().setFlag(s, MemMap.PG_SLAB);
            final long free = b.freePages();
            log.clear();

            assertFalse(b.freePages(c + 1, 0));
            assertReport(log, c + 1, "VM_BUG_ON_PAGE(PageTail(page))");
            assertFalse(b.freePages(c, 1));
            assertReport(log, c, "VM_BUG_ON_PAGE(compound && compound_order(page) != order)");
            assertFalse(b.freePages(p, 0));
            assertReport(log, p, "freed with order 0 but allocated with order 1");
            assertFalse(b.freePages(s, 0));
            // dump_page's flags line is %pGp: slab is a page type in 6.18 (the page_type line), no page flag
            assertTrue(log.messages().stream().anyMatch(l -> l.startsWith("flags: 0x")
                && l.endsWith("(node=0|zone=0|lastcpupid=0xffff)")), log.messages().toString());
            assertTrue(log.messages().contains("page_type: f5(slab)"));
            assertReport(log, s, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
            assertFalse(b.freePages(1 << 20, 0));
            assertReport(log, 1 << 20, "pfn outside memory (valid pfns 0x0-0xfff)");
            assertFalse(b.freePages(0, 0));
            assertReport(log, 0, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
            assertFalse(b.freePagesAddr(PhysicalMemory.PAGE_OFFSET + (64L << 20), 0));
            assertTrue(log.messages().get(1).contains("outside the direct map"), log.messages().toString());
            log.clear();
            assertEquals(free, b.freePages());
            b.checkInvariants();

            assertTrue(b.freePages(c, 2));
            // a second __free_pages, Linux 6.18 without CONFIG_DEBUG_VM (the reference config): put_page_testzero's
            // VM_BUG_ON_PAGE is compiled out, page_ref_dec_and_test takes the count below zero and nothing is freed
            // or reported (the kernel would then free the block's tail halves again; the model does not)
            assertFalse(b.freePages(c, 2));
            assertTrue(log.messages().isEmpty(), log.messages().toString());
            assertEquals(-1, k.memMap().refcount(c));
            k.memMap().clearFlag(s, MemMap.PG_SLAB);
            assertTrue(b.freePagesAddr(PhysicalMemory.pageAddress(s), 0));
            assertTrue(b.freePages(p, 1));
            b.drainAllPages();
            assertFalse(b.freePages(p, 1), "double free of a page now in the buddy lists: nothing freed");
            assertEquals(-1, k.memMap().refcount(p));
            final long big = b.allocPages(Gfp.KERNEL, Zone.MAX_PAGE_ORDER);
            assertTrue(b.freePages(big, Zone.MAX_PAGE_ORDER));
            assertFalse(b.freePages(big, Zone.MAX_PAGE_ORDER), "double free of a max-order block: nothing freed");
            assertTrue(log.messages().isEmpty(), log.messages().toString());
            b.drainAllPages();
            assertEquals(b.totalramPages(), b.freePages(), "no page freed twice");
            assertEquals(7, b.badPageReports());
            b.checkInvariants();
            // the pages come back with the count prep_new_page sets (set_page_refcounted)
            final List<Long> again = new ArrayList<>();
            long q;
            while ((q = b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0)) >= 0) {
                assertEquals(1, k.memMap().refcount(q));
                again.add(q);
            }
            assertTrue(again.contains(c) && again.contains(p) && again.contains(big), "each handed out once");
            assertEquals(again.size(), again.stream().distinct().count());
            b.checkInvariants();
        }
    }

    @Test
    void doubleFreeWithDebugVmIsAVmBugOnPage() {
        // CONFIG_DEBUG_VM: put_page_testzero's VM_BUG_ON_PAGE(page_ref_count(page) == 0, page) dumps the page
        // and BUG()s at its line of include/linux/mm.h; the task dies there, the model refuses the free
        try (Kernel k = boot("mem=16M nr_cpus=1 mm4j.config.DEBUG_VM=y")) {
            assertTrue(k.procfs().read("/proc/config.gz").contains("\nCONFIG_DEBUG_VM=y\n"));
            final BuddyAllocator b = k.buddy();
            final KernelLog log = k.log();
            final long p = b.allocPages(Gfp.KERNEL, 1);
            assertTrue(b.freePages(p, 1));
            log.clear();
            assertFalse(b.freePages(p, 1));
            final List<String> m = log.messages();
            assertTrue(m.get(0).matches(String.format("page: refcount:0 mapcount:0 mapping:0{16} index:0x0 pfn:0x%x",
                p)), m.toString());
            assertTrue(m.contains("page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)"), m.toString());
            final int bug = m.indexOf("kernel BUG at " + FreePages.PUT_PAGE_TESTZERO_BUG + "!");
            assertTrue(bug > 0, m.toString());
            assertEquals("------------[ cut here ]------------", m.get(bug - 1));
            assertTrue(m.get(bug + 1).startsWith("Oops: invalid opcode: 0000 [#1]"), m.toString());
            assertEquals(0, k.memMap().refcount(p), "nothing changed");
            assertEquals(0, b.badPageReports(), "a VM_BUG_ON is no bad_page report");
            b.drainAllPages();
            assertEquals(b.totalramPages(), b.freePages());
            b.checkInvariants();
        }
    }

    private static void assertReport(final KernelLog log, final long pfn, final String reason) {
        final List<String> m = log.messages();
        // current->comm: the model's current process (pid 1, "mm4j"), never the Java thread's name
        assertEquals(String.format("BUG: Bad page state in process mm4j  pfn:%05x", pfn), m.get(0));
        if (!reason.startsWith("pfn outside")) {
            assertTrue(m.get(1).matches(String.format("page: refcount:-?\\d+ mapcount:\\d+ mapping:0{16} index:0x0 "
                + "pfn:0x%x", pfn)), m.toString());
            assertTrue(m.stream().anyMatch(l -> l.matches("raw:( [0-9a-f]{16}){4}")), m.toString());
        }
        assertEquals("page dumped because: " + reason, m.get(m.size() - 1));
        log.clear();
    }

    @Test
    void aReportWithoutAProcessTableNamesTheIdleTask() {
        try (PhysicalMemory m = new PhysicalMemory(16L << 20, 1); MemMap mm = new MemMap(m.totalPages())) {
            final KernelLog log = new KernelLog();
            final BuddyAllocator b = new BuddyAllocator(m, mm, log);
            final long p = b.allocPages(Gfp.KERNEL, 1);
            log.clear();
            b.freePages(p, 0);
            assertEquals(String.format("BUG: Bad page state in process swapper/0  pfn:%05x", p),
                log.messages().get(0), "no current task: init_task's comm, as the kernel prints it early in boot");
            b.freePages(p, 1);
        }
    }

    @Test
    void dmaDma32AndNormalZonesWithLowmemReserve() {
        // the x86-64 layout scaled down: DMA below pfn 1024, DMA32 below 2048, Normal above
        try (PhysicalMemory m = new PhysicalMemory(16L << 20, 1); MemMap mm = new MemMap(m.totalPages())) {
            final CpuSlots cpus = new CpuSlots(1);
            final BuddyAllocator b = new BuddyAllocator(m, mm, new KernelLog(), cpus, new VmStat(cpus),
                new BuddyAllocator.Options(false, false, 1024, 2048, false));
            assertEquals(3, b.zones().size());
            final Zone dma = b.zones().get(0);
            final Zone dma32 = b.zones().get(1);
            final Zone normal = b.zones().get(2);
            assertEquals("DMA", dma.name());
            assertEquals("DMA32", dma32.name());
            assertEquals(2048, dma32.endPfn());
            // setup_per_zone_lowmem_reserve: ratios 256 (DMA), 256 (DMA32); cumulative managed pages above
            assertEquals(dma32.managedPages() / 256, dma.lowmemReserve(Zone.ZONE_DMA32));
            assertEquals((dma32.managedPages() + normal.managedPages()) / 256, dma.lowmemReserve(Zone.ZONE_NORMAL));
            assertEquals(normal.managedPages() / 256, dma32.lowmemReserve(Zone.ZONE_NORMAL));
            assertEquals(0, dma32.lowmemReserve(Zone.ZONE_DMA32));
            final long n = b.allocPages(Gfp.KERNEL, 0);
            assertTrue(normal.contains(n), "GFP_KERNEL prefers Normal");
            final long d = b.allocPages(Gfp.KERNEL | Gfp.DMA32, 0);
            assertTrue(dma32.contains(d), "GFP_DMA32 stays below 4G");
            final long dd = b.allocPages(Gfp.KERNEL | Gfp.DMA, 0);
            assertTrue(dma.contains(dd), "GFP_DMA is served from ZONE_DMA only");
            final List<Long> all = new ArrayList<>();
            long p;
            while ((p = b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 3)) >= 0) {
                all.add(p);
            }
            assertTrue(all.stream().anyMatch(dma32::contains), "falls back to DMA32 when Normal is low");
            assertTrue(all.stream().anyMatch(dma::contains), "then to DMA");
            // ... but not into DMA's lowmem_reserve[Normal]: order-3 requests stop above min + reserve
            assertTrue(dma.freePages() > dma.watermark(Zone.WMARK_MIN) + dma.lowmemReserve(Zone.ZONE_NORMAL) - 8,
                "DMA free " + dma.freePages());
            // GFP_DMA may still use what GFP_KERNEL left (lowmem_reserve[DMA] of DMA is 0)
            assertTrue(dma.contains(b.allocPages(Gfp.DMA | Gfp.NOWARN, 0)));
            final String bi = PageProc.buddyinfo(b);
            assertTrue(bi.startsWith("Node 0, zone      DMA "), bi);
            assertTrue(bi.contains("\nNode 0, zone    DMA32 "), bi);
            assertTrue(bi.contains("\nNode 0, zone   Normal "), bi);
            b.checkInvariants();
        }
    }

    @Test
    void gfpDmaIsServedFromZoneDmaOnlyAndNeverInvokesTheOomKiller() {
        try (Kernel k = boot("mem=256M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final Zone dma = b.zones().get(0);
            final Zone dma32 = b.zones().get(1);
            // gfp_zone(GFP_DMA) = ZONE_DMA: the zonelist walk stops there; its lowmem_reserve[DMA] is 0
            long n = 0;
            long p;
            while ((p = b.allocPages(Gfp.KERNEL | Gfp.DMA | Gfp.NOWARN, 0)) >= 0) {
                assertTrue(dma.contains(p), "GFP_DMA from ZONE_DMA only: pfn " + p);
                n++;
            }
            assertTrue(n > 3500, "nearly all of DMA: " + n);
            assertTrue(dma.freePages() <= dma.watermark(Zone.WMARK_MIN), "free " + dma.freePages());
            assertEquals(61440, dma32.freePages() + dma32.pcpCount(0), "DMA32 untouched");
            // GFP_DMA32 (gfp_zone DMA32) still has DMA32
            assertTrue(dma32.contains(b.allocPages(Gfp.KERNEL | Gfp.DMA32, 0)));
            k.log().clear();
            assertEquals(-1, b.allocPages(Gfp.KERNEL | Gfp.DMA, 0));
            final List<String> m = k.log().messages();
            assertTrue(m.getFirst().contains("page allocation failure: order:0, mode:0xcc1(GFP_KERNEL|GFP_DMA)"),
                m.toString());
            // show_free_areas skips the zones above gfp_zone(gfp_mask)
            assertTrue(m.stream().anyMatch(l -> l.startsWith("Node 0 DMA free:")), m.toString());
            assertTrue(m.stream().noneMatch(l -> l.startsWith("Node 0 DMA32 free:")), m.toString());
            // __alloc_pages_may_oom: no OOM kill for a request below ZONE_NORMAL; reclaim counted for its zone
            assertTrue(m.stream().noneMatch(l -> l.contains("invoked oom-killer")), m.toString());
            assertEquals(0, k.vmstat().get(VmStat.indexOf("oom_kill")));
            assertTrue(k.vmstat().get(VmStat.ALLOCSTALL + Zone.ZONE_DMA) > 0);
            b.checkInvariants();
        }
    }

    @Test
    void fakeNumaNodesAndThisnode() {
        try (Kernel k = boot("mem=32M nr_cpus=2 numa=fake=2")) {
            final BuddyAllocator b = k.buddy();
            // zones are cut at the same pfns on every node: node 0 (the first 16 MiB) has only DMA, node 1 only DMA32
            assertEquals(2, b.zones().size());
            assertEquals("Node 0, zone DMA [0, 4096)", b.zones().get(0).toString());
            assertEquals("Node 1, zone DMA32 [4096, 8192)", b.zones().get(1).toString());
            // GFP_DMA on node 1 can only be had from node 0's ZONE_DMA (the zonelist's other-node part)
            final long d = b.allocPagesNode(Gfp.KERNEL | Gfp.DMA, 0, 1);
            assertEquals(0, k.memory().pfnToNid(d));
            assertEquals(-1, b.allocPagesNode(Gfp.KERNEL | Gfp.DMA | Gfp.THISNODE | Gfp.NOWARN, 0, 1),
                "node 1 has no DMA zone");
            b.freePages(d, 0);
            final long miss0 = k.vmstat().get(VmStat.NUMA_MISS);
            final long p = b.allocPagesNode(Gfp.KERNEL, 0, 1);
            assertEquals(1, k.memory().pfnToNid(p));
            final List<Long> got = new ArrayList<>();
            long q;
            while ((q = b.allocPagesNode(Gfp.KERNEL | Gfp.THISNODE | Gfp.NOWARN, 4, 0)) >= 0) {
                got.add(q);
            }
            assertTrue(got.stream().allMatch(x -> k.memory().pfnToNid(x) == 0));
            assertTrue(b.allocPagesNode(Gfp.KERNEL | Gfp.NOWARN, 4, 0) >= 0, "without THISNODE node 1 serves");
            assertEquals(miss0 + 1, k.vmstat().get(VmStat.NUMA_MISS), "the one allocation node 1 served for node 0");
            b.checkInvariants();
        }
    }

    @Test
    void vmstatCountsAllocationsAndFrees() {
        try (Kernel k = boot("mem=16M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final VmStat v = k.vmstat();
            // pgalloc_<zone> counts the zone that served: at mem=16M all memory is ZONE_DMA
            final long a0 = v.get(VmStat.PGALLOC + Zone.ZONE_DMA);
            final long f0 = v.get(VmStat.PGFREE);
            final long p = b.allocPages(Gfp.KERNEL, 0);
            final long q = b.allocPages(Gfp.KERNEL, 5);
            assertEquals(a0 + 1 + 32, v.get(VmStat.PGALLOC + Zone.ZONE_DMA));
            b.freePages(p, 0);
            b.freePages(q, 5);
            assertEquals(f0 + 33, v.get(VmStat.PGFREE));
            assertEquals(b.freePages(), v.get(VmStat.NR_FREE_PAGES));
            v.add(VmStat.NR_SLAB_UNRECLAIMABLE, 3);
            v.inc(VmStat.PGFAULT);
            assertEquals(3, v.get(VmStat.NR_SLAB_UNRECLAIMABLE));
            assertEquals(1, v.get(VmStat.PGFAULT));
        }
    }

    @Test
    void validateCatchesCorruption() {
        try (Kernel k = boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final Zone z = b.zones().get(0);
            final long p = b.allocPages(Gfp.KERNEL, 4);
            k.memMap().setFlag(p, MemMap.PG_BUDDY);
            assertTrue(b.validate().stream().anyMatch(e -> e.contains("PG_buddy but on no free list")),
                b.validate().toString());
            k.memMap().clearFlag(p, MemMap.PG_BUDDY);
            z.nrFree[2]++;
            assertTrue(b.validate().stream().anyMatch(e -> e.startsWith(z + ": nr_free[2]=")));
            z.nrFree[2]--;
            k.memMap().setRefcount(p, 0);
            assertTrue(b.validate().stream().anyMatch(e -> e.contains("neither free nor allocated")));
            k.memMap().setRefcount(p, 1);
            b.checkInvariants();
            final long q = z.freeHead[Zone.MAX_PAGE_ORDER][MigrateType.MOVABLE];
            z.freeHead[Zone.MAX_PAGE_ORDER][MigrateType.MOVABLE] = -1;
            assertThrows(IllegalStateException.class, b::checkInvariants);
            z.freeHead[Zone.MAX_PAGE_ORDER][MigrateType.MOVABLE] = q;
            b.checkInvariants();
        }
    }

    @Test
    void hotPathAllocatesNothingOnTheJavaHeap() throws ReflectiveOperationException {
        // through reflection: the test module does not read java.management at compile time
        final Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
            .invoke(null);
        final java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
            .getMethod("getCurrentThreadAllocatedBytes");
        try (Kernel k = boot("mem=64M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final long[] p = new long[64];
            for (int round = 0; round < 3; round++) {
                final long before = (Long) allocated.invoke(mx);
                for (int n = 0; n < 2000; n++) {
                    for (int i = 0; i < p.length; i++) {
                        p[i] = b.allocPages(Gfp.KERNEL, i & 3);
                    }
                    for (int i = 0; i < p.length; i++) {
                        b.freePages(p[i], i & 3);
                    }
                }
                final long bytes = (Long) allocated.invoke(mx) - before;
                if (round == 2) {
                    // 256000 allocations and frees, refills and drains included
                    assertTrue(bytes < 4096, "allocated " + bytes + " bytes on the Java heap");
                }
            }
            b.drainAllPages();
            b.checkInvariants();
        }
    }

    @Test
    void pcpHighGrowsWithUseAndDecaysOnStatRefresh() {
        try (Kernel k = boot("mem=256M nr_cpus=2")) {
            k.cpus().pin(0);
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            final List<Long> pages = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                pages.add(b.allocPages(Gfp.KERNEL, 0));
            }
            // each refill raised high by a batch (nr_pcp_alloc), up to high_max
            assertTrue(z.pcpHigh(0) > z.pcpHighMin(), "high " + z.pcpHigh(0));
            pages.forEach(p -> b.freePages(p, 0));
            final int high = z.pcpHigh(0);
            final int count = z.pcpCount(0);
            assertTrue(count > z.pcpHighMin(), "count " + count);
            k.procfs().write("/proc/sys/vm/stat_refresh", "1");
            assertEquals(Math.max(Math.max(count - (15 << 5), high - (high >> 3)), z.pcpHighMin()), z.pcpHigh(0));
            assertTrue(z.pcpCount(0) <= z.pcpHigh(0));
            for (int i = 0; i < 40; i++) {
                b.statRefresh();
            }
            assertEquals(z.pcpHighMin(), z.pcpHigh(0));
            assertTrue(z.pcpCount(0) <= z.pcpHighMin());
            b.checkInvariants();
        }
    }

    /**
     * The real 4 GiB split on 5 GiB of memory. Memory is reserved lazily and struct pages are deferred, so this
     * commits only the pages it touches (validation writes the deferred struct pages: one host page of mem_map
     * per 4 MiB block, 5 MiB).
     */
    @Test
    void memAbove4GiBHasADma32ZoneBelow4GiB() {
        try (Kernel k = boot("mem=5G nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            assertTrue(b.deferredPages() > (4L << 30 >>> PhysicalMemory.PAGE_SHIFT), "deferred at boot");
            // DMA below 16 MiB (pfn 0 reserved), DMA32 below 4 GiB, Normal above
            assertEquals(3, b.zones().size());
            assertEquals("DMA", b.zones().get(0).name());
            assertEquals(4095, b.zones().get(0).managedPages());
            assertEquals("DMA32", b.zones().get(1).name());
            assertEquals(4096, b.zones().get(1).startPfn());
            assertEquals(1L << 20, b.zones().get(1).endPfn());
            assertEquals((1L << 20) - 4096, b.zones().get(1).managedPages());
            assertEquals(1L << 18, b.zones().get(2).managedPages());
            assertTrue(b.zones().get(2).contains(b.allocPages(Gfp.KERNEL, 0)));
            assertTrue(b.zones().get(1).contains(b.allocPages(Gfp.KERNEL | Gfp.DMA32, 0)));
            assertTrue(b.zones().get(0).contains(b.allocPages(Gfp.KERNEL | Gfp.DMA, 0)));
            final String vmstat = k.procfs().read("/proc/vmstat");
            assertTrue(vmstat.contains("\npgalloc_dma32 1\n") && vmstat.contains("\npgalloc_dma 1\n"), vmstat);
            b.checkInvariants();
        }
    }

    @Test
    void highOrderAtomicAllocationUnderPressureReservesAHighAtomicPageblock() {
        try (Kernel k = boot("mem=256M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            final List<Long> pages = new ArrayList<>();
            long p;
            while ((p = b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0)) >= 0) {
                pages.add(p);
            }
            assertEquals(0, z.nrFree(0, MigrateType.HIGHATOMIC) + z.nrFree(1, MigrateType.HIGHATOMIC));
            // GFP_ATOMIC, order 1: the slow path sets ALLOC_HIGHATOMIC and reserve_highatomic_pageblock runs
            final long a = b.allocPages(Gfp.ATOMIC, 1);
            assertTrue(a >= 0);
            assertEquals(MigrateType.HIGHATOMIC, z.pageblockMigratetype(a));
            assertEquals(Zone.PAGEBLOCK_NR_PAGES, PageProc.zoneinfo(b).lines()
                .filter(l -> l.startsWith("  reserved_highatomic:")).mapToLong(l -> Long.parseLong(l.substring(22).strip()))
                .sum());
            final String blocks = k.procfs().read("/proc/pagetypeinfo").lines()
                .filter(l -> l.startsWith("Node 0, zone    DMA32 ")).findFirst().orElseThrow();
            assertEquals("1", blocks.substring(22).trim().split(" +")[MigrateType.HIGHATOMIC], blocks);
            b.checkInvariants();
            b.freePages(a, 1);
            pages.forEach(x -> b.freePages(x, 0));
            b.drainAllPages();
            b.checkInvariants();
            // the reserved block's free pages are HighAtomic: not counted as usable by normal allocations
            assertTrue(z.nrFree(0, MigrateType.HIGHATOMIC) + z.nrFree(1, MigrateType.HIGHATOMIC)
                + z.nrFree(Zone.PAGEBLOCK_ORDER, MigrateType.HIGHATOMIC) > 0);
        }
    }

    @Test
    void directReclaimDrainsOtherCpusListsAndNofailTakesTheReserves() {
        try (Kernel k = boot("mem=64M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final Zone z = firstZone(b);
            k.cpus().pin(1);
            final List<Long> held = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                held.add(b.allocPages(Gfp.KERNEL, 0));
            }
            held.forEach(p -> b.freePages(p, 0));
            final int onCpu1 = z.pcpCount(1);
            assertTrue(onCpu1 > 0);
            k.cpus().pin(0);
            long n = 0;
            while (b.allocPages(Gfp.NOWAIT | Gfp.NOWARN, 0) >= 0) {
                n++;
            }
            assertEquals(onCpu1, z.pcpCount(1), "GFP_NOWAIT does not reclaim: CPU 1's list stays");
            while (b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0) >= 0) {
                n++;
            }
            assertEquals(0, z.pcpCount(1), "direct reclaim drained every CPU's lists");
            assertEquals(-1, b.allocPages(Gfp.KERNEL | Gfp.NOWARN, 0));
            assertTrue(b.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 0) >= 0, "__GFP_NOFAIL gets the reserves");
            assertTrue(n > 0);
            b.checkInvariants();
        }
    }
}
