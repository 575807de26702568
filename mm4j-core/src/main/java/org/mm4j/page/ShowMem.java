package org.mm4j.page;

import org.mm4j.base.Current;
import org.mm4j.base.DumpStack;
import org.mm4j.base.KernelLog;
import org.mm4j.base.RateLimit;

import java.util.List;

/**
 * What an allocation failure prints: {@code warn_alloc} ("page allocation failure: order:N, mode:...", the
 * {@code dump_stack} and {@code show_mem}), rate-limited as the kernel's {@code nopage_rs} (one report per 10 s;
 * the suppressed ones are counted in the next), and {@code __show_mem} / {@code show_free_areas}, which the OOM
 * killer prints too.
 *
 * <p>Threads: any. The rate limit is guarded by its own monitor; {@code show_mem} reads counters racily and each
 * zone's free lists under its zone lock, as the kernel does. Nothing here changes allocator state.
 */
final class ShowMem {
    private static final long WARN_INTERVAL_NANOS = 10_000_000_000L;
    /** The path of a failing allocation, innermost first, for warn_alloc's {@code dump_stack} stand-in. */
    private static final List<String> WARN_ALLOC_TRACE = List.of("dump_stack_lvl", "warn_alloc",
        "__alloc_pages_slowpath", "__alloc_frozen_pages_noprof", "alloc_pages_mpol", "alloc_pages_noprof");

    private final BuddyAllocator buddy;
    private final KernelLog log;
    /** {@code nopage_rs}: {@code DEFINE_RATELIMIT_STATE(nopage_rs, 10 * HZ, 1)}. */
    private final RateLimit nopageRs = new RateLimit("warn_alloc", WARN_INTERVAL_NANOS, 1);

    ShowMem(final BuddyAllocator buddy) {
        this.buddy = buddy;
        this.log = buddy.log;
    }

    /**
     * The task name the kernel prints ({@code current->comm}, at most 15 characters): the model's current task
     * ({@link BuddyAllocator#setCurrent}), {@code swapper/0} without one.
     */
    static String comm(final BuddyAllocator buddy) {
        return buddy.current.get().comm();
    }

    /** {@code warn_alloc}: the failure line, the stack and {@code show_mem}, unless rate-limited. */
    void warnAlloc(final int gfp, final int order, final int highest) {
        if (!nopageRs.ok(log)) {
            return;
        }
        final int nrNodes = buddy.nrNodes;
        final String mems = nrNodes == 1 ? "0" : "0-" + (nrNodes - 1);
        log.printk("%s: page allocation failure: order:%d, mode:%#x(%s), nodemask=(null),cpuset=/,mems_allowed=%s",
            comm(buddy), order, gfp, Gfp.toString(gfp), mems);
        // warn_alloc: dump_stack() before warn_alloc_show_mem(), as mm/page_alloc.c prints them
        final Current.Task t = buddy.current.get();
        final StringBuilder stack = DumpStack.append(new StringBuilder(256), buddy.cpus.current(), t.pid(), t.comm(),
            WARN_ALLOC_TRACE);
        stack.setLength(stack.length() - 1);
        log.printk(stack.toString());
        log.printk(showMem(buddy, highest));
    }

    private static long k(final long pages) {
        return pages << (PhysicalMemory.PAGE_SHIFT - 10);
    }

