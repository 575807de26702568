package org.mm4j.vma;

import org.mm4j.base.KernelLog;
import org.mm4j.base.RateLimit;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.VmStat;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel-wide side of user memory: pages from the buddy allocator, the shared zero page, and the page cache
 * of each {@link VmFile.Inode} (one physical page per file page, filled from the file's content at first use).
 *
 * <p>Page ownership: a user page's {@code _mapcount} (in {@link MemMap}) counts the PTEs mapping it; an
 * anonymous page goes back to the buddy allocator when the last PTE goes, a page-cache page stays with its
 * inode (its {@link MemMap#MAPPING} names the inode), a page-table page carries {@link MemMap#PG_PGTABLE} (and
 * counts in {@code nr_page_table_pages}) until its table is freed. The buddy allocator refuses to free a page in
 * any of these states.
 *
 * <p>Out of memory: {@link #allocUser} and {@link #allocTable} invoke the {@link OomKiller} (when one is attached)
 * and retry as {@code __alloc_pages_slowpath} does after {@code __alloc_pages_may_oom} made progress; they return
 * -1 when nothing could be freed, and throw {@link ProcessKilledException} when the faulting process itself was the
 * victim.
 *
 * <p>Threads: the page-cache and zero-page methods are synchronized (faults of different processes may race);
 * {@link #allocUser}/{@link #allocTable} are not, so that the OOM killer never runs under this object's monitor.
 */
final class Pager {
    static final int GFP_USER = Gfp.KERNEL | Gfp.HARDWALL;
    /** {@code vma_alloc_folio(GFP_HIGHUSER_MOVABLE, 0, ...)}: an anonymous or copy-on-write page (a folio). */
    static final int GFP_USER_PAGE = Gfp.HIGHUSER_MOVABLE | Gfp.COMP;
    /** {@code GFP_PGTABLE_USER}: a page-table page. */
    static final int GFP_PGTABLE_USER = Gfp.KERNEL_ACCOUNT | Gfp.ZERO;
    private final BuddyAllocator buddy;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final VmStat vmstat;
    private long zeroPfn = -1;
    private final Map<VmFile.Inode, Map<Long, Long>> pageCache = new HashMap<>();
    private volatile OomKiller oomKiller;
    /** The process table and log {@link #warnOnce} names the process in and prints to (null: no messages). */
    private volatile Processes procs;
    private volatile KernelLog log;
    private volatile Overcommit overcommit;
    /** The {@code pr_warn_once} sites that have printed (each prints once per boot). */
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    public Pager(final BuddyAllocator buddy, final VmStat vmstat) {
        this.buddy = buddy;
        this.mem = buddy.memory();
        this.memMap = buddy.memMap();
        this.vmstat = vmstat;
    }

    /** Makes allocation failures of user memory invoke {@code killer} (null: they just fail). */
    void setOomKiller(final OomKiller killer) {
        this.oomKiller = killer;
    }

    /** Names the process table and kernel log the one-time warnings of {@link #warnOnce} go to. */
    void attachKernel(final Processes processes, final KernelLog kernelLog, final Overcommit policy) {
        this.procs = processes;
        this.log = kernelLog;
        this.overcommit = policy;
    }

    /**
     * {@code security_vm_enough_memory_mm(mm, pages)}: 0, or -ENOMEM when the overcommit policy refuses
     * {@code pages} more committed pages; always 0 without a kernel (a bare replay).
     */
    int vmEnoughMemory(final MmStruct mm, final long pages) {
        final Overcommit o = overcommit;
        return o == null || pages <= 0 ? 0 : o.vmEnoughMemory(mm, pages);
    }

    /**
     * {@code pr_warn_once("%s (%d): ...", current->comm, current->pid)}: prints {@code text} after the comm and pid
     * of the process owning {@code mm}, the first time {@code site} warns on this kernel; later calls print nothing.
     */
    void warnOnce(final String site, final MmStruct mm, final String text) {
        final KernelLog l = log;
        final Processes p = procs;
        if (l == null || p == null || !warned.add(site)) {
            return;
        }
        final Processes.Task t = p.taskOf(mm);
        l.printk("%s (%d): %s", t == null ? "mm4j" : t.comm(), t == null ? 0 : t.pid(), text);
    }

    /** {@code pfoom_rs}: the rate limit of {@link #pagefaultOutOfMemory}'s warning. */
    private final RateLimit pfoomRs = new RateLimit("pagefault_out_of_memory");

    /**
     * {@code pagefault_out_of_memory} (mm/oom_kill.c): a {@code VM_FAULT_OOM} that reached the fault handler (an
     * anon_vma or chain that could not be had) is warned of, rate-limited, and the access is retried.
     */
    void pagefaultOutOfMemory() {
        final KernelLog l = log;
        if (l != null && pfoomRs.ok(l)) {
            l.printk("Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF");
        }
    }

    BuddyAllocator buddy() {
        return buddy;
    }

    PhysicalMemory mem() {
        return mem;
    }

    /** {@code pglazyfree} (pages MADV_FREE marked) and {@code pglazyfreed} (lazyfree pages reclaimed). */
    void countLazyfree(final long marked, final long freed) {
        if (vmstat != null) {
            vmstat.add(VmStat.PGLAZYFREE, marked);
            vmstat.add(VmStat.PGLAZYFREED, freed);
        }
    }

    void countFault() {
        if (vmstat != null) {
            vmstat.inc(VmStat.PGFAULT);
        }
    }

    /** A zeroed page (page cache, the zero page); -1 when memory is exhausted (no OOM killer). */
    synchronized long allocZeroed() {
        return allocZeroedGfp(oomKiller == null ? GFP_USER : GFP_USER | Gfp.NORETRY);
    }

    private long allocZeroedGfp(final int gfp) {
        final long pfn = buddy.allocPages(gfp, 0);
        if (pfn >= 0) {
            mem.fill(pfn << 12, 4096, (byte) 0);
            memMap.spInt(pfn, MemMap.MAPCOUNT, 0);
            memMap.spLong(pfn, MemMap.MAPPING, 0);
        }
        return pfn;
    }

    /**
     * A zeroed page of user memory for a fault in {@code current} (which may be null: no process to blame), with
     * the OOM killer behind it; -1 when none can be had. Throws {@link ProcessKilledException} when the OOM killer
     * chose the faulting process. {@code site} names the kernel function that allocates, for the report.
     */
    long allocUser(final MmStruct current, final String site) {
        final long pfn = allocRetrying(current, GFP_USER_PAGE, site);
        if (pfn >= 0 && vmstat != null) {
            vmstat.add(VmStat.NR_INACTIVE_ANON, 1); // a new anonymous folio goes to the inactive anon LRU
        }
        return pfn;
    }

    /** A page-table page ({@code pte_alloc_one}, {@link MemMap#PG_PGTABLE} set); as {@link #allocUser}. */
    long allocTable(final MmStruct current, final String site) {
        final long pfn = allocRetrying(current, GFP_PGTABLE_USER, site);
        if (pfn >= 0) {
            memMap.setFlag(pfn, MemMap.PG_PGTABLE);
            if (vmstat != null) {
                vmstat.add(VmStat.NR_PAGETABLE, 1);
            }
        }
        return pfn;
    }

    /** {@code pte_free}: a page-table page goes back to the buddy allocator. */
    void freeTable(final long pfn) {
        memMap.clearFlag(pfn, MemMap.PG_PGTABLE);
        if (vmstat != null) {
            vmstat.add(VmStat.NR_PAGETABLE, -1);
        }
        free(pfn);
    }

    private long allocRetrying(final MmStruct current, final int gfp, final String site) {
        while (true) {
            final OomKiller k = oomKiller;
            final long pfn;
            synchronized (this) {
                // with an OOM killer the failure is reported by it, not by warn_alloc; NORETRY: the buddy
                // allocator must not run the killer itself (this thread holds this monitor)
                pfn = allocZeroedGfp(k == null ? gfp : gfp | Gfp.NOWARN | Gfp.NORETRY);
            }
            if (pfn >= 0) {
                return pfn;
            }
            // reclaim before the OOM killer: clean lazyfree pages are discarded. The model reclaims them in the
            // faulting process (whose lock this thread holds), never taking a second mm's lock
            if (current != null && Thread.holdsLock(current) && current.reclaimLazyfree() > 0) {
                continue;
            }
            if (k == null || !k.outOfMemory(current, gfp, 0, site)) {
                return -1;
            }
        }
    }

    /** A user page nobody maps any more goes back to the buddy allocator. */
    synchronized void free(final long pfn) {
        buddy.freePages(pfn, 0);
    }

    /** {@code ZERO_PAGE(0)}: mapped read-only for anonymous read faults. */
    synchronized long zeroPage() {
        if (zeroPfn < 0) {
            final long pfn = allocZeroed();
            if (pfn < 0) {
                return -1;
            }
            zeroPfn = pfn;
            memMap.setFlag(zeroPfn, MemMap.PG_ZERO_PAGE);
        }
        return zeroPfn;
    }

    boolean isZeroPage(final long pfn) {
        return pfn == zeroPfn;
    }

    /** {@link #pageCachePage(VmFile.Inode, long)} with the OOM killer behind it, for a fault in {@code current}. */
    long pageCachePage(final VmFile.Inode inode, final long pgoff, final MmStruct current) {
        while (true) {
            final long pfn = pageCachePage(inode, pgoff);
            if (pfn >= 0) {
                return pfn;
            }
            final OomKiller k = oomKiller;
            if (k == null || !k.outOfMemory(current, GFP_USER_PAGE, 0, "filemap_fault")) {
                return -1;
            }
        }
    }

    /** The page-cache page of {@code inode} at file page {@code pgoff}, read in on first use; -1 on OOM. */
    synchronized long pageCachePage(final VmFile.Inode inode, final long pgoff) {
        final Map<Long, Long> pages = pageCache.computeIfAbsent(inode, k -> new HashMap<>());
        final Long have = pages.get(pgoff);
        if (have != null) {
            return have;
        }
        final long pfn = allocZeroedGfp(oomKiller == null ? GFP_USER_PAGE
            : GFP_USER_PAGE | Gfp.NOWARN | Gfp.NORETRY);
        if (pfn < 0) {
            return -1;
        }
        memMap.spLong(pfn, MemMap.MAPPING, inode.ino != 0 ? inode.ino : System.identityHashCode(inode) | 1L);
        if (vmstat != null) {
            vmstat.add(VmStat.NR_FILE_PAGES, 1);
            vmstat.add(VmStat.NR_INACTIVE_FILE, 1);
        }
        final byte[] buf = new byte[4096];
        inode.read(pgoff << 12, buf);
        mem.segmentOf(pfn << 12).asSlice(mem.nodeOffset(pfn << 12), 4096)
            .copyFrom(java.lang.foreign.MemorySegment.ofArray(buf));
        pages.put(pgoff, pfn);
        return pfn;
    }

    /** Whether {@code pfn} belongs to a page cache (not freed when unmapped). */
    synchronized boolean isPageCache(final long pfn) {
        for (final Map<Long, Long> m : pageCache.values()) {
            if (m.containsValue(pfn)) {
                return true;
            }
        }
        return false;
    }

    /**
     * One more PTE maps {@code pfn} ({@code folio_add_*_rmap}): the first mapping counts the page in
     * {@code nr_anon_mapped} (AnonPages) or {@code nr_mapped} (Mapped); the zero page is not counted.
     */
    void mapPage(final long pfn, final boolean anon) {
        final int mc = mapcount(pfn);
        setMapcount(pfn, mc + 1);
        if (mc == 0 && vmstat != null && pfn != zeroPfn) {
            vmstat.add(anon ? VmStat.NR_ANON_MAPPED : VmStat.NR_FILE_MAPPED, 1);
        }
    }

    /** One PTE less maps {@code pfn} ({@code folio_remove_rmap_pte}); returns the mapcount left. */
    int unmapPage(final long pfn, final boolean anon) {
        final int mc = Math.max(0, mapcount(pfn) - 1);
        setMapcount(pfn, mc);
        if (mc == 0 && vmstat != null && pfn != zeroPfn) {
            vmstat.add(anon ? VmStat.NR_ANON_MAPPED : VmStat.NR_FILE_MAPPED, -1);
        }
        return mc;
    }

    /** An anonymous page nobody maps any more: off the (model's notional) inactive anon LRU, back to the buddy. */
    void freeAnon(final long pfn) {
        if (vmstat != null) {
            vmstat.add(VmStat.NR_INACTIVE_ANON, -1);
        }
        free(pfn);
    }

    int mapcount(final long pfn) {
        return memMap.lpInt(pfn, MemMap.MAPCOUNT);
    }

    void setMapcount(final long pfn, final int n) {
        memMap.spInt(pfn, MemMap.MAPCOUNT, n);
    }
}
