package org.mm4j.vma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.VmStat;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, reproduction 2: {@code __free_pages} of a page someone else owns is refused with the kernel's
 * "BUG: Bad page state" reason and changes nothing; {@code _mapcount} follows map, fork, copy-on-write and zap.
 */
class PageMisuseTest {
    static final int RW = FaultForkTest.RW;
    static final int ANON = FaultForkTest.ANON;
    private Kernel k;
    private Processes ps;
    private BuddyAllocator buddy;
    private MemMap memMap;

    @BeforeEach
    void boot() {
        k = Kernel.boot("mem=64M norandmaps");
        ps = k.processes();
        buddy = k.buddy();
        memMap = k.memMap();
    }

    @AfterEach
    void close() {
        k.close();
    }

    private long pfnOf(final MmStruct mm, final long addr) {
        final long pte = mm.pte(addr);
        assertTrue((pte & PageTables.P) != 0, "present: " + Long.toHexString(pte));
        return (pte & 0x000ffffffffff000L) >>> 12;
    }

    /** Frees and expects a refusal with {@code reason}: no page moves, the report is in dmesg. */
    private void refused(final long pfn, final int order, final String reason) {
        final long free = buddy.freePages() + buddy.pcpPages();
        final long reports = buddy.badPageReports();
        final long flags = memMap.flags(pfn);
        final int ref = memMap.refcount(pfn);
        final int mapcount = memMap.lpInt(pfn, MemMap.MAPCOUNT);
        assertFalse(buddy.freePages(pfn, order), "the free of pfn " + pfn + " must be refused");
        assertEquals(reason, buddy.lastBadPageReason());
        assertEquals(reports + 1, buddy.badPageReports());
        assertEquals(free, buddy.freePages() + buddy.pcpPages(), "no page went back");
        assertEquals(flags, memMap.flags(pfn));
        assertEquals(ref, memMap.refcount(pfn));
        assertEquals(mapcount, memMap.lpInt(pfn, MemMap.MAPCOUNT));
        final String log = String.join("\n", k.log().lines());
        assertTrue(log.contains(String.format("pfn:%05x", pfn)) && log.contains("page dumped because: " + reason),
            log);
        assertTrue(buddy.validate().isEmpty(), buddy.validate().toString());
    }