    /**
     * {@code __show_mem} / {@code show_free_areas} as an allocation failure prints them: global counters, each
     * node, each zone up to {@code highestZone} with its watermarks and reserves, the free blocks per order with
     * their migratetype letters ({@code show_migration_types}: U M E H C I), hugetlb, swap and RAM totals.
     */
    static String showMem(final BuddyAllocator buddy, final int highestZone) {
        final long[] v = buddy.vmstat().snapshot();
        // show_free_areas: for_each_populated_zone, skipping zones above max_zone_idx = gfp_zone(gfp)
        final List<Zone> zones = buddy.zones().stream().filter(z -> z.type <= highestZone).toList();
        long freePcp = 0;
        for (final Zone z : zones) {
            for (final Pcp p : z.pcp) {
                freePcp += p.count;
            }
        }
        final StringBuilder sb = new StringBuilder(4096);
        sb.append("Mem-Info:\n");
        sb.append(String.format("active_anon:%d inactive_anon:%d isolated_anon:%d\n"
                + " active_file:%d inactive_file:%d isolated_file:%d\n"
                + " unevictable:%d dirty:%d writeback:%d\n"
                + " slab_reclaimable:%d slab_unreclaimable:%d\n"
                + " mapped:%d shmem:%d pagetables:%d\n"
                + " sec_pagetables:%d bounce:%d\n"
                + " kernel_misc_reclaimable:%d\n"
                + " free:%d free_pcp:%d free_cma:%d\n",
            v[VmStat.NR_ACTIVE_ANON], v[VmStat.NR_INACTIVE_ANON], v[VmStat.indexOf("nr_isolated_anon")],
            v[VmStat.NR_ACTIVE_FILE], v[VmStat.NR_INACTIVE_FILE], v[VmStat.indexOf("nr_isolated_file")],
            v[VmStat.NR_UNEVICTABLE], v[VmStat.NR_FILE_DIRTY], v[VmStat.NR_WRITEBACK],
            v[VmStat.NR_SLAB_RECLAIMABLE], v[VmStat.NR_SLAB_UNRECLAIMABLE],
            v[VmStat.NR_FILE_MAPPED], v[VmStat.NR_SHMEM], v[VmStat.NR_PAGETABLE],
            v[VmStat.NR_SECONDARY_PAGETABLE], 0, v[VmStat.NR_KERNEL_MISC_RECLAIMABLE],
            v[VmStat.NR_FREE_PAGES], freePcp, 0));
        for (int nid = 0; nid < buddy.memory().nrNodes(); nid++) {
            final long[] n = nid == 0 ? v : new long[VmStat.NR_ITEMS];
            sb.append(String.format("Node %d active_anon:%dkB inactive_anon:%dkB active_file:%dkB inactive_file:%dkB"
                    + " unevictable:%dkB isolated(anon):%dkB isolated(file):%dkB mapped:%dkB dirty:%dkB"
                    + " writeback:%dkB shmem:%dkB shmem_thp:%dkB shmem_pmdmapped:%dkB anon_thp:%dkB"
                    + " kernel_stack:%dkB pagetables:%dkB sec_pagetables:%dkB all_unreclaimable? no"
                    + " Balloon:%dkB\n",
                nid, k(n[VmStat.NR_ACTIVE_ANON]), k(n[VmStat.NR_INACTIVE_ANON]), k(n[VmStat.NR_ACTIVE_FILE]),
                k(n[VmStat.NR_INACTIVE_FILE]), k(n[VmStat.NR_UNEVICTABLE]), k(n[VmStat.indexOf("nr_isolated_anon")]),
                k(n[VmStat.indexOf("nr_isolated_file")]), k(n[VmStat.NR_FILE_MAPPED]), k(n[VmStat.NR_FILE_DIRTY]),
                k(n[VmStat.NR_WRITEBACK]), k(n[VmStat.NR_SHMEM]), k(n[VmStat.NR_SHMEM_THPS]),
                k(n[VmStat.NR_SHMEM_PMDMAPPED]), k(n[VmStat.NR_ANON_THPS]), n[VmStat.NR_KERNEL_STACK_KB],
                k(n[VmStat.NR_PAGETABLE]), k(n[VmStat.NR_SECONDARY_PAGETABLE]), k(n[VmStat.NR_BALLOON_PAGES])));
        }
        final int cpu = buddy.cpus().current();
        for (final Zone z : zones) {
            long pcp = 0;
            for (final Pcp p : z.pcp) {
                pcp += p.count;
            }
            sb.append(String.format("Node %d %s free:%dkB boost:0kB min:%dkB low:%dkB high:%dkB"
                    + " reserved_highatomic:%dKB free_highatomic:%dKB active_anon:0kB inactive_anon:0kB"
                    + " active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB zspages:0kB"
                    + " present:%dkB managed:%dkB mlocked:0kB bounce:0kB free_pcp:%dkB local_pcp:%dkB"
                    + " free_cma:0kB\n",
                z.nid, z.name, k(z.freePages), k(z.watermark[Zone.WMARK_MIN]), k(z.watermark[Zone.WMARK_LOW]),
                k(z.watermark[Zone.WMARK_HIGH]), k(z.nrReservedHighatomic), k(z.nrFreeHighatomic),
                k(z.presentPages), k(z.managedPages), k(pcp), k(z.pcp[cpu].count)));
            sb.append("lowmem_reserve[]:");
            for (int j = 0; j < Zone.MAX_NR_ZONES; j++) {
                sb.append(' ').append(z.lowmemReserve[j]);
            }
            sb.append('\n');
        }
        final String letters = "UMEHCI";
        for (final Zone z : zones) {
            sb.append(String.format("Node %d %s: ", z.nid, z.name));
            long total = 0;
            z.lock.lock();
            try {
                for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                    sb.append(String.format("%d*%dkB ", z.nrFree[o], 4L << o));
                    total += z.nrFree[o] << o;
                    if (z.nrFree[o] != 0) {
                        sb.append('(');
                        for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                            if (z.freeHead[o][mt] >= 0) {
                                sb.append(letters.charAt(mt));
                            }
                        }
                        sb.append(") ");
                    }
                }
            } finally {
                z.lock.unlock();
            }
            sb.append(String.format("= %dkB\n", k(total)));
        }
        for (int nid = 0; nid < buddy.memory().nrNodes(); nid++) {
            sb.append(String.format("Node %d hugepages_total=0 hugepages_free=0 hugepages_surp=0"
                + " hugepages_size=1048576kB\n", nid));
            sb.append(String.format("Node %d hugepages_total=0 hugepages_free=0 hugepages_surp=0"
                + " hugepages_size=2048kB\n", nid));
        }
        sb.append(String.format("%d total pagecache pages\n", v[VmStat.NR_FILE_PAGES]));
        sb.append("0 pages in swap cache\nFree swap  = 0kB\nTotal swap = 0kB\n");
        long present = 0;
        long reserved = 0;
        for (final Zone z : buddy.zones()) {
            present += z.presentPages;
            reserved += z.presentPages - z.managedPages;
        }
        sb.append(String.format("%d pages RAM\n0 pages HighMem/MovableOnly\n%d pages reserved\n"
            + "0 pages cma reserved\n0 pages hwpoisoned", present, reserved));
        return sb.toString();
    }
}
