package org.mm4j.vma;

import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.VmStat;

import java.util.HashMap;
import java.util.Map;

/**
 * The kernel-wide side of user memory: pages from the buddy allocator, the shared zero page, and the page cache
 * of each {@link VmFile.Inode} (one physical page per file page, filled from the file's content at first use).
 *
 * <p>Page ownership: a user page's {@code _mapcount} (in {@link MemMap}) counts the PTEs mapping it; an
 * anonymous page goes back to the buddy allocator when the last PTE goes, a page-cache page stays with its
 * inode. Threads: all methods are synchronized (faults of different processes may race).
 */
public final class Pager {
    static final int GFP_USER = Gfp.KERNEL | Gfp.HARDWALL;
    private final BuddyAllocator buddy;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final VmStat vmstat;
    private long zeroPfn = -1;
    private final Map<VmFile.Inode, Map<Long, Long>> pageCache = new HashMap<>();

    public Pager(final BuddyAllocator buddy, final VmStat vmstat) {
        this.buddy = buddy;
        this.mem = buddy.memory();
        this.memMap = buddy.memMap();
        this.vmstat = vmstat;
    }

    PhysicalMemory mem() {
        return mem;
    }

    void countFault() {
        if (vmstat != null) {
            vmstat.inc(VmStat.PGFAULT);
        }
    }

    /** A zeroed page (page tables, anonymous memory); -1 when memory is exhausted. */
    synchronized long allocZeroed() {
        final long pfn = buddy.allocPages(GFP_USER, 0);
        if (pfn >= 0) {
            mem.fill(pfn << 12, 4096, (byte) 0);
            memMap.spInt(pfn, MemMap.MAPCOUNT, 0);
        }
        return pfn;
    }

    synchronized void free(final long pfn) {
        buddy.freePages(pfn, 0);
    }

    /** {@code ZERO_PAGE(0)}: mapped read-only for anonymous read faults. */
    synchronized long zeroPage() {
        if (zeroPfn < 0) {
            zeroPfn = allocZeroed();
            memMap.setFlag(zeroPfn, MemMap.PG_ZERO_PAGE);
        }
        return zeroPfn;
    }

    boolean isZeroPage(final long pfn) {
        return pfn == zeroPfn;
    }

    /** The page-cache page of {@code inode} at file page {@code pgoff}, read in on first use; -1 on OOM. */
    synchronized long pageCachePage(final VmFile.Inode inode, final long pgoff) {
        final Map<Long, Long> pages = pageCache.computeIfAbsent(inode, k -> new HashMap<>());
        final Long have = pages.get(pgoff);
        if (have != null) {
            return have;
        }
        final long pfn = allocZeroed();
        if (pfn < 0) {
            return -1;
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

    int mapcount(final long pfn) {
        return memMap.lpInt(pfn, MemMap.MAPCOUNT);
    }

    void setMapcount(final long pfn, final int n) {
        memMap.spInt(pfn, MemMap.MAPCOUNT, n);
    }
}
