package org.mm4j.page;

import org.mm4j.base.ProcFs;

import java.util.List;

/**
 * The page allocator's /proc files, printed with the kernel's format strings: {@code /proc/buddyinfo}
 * ({@code frag_show_print}), {@code /proc/pagetypeinfo} ({@code pagetypeinfo_show}), {@code /proc/meminfo}
 * ({@code meminfo_proc_show}, {@code hugetlb_report_meminfo}, x86 {@code arch_report_meminfo}),
 * {@code /proc/vmstat} ({@code vmstat_show}), {@code /proc/zoneinfo} ({@code zoneinfo_show_print}), and the sysctls
 * {@code /proc/sys/vm/min_free_kbytes}, {@code watermark_scale_factor}, {@code percpu_pagelist_high_fraction} and
 * {@code lowmem_reserve_ratio}. buddyinfo and pagetypeinfo list the populated zones only (their
 * {@code walk_zones_in_node} asserts {@code populated_zone}); zoneinfo lists every zone type of a node, an empty
 * one up to its {@code protection:} line.
 *
 * <p>Lines for things the model does not have (swap, page cache, hugetlb pools, CMA) print 0, keeping the
 * kernel's line order. Threads: any; each view reads counters racily, under zone locks where the kernel takes them.
 */
public final class PageProc {
    /** x86-64 4-level paging: VMALLOC_SIZE_TB 32, in kB ({@code VMALLOC_TOTAL >> 10}). */
    static final long VMALLOC_TOTAL_KB = (32L << 40) / 1024 - 1;
    /** HPAGE_PMD_NR on x86-64. */
    static final int HPAGE_PMD_NR = 512;
    /** {@code sysctl_overcommit_ratio} default. */
    static final int OVERCOMMIT_RATIO = 50;

    private PageProc() {
    }

    /** Registers every file of the page allocator in {@code procfs}. */
    public static void register(final ProcFs procfs, final BuddyAllocator buddy) {
        procfs.registerFile("/proc/buddyinfo", () -> buddyinfo(buddy));
        procfs.registerFile("/proc/pagetypeinfo", () -> pagetypeinfo(buddy));
        procfs.registerFile("/proc/meminfo", () -> meminfo(buddy));
        procfs.registerFile("/proc/vmstat", () -> vmstat(buddy));
        procfs.registerFile("/proc/zoneinfo", () -> zoneinfo(buddy));
        procfs.registerFile("/proc/sys/vm/min_free_kbytes", () -> buddy.minFreeKbytes() + "\n");
        procfs.registerWriter("/proc/sys/vm/min_free_kbytes", v -> buddy.setMinFreeKbytes(sysctlInt(
            "min_free_kbytes", v, 0, Integer.MAX_VALUE)));
        procfs.registerFile("/proc/sys/vm/watermark_scale_factor", () -> buddy.watermarkScaleFactor() + "\n");
        procfs.registerFile("/proc/sys/vm/stat_refresh", () -> {
            buddy.statRefresh();
            return "";
        });
        procfs.registerWriter("/proc/sys/vm/stat_refresh", v -> buddy.statRefresh());
        procfs.registerFile("/proc/sys/vm/percpu_pagelist_high_fraction",
            () -> buddy.percpuPagelistHighFraction() + "\n");
        procfs.registerWriter("/proc/sys/vm/percpu_pagelist_high_fraction", v -> {
            final int f = sysctlInt("percpu_pagelist_high_fraction", v, 0, Integer.MAX_VALUE);
            try {
                buddy.setPercpuPagelistHighFraction(f);
            } catch (final IllegalArgumentException e) {
                throw new ProcFs.ProcFsException("write error: Invalid argument (" + e.getMessage() + ")");
            }
        });
        procfs.registerFile("/proc/sys/vm/lowmem_reserve_ratio", () -> lowmemReserveRatio(buddy));
        procfs.registerWriter("/proc/sys/vm/lowmem_reserve_ratio", v -> {
            try {
                buddy.setLowmemReserveRatio(sysctlInts("lowmem_reserve_ratio", v));
            } catch (final IllegalArgumentException e) {
                throw new ProcFs.ProcFsException("write error: Invalid argument (" + e.getMessage() + ")");
            }
        });
        procfs.registerWriter("/proc/sys/vm/watermark_scale_factor", v -> buddy.setWatermarkScaleFactor(sysctlInt(
            "watermark_scale_factor", v, 1, 3000)));
    }

