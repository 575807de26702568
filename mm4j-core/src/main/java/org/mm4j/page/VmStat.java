package org.mm4j.page;

import org.mm4j.base.InternalApi;
import org.mm4j.base.CpuSlots;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The VM statistics of {@code mm/vmstat.c}: every counter {@code /proc/vmstat} prints, in the kernel's order
 * ({@code vmstat_text[]} of Linux 6.18 on x86-64 with NUMA, CMA, THP, swap, zswap, KSM, compaction, migration,
 * hugetlb and balloon configured, ZONE_DMA/DMA32/NORMAL/MOVABLE/DEVICE zones), plus the vmacache counters that
 * Linux printed under CONFIG_DEBUG_VM_VMACACHE until 6.0, printed only when the vma layer runs the 5.x store that
 * has a vmacache ({@link #setVmacacheCounters}), and a few counters the model keeps but /proc/vmstat does not
 * print ({@link #COMMITTED_AS}).
 *
 * <p>Layout: one {@code long[]} with a stripe of {@link #NR_ITEMS} cells (padded to whole cache lines) per CPU
 * slot. {@link #add} adds to the calling thread's slot with one atomic add (two threads may share a slot, so a
 * plain add could lose updates); readers sum the stripes, as {@code global_node_page_state} sums the per-CPU
 * diffs. Units follow the kernel: pages for {@code nr_*} items (note: the kernel's NR_SLAB_*_B are bytes inside,
 * here {@link #NR_SLAB_RECLAIMABLE} and {@link #NR_SLAB_UNRECLAIMABLE} are pages, which is what /proc prints),
 * kB for {@code nr_kernel_stack}, events for the rest.
 *
 * <p>Threads: {@link #add}/{@link #inc} from any thread, allocation-free; {@link #snapshot()} from any thread, racy
 * against concurrent updates exactly like the kernel's summation (each cell is read atomically). Subsystems that
 * keep counters under their own per-CPU locks (the page allocator's pcp lists) contribute through
 * {@link #addFolder}; derived values (free pages) are filled in by the page allocator's /proc/vmstat view.
 */
public final class VmStat {
    private static final String[] PRINTED = {
        // enum zone_stat_item
        "nr_free_pages", "nr_free_pages_blocks", "nr_zone_inactive_anon", "nr_zone_active_anon",
        "nr_zone_inactive_file", "nr_zone_active_file", "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock",
        "nr_zspages", "nr_free_cma", "nr_unaccepted",
        // enum numa_stat_item
        "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
        // enum node_stat_item
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable",
        "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file", "workingset_nodes",
        "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
        "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file", "workingset_nodereclaim",
        "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem",
        "nr_shmem_hugepages", "nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped",
        "nr_anon_transparent_hugepages", "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_dirtied",
        "nr_written", "nr_throttled_written", "nr_kernel_misc_reclaimable", "nr_foll_pin_acquired",
        "nr_foll_pin_released", "nr_vmalloc", "nr_kernel_stack", "nr_page_table_pages", "nr_sec_page_table_pages",
        "nr_iommu_pages", "nr_swapcached", "pgpromote_success", "pgpromote_candidate", "pgpromote_candidate_nrl",
        "pgdemote_kswapd", "pgdemote_direct", "pgdemote_khugepaged", "pgdemote_proactive", "pgsteal_kswapd",
        "pgsteal_direct", "pgsteal_khugepaged", "pgsteal_proactive", "pgsteal_anon", "pgsteal_file",
        "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_proactive", "pgscan_anon", "pgscan_file",
        "pgrefill", "nr_hugetlb", "nr_balloon_pages",
        // enum vm_stat_item
        "nr_dirty_threshold", "nr_dirty_background_threshold", "nr_memmap_pages", "nr_memmap_boot_pages",
        // enum vm_event_item
        "pgpgin", "pgpgout", "pswpin", "pswpout",
        "pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable", "pgalloc_device",
        "allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable", "allocstall_device",
        "pgskip_dma", "pgskip_dma32", "pgskip_normal", "pgskip_movable", "pgskip_device",
        "pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault", "pgmajfault", "pglazyfreed", "pgreuse",
        "pgscan_direct_throttle", "zone_reclaim_success", "zone_reclaim_failed", "pginodesteal", "slabs_scanned",
        "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly", "kswapd_high_wmark_hit_quickly", "pageoutrun",
        "pgrotated", "drop_pagecache", "drop_slab", "oom_kill",
        "numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local",
        "numa_pages_migrated", "pgmigrate_success", "pgmigrate_fail", "thp_migration_success",
        "thp_migration_fail", "thp_migration_split", "compact_migrate_scanned", "compact_free_scanned",
        "compact_isolated", "compact_stall", "compact_fail", "compact_success", "compact_daemon_wake",
        "compact_daemon_migrate_scanned", "compact_daemon_free_scanned", "htlb_buddy_alloc_success",
        "htlb_buddy_alloc_fail", "cma_alloc_success", "cma_alloc_fail", "unevictable_pgs_culled",
        "unevictable_pgs_scanned", "unevictable_pgs_rescued", "unevictable_pgs_mlocked",
        "unevictable_pgs_munlocked", "unevictable_pgs_cleared", "unevictable_pgs_stranded",
        "thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge", "thp_collapse_alloc",
        "thp_collapse_alloc_failed", "thp_file_alloc", "thp_file_fallback", "thp_file_fallback_charge",
        "thp_file_mapped", "thp_split_page", "thp_split_page_failed", "thp_deferred_split_page",
        "thp_underused_split_page", "thp_split_pmd", "thp_scan_exceed_none_pte", "thp_scan_exceed_swap_pte",
        "thp_scan_exceed_share_pte", "thp_split_pud", "thp_zero_page_alloc", "thp_zero_page_alloc_failed",
        "thp_swpout", "thp_swpout_fallback", "balloon_inflate", "balloon_deflate", "balloon_migrate",
        // CONFIG_DEBUG_VM_VMACACHE (Linux 3.15 to 6.0; the model's vma layer keeps a vmacache)
        "vmacache_find_calls", "vmacache_find_hits",
        "swap_ra", "swap_ra_hit", "swpin_zero", "swpout_zero", "ksm_swpin_copy", "cow_ksm",
        "zswpin", "zswpout", "zswpwb",
        "direct_map_level2_splits", "direct_map_level3_splits", "direct_map_level2_collapses",
        "direct_map_level3_collapses",
    };
    /** Kept but not printed by /proc/vmstat. */
    private static final String[] HIDDEN = {"committed_as", "commit_limit"};

    private static final Map<String, Integer> INDEX = new HashMap<>();

    static {
        for (int i = 0; i < PRINTED.length; i++) {
            INDEX.put(PRINTED[i], i);
        }
        for (int i = 0; i < HIDDEN.length; i++) {
            INDEX.put(HIDDEN[i], PRINTED.length + i);
        }
    }

    /** Number of counters /proc/vmstat prints. */
    public static final int NR_PRINTED = PRINTED.length;
    /** Number of counters kept. */
    public static final int NR_ITEMS = PRINTED.length + HIDDEN.length;

    public static final int NR_FREE_PAGES = idx("nr_free_pages");
    public static final int NR_FREE_PAGES_BLOCKS = idx("nr_free_pages_blocks");
    public static final int NR_MLOCK = idx("nr_mlock");
    public static final int NR_FREE_CMA = idx("nr_free_cma");
    public static final int NUMA_HIT = idx("numa_hit");
    public static final int NUMA_MISS = idx("numa_miss");
    public static final int NUMA_FOREIGN = idx("numa_foreign");
    public static final int NUMA_LOCAL = idx("numa_local");
    public static final int NUMA_OTHER = idx("numa_other");
    public static final int NR_INACTIVE_ANON = idx("nr_inactive_anon");
    public static final int NR_ACTIVE_ANON = idx("nr_active_anon");
    public static final int NR_INACTIVE_FILE = idx("nr_inactive_file");
    public static final int NR_ACTIVE_FILE = idx("nr_active_file");
    public static final int NR_UNEVICTABLE = idx("nr_unevictable");
    /** Reclaimable slab pages (the kernel's NR_SLAB_RECLAIMABLE_B, kept here in pages). */
    public static final int NR_SLAB_RECLAIMABLE = idx("nr_slab_reclaimable");
    /** Unreclaimable slab pages (the kernel's NR_SLAB_UNRECLAIMABLE_B, kept here in pages). */
    public static final int NR_SLAB_UNRECLAIMABLE = idx("nr_slab_unreclaimable");
    public static final int NR_ANON_MAPPED = idx("nr_anon_pages");
    public static final int NR_FILE_MAPPED = idx("nr_mapped");
    public static final int NR_FILE_PAGES = idx("nr_file_pages");
    public static final int NR_FILE_DIRTY = idx("nr_dirty");
    public static final int NR_WRITEBACK = idx("nr_writeback");
    public static final int NR_SHMEM = idx("nr_shmem");
    public static final int NR_SHMEM_THPS = idx("nr_shmem_hugepages");
    public static final int NR_SHMEM_PMDMAPPED = idx("nr_shmem_pmdmapped");
    public static final int NR_FILE_THPS = idx("nr_file_hugepages");
    public static final int NR_FILE_PMDMAPPED = idx("nr_file_pmdmapped");
    /** Pages in anonymous THPs (printed in /proc/vmstat divided by HPAGE_PMD_NR, as the kernel does). */
    public static final int NR_ANON_THPS = idx("nr_anon_transparent_hugepages");
    public static final int NR_KERNEL_MISC_RECLAIMABLE = idx("nr_kernel_misc_reclaimable");
    public static final int NR_VMALLOC = idx("nr_vmalloc");
    /** Kernel stacks in kB, as the kernel keeps NR_KERNEL_STACK_KB. */
    public static final int NR_KERNEL_STACK_KB = idx("nr_kernel_stack");
    public static final int NR_PAGETABLE = idx("nr_page_table_pages");
    public static final int NR_SECONDARY_PAGETABLE = idx("nr_sec_page_table_pages");
    public static final int NR_HUGETLB = idx("nr_hugetlb");
    public static final int NR_BALLOON_PAGES = idx("nr_balloon_pages");
    public static final int NR_DIRTY_THRESHOLD = idx("nr_dirty_threshold");
    public static final int NR_DIRTY_BG_THRESHOLD = idx("nr_dirty_background_threshold");
    public static final int NR_MEMMAP_PAGES = idx("nr_memmap_pages");
    public static final int NR_MEMMAP_BOOT_PAGES = idx("nr_memmap_boot_pages");
    /** {@code pgalloc_<zone>}: add {@link Zone#type()} to get the zone's counter. */
    public static final int PGALLOC = idx("pgalloc_dma");
    public static final int ALLOCSTALL = idx("allocstall_dma");
    public static final int PGFREE = idx("pgfree");
    public static final int PGACTIVATE = idx("pgactivate");
    public static final int PGDEACTIVATE = idx("pgdeactivate");
    public static final int PGLAZYFREE = idx("pglazyfree");
    public static final int PGFAULT = idx("pgfault");
    public static final int PGMAJFAULT = idx("pgmajfault");
    public static final int PGLAZYFREED = idx("pglazyfreed");
    public static final int PGREUSE = idx("pgreuse");
    public static final int SLABS_SCANNED = idx("slabs_scanned");
    public static final int DROP_SLAB = idx("drop_slab");
    public static final int OOM_KILL = idx("oom_kill");
    public static final int PGMIGRATE_SUCCESS = idx("pgmigrate_success");
    public static final int PGMIGRATE_FAIL = idx("pgmigrate_fail");
    public static final int COMPACT_STALL = idx("compact_stall");
    public static final int THP_FAULT_ALLOC = idx("thp_fault_alloc");
    public static final int THP_FAULT_FALLBACK = idx("thp_fault_fallback");
    public static final int THP_SPLIT_PAGE = idx("thp_split_page");
    public static final int THP_SPLIT_PMD = idx("thp_split_pmd");
    public static final int THP_ZERO_PAGE_ALLOC = idx("thp_zero_page_alloc");
    public static final int VMACACHE_FIND_CALLS = idx("vmacache_find_calls");
    public static final int VMACACHE_FIND_HITS = idx("vmacache_find_hits");
    public static final int COW_KSM = idx("cow_ksm");
    /** Committed address space in pages ({@code vm_committed_as}, /proc/meminfo Committed_AS). */
    public static final int COMMITTED_AS = idx("committed_as");
    /** {@code vm_commit_limit()} in pages (/proc/meminfo CommitLimit), filled in by the overcommit policy. */
    public static final int COMMIT_LIMIT = idx("commit_limit");

    /** Items /proc/vmstat prints in units of HPAGE_PMD_NR pages ({@code vmstat_item_print_in_thp}). */
    static final int[] PRINT_IN_THP = {NR_SHMEM_THPS, NR_SHMEM_PMDMAPPED, NR_FILE_THPS, NR_FILE_PMDMAPPED,
        NR_ANON_THPS};

    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
    /** Cells per CPU stripe: the items rounded up to whole 64-byte lines, plus one line so stripes never share. */
    private static final int STRIDE = ((NR_ITEMS + 7) & ~7) + 8;

    private final CpuSlots cpus;
    private final long[] cells;
    /** Whether /proc/vmstat prints vmacache_find_calls/_hits (set once at boot by the vma layer). */
    private volatile boolean vmacacheCounters;
    private final List<Consumer<long[]>> folders = new CopyOnWriteArrayList<>();

    @InternalApi("org.mm4j")
    public VmStat(final CpuSlots cpus) {
        this.cpus = cpus;
        this.cells = new long[cpus.nrCpus() * STRIDE];
    }

    private static int idx(final String name) {
        return INDEX.get(name);
    }

    /**
     * Whether {@code /proc/vmstat} prints {@code vmacache_find_calls}/{@code vmacache_find_hits}: only a kernel
     * with a vmacache has them (Linux before 6.1; the model's {@code mm4j.vma_store=rbtree}). Off by default.
     */
    public void setVmacacheCounters(final boolean printed) {
        this.vmacacheCounters = printed;
    }

    /** Whether {@code /proc/vmstat} prints counter {@code item} ({@code item < NR_PRINTED}). */
    public boolean printed(final int item) {
        return vmacacheCounters || item != VMACACHE_FIND_CALLS && item != VMACACHE_FIND_HITS;
    }

    /** The index of a counter by its /proc/vmstat name, or -1. */
    static int indexOf(final String name) {
        final Integer i = INDEX.get(name);
        return i == null ? -1 : i;
    }

    /** The /proc/vmstat name of counter {@code item}. */
    static String name(final int item) {
        return item < PRINTED.length ? PRINTED[item] : HIDDEN[item - PRINTED.length];
    }

    /** {@code count_vm_event}: adds one to {@code item} on the calling thread's CPU slot. */
    public void inc(final int item) {
        xaddCell(cpus.current() * STRIDE + item, 1L);
    }

    /** {@code count_vm_events} / {@code mod_node_page_state}: adds {@code delta} (may be negative). */
    public void add(final int item, final long delta) {
        xaddCell(cpus.current() * STRIDE + item, delta);
    }

    /** Registers a function that adds counters kept elsewhere into a snapshot. */
    public void addFolder(final Consumer<long[]> folder) {
        folders.add(folder);
    }

    /** The sum over all CPU slots of every counter ({@link #NR_ITEMS} values). */
    public long[] snapshot() {
        final long[] v = new long[NR_ITEMS];
        for (int cpu = 0; cpu < cpus.nrCpus(); cpu++) {
            final int base = cpu * STRIDE;
            for (int i = 0; i < NR_ITEMS; i++) {
                v[i] += lvCell(base + i);
            }
        }
        for (final Consumer<long[]> f : folders) {
            f.accept(v);
        }
        return v;
    }

    /** One counter's global value (sums every slot; not for hot paths). */
    public long get(final int item) {
        return snapshot()[item];
    }

    /** Atomic add to one cell ({@code xadd}). */
    private void xaddCell(final int index, final long delta) {
        CELL.getAndAdd(cells, index, delta);
    }

    /** Volatile read of one cell ({@code lv}). */
    private long lvCell(final int index) {
        return (long) CELL.getVolatile(cells, index);
    }
}
