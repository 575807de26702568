package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The /proc files against the kernel's format strings (mm/vmstat.c, fs/proc/meminfo.c of Linux 6.18). */
class PageProcTest {
    @Test
    void buddyinfoIsFragShowPrint() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            // "Node %d, zone %8s " then "%6lu " per order; only populated zones (walk_zones_in_node with
            // assert_populated): at mem=16M all memory is below MAX_DMA_PFN, so ZONE_DMA alone
            assertEquals("Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1"
                + "      3 \n", k.procfs().read("/proc/buddyinfo"));
        }
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 numa=fake=2")) {
            final List<String> lines = k.procfs().read("/proc/buddyinfo").lines().toList();
            assertEquals(2, lines.size());
            // node 0 holds the first 16 MiB (ZONE_DMA), node 1 the next 16 MiB (ZONE_DMA32)
            assertTrue(lines.get(0).startsWith("Node 0, zone      DMA      1      1"), lines.get(0));
            assertTrue(lines.get(1).startsWith("Node 1, zone    DMA32      0      0"), lines.get(1));
        }
    }

    @Test
    void pagetypeinfoIsPagetypeinfoShow() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final String expected = """
                Page block order: 9
                Pages per block:  512

                Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10\s
                Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0\s
                Node    0, zone      DMA, type      Movable      1      1      1      1      1      1      1      1      1      1      3\s
                Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0\s
                Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0\s
                Node    0, zone      DMA, type          CMA      0      0      0      0      0      0      0      0      0      0      0\s
                Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0\s

                Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate\s
                Node 0, zone      DMA            0            8            0            0            0            0\s
                """;
            assertEquals(expected, k.procfs().read("/proc/pagetypeinfo"));
        }
    }

    private static final String[] MEMINFO_LABELS = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
        "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
        "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages",
        "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
        "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal",
        "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
        "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree", "Unaccepted", "Balloon",
        "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb",
        "DirectMap4k", "DirectMap2M", "DirectMap1G"};

    @Test
    void meminfoHasTheKernelsLinesInOrderAndLayout() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final List<String> lines = k.procfs().read("/proc/meminfo").lines().toList();
            assertEquals(MEMINFO_LABELS.length, lines.size());
            for (int i = 0; i < lines.size(); i++) {
                final String l = lines.get(i);
                assertTrue(l.startsWith(MEMINFO_LABELS[i] + ":"), l);
                if (l.startsWith("HugePages_")) {
                    assertTrue(l.matches("HugePages_\\w{4,5}: {3,4}[ \\d]{5}"), l);
                } else if (l.startsWith("HardwareCorrupted")) {
                    assertEquals("HardwareCorrupted:     0 kB", l);
                } else {
                    // show_val_kb: a 16-column label, the value in 8 columns, " kB"
                    assertTrue(l.matches(".{16}[ \\d]{7}\\d+ kB"), "'" + l + "'");
                }
            }
            assertEquals(String.format("MemTotal:       %8d kB", 4095 * 4), lines.get(0));
            assertEquals(String.format("MemFree:        %8d kB", 4095 * 4), lines.get(1));
            assertEquals("VmallocTotal:   34359738367 kB", lines.get(35));
            assertEquals("Hugepagesize:       2048 kB", lines.get(53));
        }
    }

    @Test
    void meminfoSlabLinesComeFromTheVmstatCountersAndMemFreeFromTheBuddyLists() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            k.vmstat().add(VmStat.NR_SLAB_RECLAIMABLE, 10);
            k.vmstat().add(VmStat.NR_SLAB_UNRECLAIMABLE, 5);
            final long p = k.buddy().allocPages(Gfp.KERNEL, 4);
            final String mi = k.procfs().read("/proc/meminfo");
            assertTrue(mi.contains("\nSlab:                 60 kB\n"), mi);
            assertTrue(mi.contains("\nSReclaimable:         40 kB\n"), mi);
            assertTrue(mi.contains("\nSUnreclaim:           20 kB\n"), mi);
            assertTrue(mi.contains("\nKReclaimable:         40 kB\n"), mi);
            assertTrue(mi.contains(String.format("\nMemFree:        %8d kB\n", (4095 - 16) * 4)), mi);
            // MemAvailable: free - totalreserve + reclaimable slab - min(reclaimable / 2, low watermarks)
            final BuddyAllocator b = k.buddy();
            final long low = b.zones().get(0).watermark(Zone.WMARK_LOW);
            final long avail = b.freePages() - b.totalreservePages() + 10 - Math.min(5, low);
            assertTrue(mi.contains(String.format("\nMemAvailable:   %8d kB\n", avail * 4)), mi);
            b.freePages(p, 4);
        }
    }

    @Test
    void vmstatIsOneNameValuePerLineInTheKernelsOrder() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2 mm4j.vma_store=maple")) {
            k.buddy().allocPages(Gfp.KERNEL, 0);
            k.vmstat().add(VmStat.NR_ANON_THPS, 1024);
            final List<String> lines = k.procfs().read("/proc/vmstat").lines().toList();
            // the maple tree (the default VMA store, as Linux 6.1+) has no vmacache: its two counters are not printed
            assertEquals(VmStat.NR_PRINTED + 1 - 2, lines.size());
            assertFalse(lines.stream().anyMatch(l -> l.startsWith("vmacache_")), "no vmacache counters in 6.18");
            for (final String l : lines) {
                assertTrue(l.matches("[a-z0-9_]+ \\d+"), l);
            }
            assertTrue(lines.get(0).startsWith("nr_free_pages "));
            // the unmovable refill claimed an order-10 block: two order-10 and two order-9 blocks stay free
            assertEquals("nr_free_pages_blocks " + (2 * 1024 + 2 * 512), lines.get(1));
            assertEquals("nr_unstable 0", lines.get(lines.size() - 1));
            final List<String> names = lines.stream().map(l -> l.substring(0, l.indexOf(' '))).toList();
            final String[] order = {"nr_free_pages", "nr_zone_inactive_anon", "numa_hit", "nr_inactive_anon",
                "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_anon_pages", "nr_dirty_threshold", "pgpgin",
                "pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable", "allocstall_dma", "pgfree",
                "pgfault", "pgmajfault", "thp_fault_alloc", "swap_ra", "direct_map_level3_collapses", "nr_unstable"};
            int last = -1;
            for (final String n : order) {
                final int i = names.indexOf(n);
                assertTrue(i > last, n + " out of order");
                last = i;
            }
            // pgalloc_<zone> of the zone that served: at mem=16M that is ZONE_DMA
            assertTrue(lines.contains("pgalloc_dma 1"), "pages handed out, not refilled: " + lines);
            assertTrue(lines.contains("nr_anon_transparent_hugepages 2"), "printed in THP units");
        }
    }

    @Test
    void vmstatPrintsTheVmacacheCountersOnlyWithTheRbtreeStore() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2 mm4j.vma_store=rbtree")) {
            final List<String> lines = k.procfs().read("/proc/vmstat").lines().toList();
            assertEquals(VmStat.NR_PRINTED + 1, lines.size());
            final List<String> names = lines.stream().map(l -> l.substring(0, l.indexOf(' '))).toList();
            final int calls = names.indexOf("vmacache_find_calls");
            assertTrue(calls > names.indexOf("thp_fault_alloc") && calls < names.indexOf("swap_ra"), "in 5.x order");
            assertEquals(calls + 1, names.indexOf("vmacache_find_hits"));
        }
    }

    @Test
    void minFreeKbytesSysctlRecomputesWatermarks() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final ProcFs fs = k.procfs();
            assertEquals("1023\n", fs.read("/proc/sys/vm/min_free_kbytes"));
            fs.write("/proc/sys/vm/min_free_kbytes", "4096");
            // __setup_per_zone_wmarks: pages_min 1024 split by managed pages over DMA (4095) and DMA32 (12288)
            final Zone dma = k.buddy().zones().get(0);
            final Zone z = k.buddy().zones().get(1);
            assertEquals(1024 * 4095 / 16383, dma.watermark(Zone.WMARK_MIN));
            assertEquals(1024 * 12288 / 16383, z.watermark(Zone.WMARK_MIN));
            assertEquals("4096\n", fs.read("/proc/sys/vm/min_free_kbytes"));
            assertThrows(ProcFs.ProcFsException.class, () -> fs.write("/proc/sys/vm/min_free_kbytes", "lots"));
            assertThrows(ProcFs.ProcFsException.class, () -> fs.write("/proc/sys/vm/watermark_scale_factor", "0"));
            fs.write("/proc/sys/vm/watermark_scale_factor", "1000");
            // tmp = max(768 >> 2, 12288 * 1000 / 10000)
            assertEquals(768 + 1228, z.watermark(Zone.WMARK_LOW));
            assertEquals("0\n", fs.read("/proc/sys/vm/percpu_pagelist_high_fraction"));
            assertThrows(ProcFs.ProcFsException.class,
                () -> fs.write("/proc/sys/vm/percpu_pagelist_high_fraction", "4"));
            fs.write("/proc/sys/vm/percpu_pagelist_high_fraction", "16");
            // zone_highsize: managed / fraction over the node's one CPU, no auto-tuning
            assertEquals(12288 / 16, z.pcpHighMin());
            assertEquals(12288 / 16, z.pcpHighMax());
            fs.write("/proc/sys/vm/percpu_pagelist_high_fraction", "0");
            assertEquals((768 + 1228) / 1, z.pcpHighMin());
        }
    }

    @Test
    void zoneinfoIsZoneinfoShowPrint() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final String zi = k.procfs().read("/proc/zoneinfo");
            // zoneinfo_show_print walks every zone (assert_populated false): the node's stats before its first
            // populated zone, ZONE_DMA here (all of mem=16M is below MAX_DMA_PFN); the others print up to their
            // protection line and stop (!populated_zone)
            assertTrue(zi.startsWith("""
                Node 0, zone      DMA
                  per-node stats
                      nr_inactive_anon 0
                """), zi);
            // min_free_kbytes 511 -> min 127; tmp = max(127 >> 2, 4) = 31
            assertTrue(zi.contains("""
                  pages free     4095
                        boost    0
                        min      127
                        low      158
                        high     189
                        promo    220
                        spanned  4096
                        present  4096
                        managed  4095
                        cma      0
                        protection: (0, 0, 0, 0, 0)
                      nr_free_pages 4095
                """), zi);
            assertTrue(zi.contains("""
                  pagesets
                    cpu: 0
                              count:    0
                              high:     158
                              batch:    1
                              high_min: 158
                              high_max: 511
                  vm stats threshold: 2
                  node_unreclaimable:  0
                  start_pfn:           0
                  reserved_highatomic: 0
                  free_highatomic:     0
                Node 0, zone    DMA32
                  pages free     0
                        boost    0
                        min      0
                        low      0
                        high     0
                        promo    0
                        spanned  0
                        present  0
                        managed  0
                        cma      0
                        protection: (0, 0, 0, 0, 0)
                Node 0, zone   Normal
                  pages free     0
                """), zi);
            assertTrue(zi.endsWith("Node 0, zone   Device\n  pages free     0\n        boost    0\n        min      0"
                + "\n        low      0\n        high     0\n        promo    0\n        spanned  0\n        present  0"
                + "\n        managed  0\n        cma      0\n        protection: (0, 0, 0, 0, 0)\n"), zi);
        }
    }

    @Test
    void pgfreeCountsTheBootFreesAsLinuxDoes() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            assertEquals(4095, k.vmstat().get(VmStat.PGFREE));
        }
    }

    @Test
    void zoneinfoAt256MiBShowsDmaAndDma32WithTheirProtection() {
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=1")) {
            final String zi = k.procfs().read("/proc/zoneinfo");
            // x86-64: DMA below 16 MiB (4096 pages, pfn 0 reserved), DMA32 the rest below 4 GiB, Normal empty
            assertTrue(zi.contains("""
                        spanned  4096
                        present  4096
                        managed  4095
                        cma      0
                        protection: (0, 240, 240, 240, 240)
                """), zi);
            assertTrue(zi.contains("""
                        spanned  61440
                        present  61440
                        managed  61440
                        cma      0
                        protection: (0, 0, 0, 0, 0)
                """), zi);
            assertTrue(zi.contains("  start_pfn:           4096\n"), zi);
            assertTrue(zi.contains("Node 0, zone   Normal\n  pages free     0\n"), zi);
            final List<String> bi = k.procfs().read("/proc/buddyinfo").lines().toList();
            assertEquals(2, bi.size(), "buddyinfo lists populated zones only: " + bi);
            assertTrue(bi.get(0).startsWith("Node 0, zone      DMA ") && bi.get(1).startsWith("Node 0, zone    DMA32 "));
            final String pti = k.procfs().read("/proc/pagetypeinfo");
            assertFalse(pti.contains("Normal"), pti);
            // free_area_init: "Zone ranges:", "  %-8s " then the range over all nodes or "empty" (Movable skipped)
            final List<String> log = k.log().messages();
            final int at = log.indexOf("Zone ranges:");
            assertTrue(at >= 0, log.toString());
            assertEquals(List.of("  DMA      [mem 0x0000000000000000-0x0000000000ffffff]",
                "  DMA32    [mem 0x0000000001000000-0x000000000fffffff]", "  Normal   empty", "  Device   empty"),
                log.subList(at + 1, at + 5));
        }
    }

    @Test
    void lowmemReserveRatioSysctlRecomputesTheProtection() {
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=1")) {
            final ProcFs fs = k.procfs();
            final Zone dma = k.buddy().zones().get(0);
            // sysctl_lowmem_reserve_ratio of 6.18: DMA 256, DMA32 256, Normal 32, Movable 0 (and Device 0);
            // proc_dointvec prints them tab-separated
            assertEquals("256\t256\t32\t0\t0\n", fs.read("/proc/sys/vm/lowmem_reserve_ratio"));
            assertEquals(61440 / 256, dma.lowmemReserve(Zone.ZONE_NORMAL));
            fs.write("/proc/sys/vm/lowmem_reserve_ratio", "128 64");
            assertEquals("128\t64\t32\t0\t0\n", fs.read("/proc/sys/vm/lowmem_reserve_ratio"));
            assertEquals(61440 / 128, dma.lowmemReserve(Zone.ZONE_DMA32));
            assertTrue(fs.read("/proc/zoneinfo").contains("protection: (0, 480, 480, 480, 480)"));
            // lowmem_reserve_ratio_sysctl_handler: a ratio below 1 becomes 0, which clears the reserve
            fs.write("/proc/sys/vm/lowmem_reserve_ratio", "-7");
            assertEquals("0\t64\t32\t0\t0\n", fs.read("/proc/sys/vm/lowmem_reserve_ratio"));
            assertEquals(0, dma.lowmemReserve(Zone.ZONE_NORMAL));
            assertThrows(ProcFs.ProcFsException.class, () -> fs.write("/proc/sys/vm/lowmem_reserve_ratio", "many"));
            assertThrows(ProcFs.ProcFsException.class,
                () -> fs.write("/proc/sys/vm/lowmem_reserve_ratio", "1 2 3 4 5 6"));
            assertEquals("0\t64\t32\t0\t0\n", fs.read("/proc/sys/vm/lowmem_reserve_ratio"), "a refused write changes nothing");
        }
    }
}