    /** {@code proc_dointvec} of an int array: the values separated by tabs, then a newline. */
    static String lowmemReserveRatio(final BuddyAllocator buddy) {
        final StringBuilder sb = new StringBuilder();
        for (final int r : buddy.lowmemReserveRatio()) {
            sb.append(sb.isEmpty() ? "" : "\t").append(r);
        }
        return sb.append('\n').toString();
    }

    /** {@code proc_dointvec} writing an int array: whitespace-separated decimal numbers, at least one. */
    private static int[] sysctlInts(final String name, final String value) {
        final String t = value.strip();
        final String[] parts = t.isEmpty() ? new String[0] : t.split("\\s+");
        if (parts.length == 0) {
            throw new ProcFs.ProcFsException("write error: Invalid argument (" + name + ": no value)");
        }
        final int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (final NumberFormatException e) {
                throw new ProcFs.ProcFsException("write error: Invalid argument (" + name + ": '" + parts[i]
                    + "' is not a number)");
            }
        }
        return out;
    }

    private static int sysctlInt(final String name, final String value, final int min, final int max) {
        try {
            final int n = Integer.parseInt(value.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (final NumberFormatException e) {
            // reported below
        }
        throw new ProcFs.ProcFsException("write error: Invalid argument (" + name + "=" + value.strip()
            + ", expected " + min + " to " + max + ")");
    }

    /** {@code /proc/buddyinfo}: free blocks per order, one line per populated zone. */
    static String buddyinfo(final BuddyAllocator buddy) {
        final StringBuilder sb = new StringBuilder();
        for (final Zone z : buddy.zones()) {
            z.lock.lock();
            try {
                sb.append(String.format("Node %d, zone %8s ", z.nid, z.name));
                for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                    sb.append(String.format("%6d ", z.nrFree[o]));
                }
            } finally {
                z.lock.unlock();
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** {@code /proc/pagetypeinfo}: free blocks per order and migratetype, pageblocks per migratetype. */
    static String pagetypeinfo(final BuddyAllocator buddy) {
        final StringBuilder sb = new StringBuilder();
        final int nrNodes = buddy.memory().nrNodes();
        for (int nid = 0; nid < nrNodes; nid++) {
            final int node = nid;
            final List<Zone> zones = buddy.zones().stream().filter(z -> z.nid == node).toList();
            sb.append(String.format("Page block order: %d\n", Zone.PAGEBLOCK_ORDER));
            sb.append(String.format("Pages per block:  %d\n", Zone.PAGEBLOCK_NR_PAGES));
            sb.append('\n');
            sb.append(String.format("%-43s ", "Free pages count per migrate type at order"));
            for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                sb.append(String.format("%6d ", o));
            }
            sb.append('\n');
            for (final Zone z : zones) {
                z.lock.lock();
                try {
                    for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                        sb.append(String.format("Node %4d, zone %8s, type %12s ", z.nid, z.name, MigrateType.name(mt)));
                        for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                            final long n = z.freeCount[o][mt];
                            sb.append(String.format("%s%6d ", n >= 100000 ? ">" : "", Math.min(n, 100000)));
                        }
                        sb.append('\n');
                    }
                } finally {
                    z.lock.unlock();
                }
            }
            sb.append(String.format("\n%-23s", "Number of blocks type "));
            for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                sb.append(String.format("%12s ", MigrateType.name(mt)));
            }
            sb.append('\n');
            for (final Zone z : zones) {
                final long[] count = new long[MigrateType.TYPES];
                z.lock.lock();
                try {
                    for (final byte mt : z.pageblockMt) {
                        count[mt]++;
                    }
                } finally {
                    z.lock.unlock();
                }
                sb.append(String.format("Node %d, zone %8s ", z.nid, z.name));
                for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                    sb.append(String.format("%12d ", count[mt]));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static void kb(final StringBuilder sb, final String label, final long pages) {
        sb.append(String.format("%s%8d kB\n", label, pages << (PhysicalMemory.PAGE_SHIFT - 10)));
    }

    /** {@code si_mem_available}: free pages a new workload could use without swapping, in pages. */
    static long memAvailable(final BuddyAllocator buddy, final long[] v) {
        long wmarkLow = 0;
        for (final Zone z : buddy.zones()) {
            wmarkLow += z.watermark(Zone.WMARK_LOW);
        }
        long available = v[VmStat.NR_FREE_PAGES] - buddy.totalreservePages();
        long pagecache = v[VmStat.NR_ACTIVE_FILE] + v[VmStat.NR_INACTIVE_FILE];
        pagecache -= Math.min(pagecache / 2, wmarkLow);
        available += pagecache;
        long reclaimable = v[VmStat.NR_SLAB_RECLAIMABLE] + v[VmStat.NR_KERNEL_MISC_RECLAIMABLE];
        reclaimable -= Math.min(reclaimable / 2, wmarkLow);
        available += reclaimable;
        return Math.max(0, available);
    }

    /** {@code /proc/meminfo} in the kernel's line order and {@code "%-16s%8lu kB"} layout. */
    static String meminfo(final BuddyAllocator buddy) {
        final long[] v = buddy.vmstat().snapshot();
        final long totalram = buddy.totalramPages();
        final long sreclaimable = v[VmStat.NR_SLAB_RECLAIMABLE];
        final long sunreclaim = v[VmStat.NR_SLAB_UNRECLAIMABLE];
        final long cached = Math.max(0, v[VmStat.NR_FILE_PAGES]);
        final StringBuilder sb = new StringBuilder(2048);
        kb(sb, "MemTotal:       ", totalram);
        kb(sb, "MemFree:        ", v[VmStat.NR_FREE_PAGES]);
        kb(sb, "MemAvailable:   ", memAvailable(buddy, v));
        kb(sb, "Buffers:        ", 0);
        kb(sb, "Cached:         ", cached);
        kb(sb, "SwapCached:     ", 0);
        kb(sb, "Active:         ", v[VmStat.NR_ACTIVE_ANON] + v[VmStat.NR_ACTIVE_FILE]);
        kb(sb, "Inactive:       ", v[VmStat.NR_INACTIVE_ANON] + v[VmStat.NR_INACTIVE_FILE]);
        kb(sb, "Active(anon):   ", v[VmStat.NR_ACTIVE_ANON]);
        kb(sb, "Inactive(anon): ", v[VmStat.NR_INACTIVE_ANON]);
        kb(sb, "Active(file):   ", v[VmStat.NR_ACTIVE_FILE]);
        kb(sb, "Inactive(file): ", v[VmStat.NR_INACTIVE_FILE]);
        kb(sb, "Unevictable:    ", v[VmStat.NR_UNEVICTABLE]);
        kb(sb, "Mlocked:        ", v[VmStat.NR_MLOCK]);
        kb(sb, "SwapTotal:      ", 0);
        kb(sb, "SwapFree:       ", 0);
        kb(sb, "Zswap:          ", 0);
        sb.append(String.format("Zswapped:       %8d kB\n", 0));
        kb(sb, "Dirty:          ", v[VmStat.NR_FILE_DIRTY]);
        kb(sb, "Writeback:      ", v[VmStat.NR_WRITEBACK]);
        kb(sb, "AnonPages:      ", v[VmStat.NR_ANON_MAPPED]);
        kb(sb, "Mapped:         ", v[VmStat.NR_FILE_MAPPED]);
        kb(sb, "Shmem:          ", v[VmStat.NR_SHMEM]);
        kb(sb, "KReclaimable:   ", sreclaimable + v[VmStat.NR_KERNEL_MISC_RECLAIMABLE]);
        kb(sb, "Slab:           ", sreclaimable + sunreclaim);
        kb(sb, "SReclaimable:   ", sreclaimable);
        kb(sb, "SUnreclaim:     ", sunreclaim);
        sb.append(String.format("KernelStack:    %8d kB\n", v[VmStat.NR_KERNEL_STACK_KB]));
        kb(sb, "PageTables:     ", v[VmStat.NR_PAGETABLE]);
        kb(sb, "SecPageTables:  ", v[VmStat.NR_SECONDARY_PAGETABLE]);
        kb(sb, "NFS_Unstable:   ", 0);
        kb(sb, "Bounce:         ", 0);
        kb(sb, "WritebackTmp:   ", 0);
        // vm_commit_limit() from the overcommit sysctls when processes exist, else the default ratio
        kb(sb, "CommitLimit:    ", v[VmStat.COMMIT_LIMIT] > 0 ? v[VmStat.COMMIT_LIMIT]
            : totalram * OVERCOMMIT_RATIO / 100);
        kb(sb, "Committed_AS:   ", Math.max(0, v[VmStat.COMMITTED_AS]));
        sb.append(String.format("VmallocTotal:   %8d kB\n", VMALLOC_TOTAL_KB));
        kb(sb, "VmallocUsed:    ", v[VmStat.NR_VMALLOC]);
        kb(sb, "VmallocChunk:   ", 0);
        kb(sb, "Percpu:         ", 0);
        sb.append(String.format("HardwareCorrupted: %5d kB\n", 0));
        kb(sb, "AnonHugePages:  ", v[VmStat.NR_ANON_THPS]);
        kb(sb, "ShmemHugePages: ", v[VmStat.NR_SHMEM_THPS]);
        kb(sb, "ShmemPmdMapped: ", v[VmStat.NR_SHMEM_PMDMAPPED]);
        kb(sb, "FileHugePages:  ", v[VmStat.NR_FILE_THPS]);
        kb(sb, "FilePmdMapped:  ", v[VmStat.NR_FILE_PMDMAPPED]);
        kb(sb, "CmaTotal:       ", 0);
        kb(sb, "CmaFree:        ", v[VmStat.NR_FREE_CMA]);
        kb(sb, "Unaccepted:     ", 0);
        kb(sb, "Balloon:        ", v[VmStat.NR_BALLOON_PAGES]);
        sb.append(String.format("HugePages_Total:   %5d\n", 0));
        sb.append(String.format("HugePages_Free:    %5d\n", 0));
        sb.append(String.format("HugePages_Rsvd:    %5d\n", 0));
        sb.append(String.format("HugePages_Surp:    %5d\n", 0));
        sb.append(String.format("Hugepagesize:   %8d kB\n", HPAGE_PMD_NR * (PhysicalMemory.PAGE_SIZE >> 10)));
        sb.append(String.format("Hugetlb:        %8d kB\n", 0));
        // the direct map of the model: 2 MiB mappings (memory comes in 4 MiB units)
        sb.append(String.format("DirectMap4k:    %8d kB\n", 0));
        sb.append(String.format("DirectMap2M:    %8d kB\n", buddy.memory().totalBytes() >> 10));
        sb.append(String.format("DirectMap1G:    %8d kB\n", 0));
        return sb.toString();
    }

    /** {@code /proc/vmstat}: "name value" per counter, then the deprecated {@code nr_unstable 0}. */
    static String vmstat(final BuddyAllocator buddy) {
        final long[] v = buddy.vmstat().snapshot();
        for (final int i : VmStat.PRINT_IN_THP) {
            v[i] /= HPAGE_PMD_NR;
        }
        final int pgpgin = VmStat.indexOf("pgpgin");
        v[pgpgin] /= 2;
        v[pgpgin + 1] /= 2;
        final StringBuilder sb = new StringBuilder(8192);
        for (int i = 0; i < VmStat.NR_PRINTED; i++) {
            if (!buddy.vmstat().printed(i)) {
                continue;
            }
            sb.append(VmStat.name(i)).append(' ').append(v[i]).append('\n');
        }
        sb.append("nr_unstable 0\n");
        return sb.toString();
    }

    /** The kernel's {@code fls()}: the 1-based index of the highest set bit, 0 for 0. */
    static int fls(final long x) {
        return 64 - Long.numberOfLeadingZeros(x);
    }

    /** {@code calculate_normal_threshold}: the per-CPU vmstat drift a zone tolerates. */
    static int statThreshold(final long managedPages, final int cpus) {
        final long mem = managedPages >> (27 - PhysicalMemory.PAGE_SHIFT);
        return (int) Math.min(125, 2L * fls(cpus) * (1 + fls(mem)));
    }

    /**
     * {@code /proc/zoneinfo}: every zone type of every node (unpopulated ones with their zeros), the node's
     * counters before its first populated zone (the model keeps node counters globally and shows them on node 0),
     * free pages, watermarks, lowmem protection, zone counters, and each CPU's pageset.
     */
    static String zoneinfo(final BuddyAllocator buddy) {
        final long[] v = buddy.vmstat().snapshot();
        for (final int i : VmStat.PRINT_IN_THP) {
            v[i] /= HPAGE_PMD_NR;
        }
        final int nrCpus = buddy.cpus().nrCpus();
        final StringBuilder sb = new StringBuilder(8192);
        for (int nid = 0; nid < buddy.memory().nrNodes(); nid++) {
            boolean first = true;
            for (int type = 0; type < Zone.MAX_NR_ZONES; type++) {
                Zone z = null;
                for (final Zone c : buddy.zones()) {
                    if (c.nid == nid && c.type == type) {
                        z = c;
                    }
                }
                sb.append(String.format("Node %d, zone %8s", nid, Zone.ZONE_NAMES[type]));
                if (z != null && first) {
                    first = false;
                    sb.append("\n  per-node stats");
                    for (int i = VmStat.NR_INACTIVE_ANON; i <= VmStat.NR_BALLOON_PAGES; i++) {
                        sb.append(String.format("\n      %-12s %d", VmStat.name(i), nid == 0 ? v[i] : 0));
                    }
                }
                sb.append(String.format("\n  pages free     %d\n        boost    %d\n        min      %d"
                        + "\n        low      %d\n        high     %d\n        promo    %d\n        spanned  %d"
                        + "\n        present  %d\n        managed  %d\n        cma      %d",
                    z == null ? 0 : z.freePages, 0, z == null ? 0 : z.watermark[Zone.WMARK_MIN],
                    z == null ? 0 : z.watermark[Zone.WMARK_LOW], z == null ? 0 : z.watermark[Zone.WMARK_HIGH],
                    z == null ? 0 : z.watermark[Zone.WMARK_PROMO], z == null ? 0 : z.spannedPages(),
                    z == null ? 0 : z.presentPages, z == null ? 0 : z.managedPages, 0));
                sb.append("\n        protection: (");
                for (int j = 0; j < Zone.MAX_NR_ZONES; j++) {
                    sb.append(j == 0 ? "" : ", ").append(z == null ? 0 : z.lowmemReserve[j]);
                }
                sb.append(')');
                if (z == null) {
                    sb.append('\n');
                    continue;
                }
                final long[] ev = BuddyAllocator.zoneEvents(z);
                for (int i = VmStat.NR_FREE_PAGES; i <= VmStat.indexOf("nr_unaccepted"); i++) {
                    final long val = i == VmStat.NR_FREE_PAGES ? z.freePages
                        : i == VmStat.NR_FREE_PAGES_BLOCKS ? z.freeBlocksPages : 0;
                    sb.append(String.format("\n      %-12s %d", VmStat.name(i), val));
                }
                final long[] numa = {ev[Zone.EV_NUMA_HIT], ev[Zone.EV_NUMA_MISS], ev[Zone.EV_NUMA_FOREIGN], 0,
                    ev[Zone.EV_NUMA_LOCAL], ev[Zone.EV_NUMA_OTHER]};
                for (int i = 0; i < numa.length; i++) {
                    sb.append(String.format("\n      %-12s %d", VmStat.name(VmStat.NUMA_HIT + i), numa[i]));
                }
                sb.append("\n  pagesets");
                for (int cpu = 0; cpu < nrCpus; cpu++) {
                    final Pcp p = z.pcp[cpu];
                    sb.append(String.format("\n    cpu: %d\n              count:    %d\n              high:     %d"
                            + "\n              batch:    %d\n              high_min: %d\n              high_max: %d",
                        cpu, p.count, p.high, p.batch, p.highMin, p.highMax));
                    sb.append(String.format("\n  vm stats threshold: %d", statThreshold(z.managedPages, nrCpus)));
                }
                sb.append(String.format("\n  node_unreclaimable:  %d\n  start_pfn:           %d"
                        + "\n  reserved_highatomic: %d\n  free_highatomic:     %d\n",
                    0, z.startPfn, z.nrReservedHighatomic, z.nrFreeHighatomic));
            }
        }
        return sb.toString();
    }

    /**
     * {@code __show_mem} / {@code show_free_areas} as an allocation failure prints them (zones up to
     * {@code highestZone}); the OOM killer prints it too.
     */
    public static String showMem(final BuddyAllocator buddy, final int highestZone) {
        return ShowMem.showMem(buddy, highestZone);
    }
}