    @Test
    void aMappedPageStaysWithItsProcess() {
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 4096, RW, ANON, null, 0);
        mm.writeUser(a, (byte) 0x5a);
        final long pfn = pfnOf(mm, a);
        assertEquals(1, memMap.lpInt(pfn, MemMap.MAPCOUNT));
        refused(pfn, 0, "nonzero mapcount");
        assertEquals(0x5a, mm.readUser(a), "the process still reads its own data");
        final long other = buddy.allocPages(Gfp.KERNEL, 0);
        assertNotEquals(pfn, other, "the page was not handed out again");
        buddy.freePages(other, 0);
    }

    @Test
    void theZeroPageAndPageTablesAreNotFreed() {
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 4096, RW, ANON, null, 0);
        assertEquals(0, mm.readUser(a));
        final long zero = pfnOf(mm, a);
        assertTrue(memMap.test(zero, MemMap.PG_ZERO_PAGE));
        refused(zero, 0, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
        long tables = 0;
        for (long pfn = 0; pfn < memMap.nrPages(); pfn++) {
            if (memMap.test(pfn, MemMap.PG_PGTABLE)) {
                tables++;
                refused(pfn, 0, "page_type table still set (the page is in use as a page table)");
            }
        }
        assertEquals(4, tables, "PGD, PUD, PMD and PTE table of the one mapping");
        assertTrue(k.procfs().read("/proc/meminfo").contains("PageTables:           16 kB"),
            k.procfs().read("/proc/meminfo"));
        mm.writeUser(a + 1, (byte) 3);
        assertEquals(3, mm.readUser(a + 1), "the tables still translate");
    }

    @Test
    void aPageCachePageHasAMapping() {
        final MmStruct mm = ps.currentMm();
        final VmFile f = VmFile.open(VmFile.Inode.ofBytes(mm.inodeNumbers(), "/data",
            "hello".getBytes(StandardCharsets.US_ASCII)), "O_RDONLY");
        final long a = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE, f, 0);
        assertEquals('h', mm.readUser(a));
        final long pfn = pfnOf(mm, a);
        refused(pfn, 0, "non-NULL mapping"); // mapped too: the later check (mapping) names the reason
        assertEquals(0, mm.munmap(a, 4096));
        assertEquals(0, memMap.lpInt(pfn, MemMap.MAPCOUNT));
        refused(pfn, 0, "non-NULL mapping");
    }

    @Test
    void aLargeKmallocIsNotFreedAsPagesAndNotHandedOutTwice() {
        final long q = k.slab().kmalloc(100000, Gfp.KERNEL);
        final long pfn = PhysicalMemory.virtToPfn(q);
        refused(pfn, 5, "page_type large_kmalloc still set (a kmalloc allocation: free it with kfree)");
        final long r = k.slab().kmalloc(100000, Gfp.KERNEL);
        assertNotEquals(q, r, "two owners of one block");
        refused(pfn, 4, "page_type large_kmalloc still set (a kmalloc allocation: free it with kfree)");
        refused(pfn + 1, 0, "VM_BUG_ON_PAGE(PageTail(page))");
        k.slab().kfree(q);
        k.slab().kfree(r);
    }

    @Test
    void slabPagesAndWrongOrdersAreRefused() {
        final long obj = k.slab().kmalloc(64, Gfp.KERNEL);
        refused(PhysicalMemory.virtToPfn(obj), 0, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
        final long p = buddy.allocPages(Gfp.KERNEL, 2);
        refused(p, 1, "freed with order 1 but allocated with order 2");
        assertTrue(buddy.freePages(p, 2));
        k.slab().kfree(obj);
    }

    @Test
    void mapcountFollowsForkCowAndZap() {
        final MmStruct parent = ps.currentMm();
        final long a = parent.mmap(0, 4096, RW, ANON, null, 0);
        parent.writeUser(a, (byte) 1);
        final long pfn = pfnOf(parent, a);
        final long anon0 = k.vmstat().get(VmStat.NR_ANON_MAPPED);
        final long inactive0 = k.vmstat().get(VmStat.NR_INACTIVE_ANON);
        final int child = ps.fork();
        assertEquals(2, memMap.lpInt(pfn, MemMap.MAPCOUNT), "shared copy-on-write");
        assertEquals(anon0, k.vmstat().get(VmStat.NR_ANON_MAPPED), "AnonPages counts a shared page once");
        refused(pfn, 0, "nonzero mapcount");
        final MmStruct cm = ps.get(child).mm();
        cm.writeUser(a, (byte) 2); // copy-on-write: the child gets its own page
        assertEquals(1, memMap.lpInt(pfn, MemMap.MAPCOUNT));
        final long copy = pfnOf(cm, a);
        assertNotEquals(pfn, copy);
        assertEquals(1, memMap.lpInt(copy, MemMap.MAPCOUNT));
        assertEquals(anon0 + 1, k.vmstat().get(VmStat.NR_ANON_MAPPED));
        assertEquals(inactive0 + 1, k.vmstat().get(VmStat.NR_INACTIVE_ANON));
        ps.exit(child);
        assertEquals(anon0, k.vmstat().get(VmStat.NR_ANON_MAPPED));
        assertEquals(inactive0, k.vmstat().get(VmStat.NR_INACTIVE_ANON));
        assertEquals(0, memMap.refcount(copy), "the child's copy went back when it exited");
        assertEquals(1, parent.readUser(a));
        assertEquals(0, parent.munmap(a, 4096));
        assertEquals(0, memMap.refcount(pfn), "unmapped and freed");
        assertEquals(0, memMap.lpInt(pfn, MemMap.MAPCOUNT));
        assertEquals(anon0 - 1, k.vmstat().get(VmStat.NR_ANON_MAPPED));
        assertEquals(inactive0 - 1, k.vmstat().get(VmStat.NR_INACTIVE_ANON));
    }
}
