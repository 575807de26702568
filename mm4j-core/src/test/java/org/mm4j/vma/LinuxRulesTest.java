package org.mm4j.vma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rows of the Linux 6.18 deviation audit (issue 15): each test names the kernel rule it checks, on a kernel booted
 * as a new user would ({@code mem=256M nr_cpus=2}).
 */
class LinuxRulesTest {
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    private Kernel k;
    private MmStruct mm;

    @BeforeEach
    void boot() {
        k = Kernel.boot("mem=256M nr_cpus=2 norandmaps");
        mm = k.processes().currentMm();
    }

    @AfterEach
    void close() {
        k.close();
    }

    /** mm/mlock.c, SYSCALL_DEFINE3(mlock2): {@code if (flags & ~MLOCK_ONFAULT) return -EINVAL;}. */
    @Test
    void mlock2RejectsFlagsOtherThanOnfault() {
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        assertEquals(-Errno.EINVAL, mm.mlock2(a, 4096, 7));
        assertEquals(-Errno.EINVAL, mm.mlock2(a, 4096, 2));
        assertFalse(mm.smaps().contains(" lo "), "a refused mlock2 locks nothing");
        assertEquals(0, mm.mlock2(a, 4096, MmStruct.MLOCK_ONFAULT));
        assertEquals(0, mm.rss()[0], "MLOCK_ONFAULT faults nothing in");
        assertEquals(0, mm.mlock2(a + 4096, 4096, 0));
        assertEquals(1, mm.rss()[0], "flags 0 populates its page");
    }

    /**
     * mm/madvise.c: MADV_FREE on a VM_LOCKED VMA fails {@code madvise_dontneed_free_valid_vma}; MADV_COLD and
     * MADV_PAGEOUT fail {@code can_madv_lru_vma} (VM_LOCKED|VM_PFNMAP|VM_HUGETLB); all -EINVAL.
     */
    @Test
    void lruAdviceAndFreeRefusedOnLockedVma() {
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        mm.writeUser(a, (byte) 9);
        assertEquals(0, mm.mlock(a, 2 * 4096));
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, Mman.MADV_FREE));
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, Mman.MADV_COLD));
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, Mman.MADV_PAGEOUT));
        assertEquals(9, mm.readUser(a), "nothing was freed");
        assertEquals(0, mm.munlock(a, 2 * 4096));
        assertEquals(0, mm.madvise(a, 4096, Mman.MADV_COLD));
        assertEquals(0, mm.madvise(a, 4096, Mman.MADV_PAGEOUT));
    }

    /**
     * mm/khugepaged.c, madvise_collapse: {@code thp_vma_allowable_order(..., PMD_ORDER)} is false for a VMA with no
     * PMD-aligned 2 MiB range inside it ({@code thp_vma_suitable_order}) or with VM_NOHUGEPAGE: -EINVAL.
     */
    @Test
    void collapseNeedsAPmdSizedRange() {
        final long small = mm.mmap(0, 4 * 4096, RW, ANON, null, 0);
        assertEquals(-Errno.EINVAL, mm.madvise(small, 4 * 4096, Mman.MADV_COLLAPSE));
        final long pmd = MmStruct.PMD_SIZE;
        final long big = mm.mmap(0, 3 * pmd, RW, ANON, null, 0);
        final long aligned = (big + pmd - 1) & ~(pmd - 1);
        assertEquals(0, mm.madvise(aligned, pmd, Mman.MADV_COLLAPSE));
        assertEquals(0, mm.madvise(aligned, pmd, Mman.MADV_NOHUGEPAGE));
        assertEquals(-Errno.EINVAL, mm.madvise(aligned, pmd, Mman.MADV_COLLAPSE), "VM_NOHUGEPAGE");
    }

    /** fs/proc/task_mmu.c, show_smap: {@code seq_printf(m, "THPeligible:    %8u\n", ...)}. */
    @Test
    void smapsThpEligibleIsPrintedEightWide() {
        mm.mmap(0, 4096, RW, ANON, null, 0);
        final String smaps = mm.smaps();
        assertTrue(smaps.contains("\nTHPeligible:" + " ".repeat(11) + "0\n"), smaps);
        assertFalse(smaps.contains("THPeligible:    0"), smaps);
    }

    /** mm/memory.c: {@code __setup("norandmaps", disable_randmaps)} makes it a known parameter. */
    @Test
    void norandmapsIsAKnownParameter() {
        assertFalse(k.params().unknown().contains("norandmaps"));
        assertTrue(k.log().lines().stream().noneMatch(l -> l.contains("Unknown kernel command line")),
            String.join("\n", k.log().lines()));
        assertEquals(0x7ffff7fff000L, mm.mmapBase(), "and it still turns randomisation off");
    }
    /**
     * mm/mremap.c (the old_len == 0 check of the mremap VMA checks): duplicating a private mapping is -EINVAL with
     * {@code pr_warn_once("%s (%d): attempted to duplicate a private mapping with mremap.  This is not supported.")};
     * a shared mapping may be duplicated.
     */
    @Test
    void mremapDuplicatingAPrivateMappingWarnsOnce() {
        final String warning = "mm4j (1): attempted to duplicate a private mapping with mremap.  This is not"
            + " supported.";
        final long a = mm.mmap(0, 4096, RW, ANON, null, 0);
        k.log().clear();
        assertEquals(-Errno.EINVAL, mm.mremap(a, 0, 4096, Mman.MREMAP_MAYMOVE, 0));
        assertEquals(List.of(warning), k.log().messages());
        assertEquals(-Errno.EINVAL, mm.mremap(a, 0, 8192, Mman.MREMAP_MAYMOVE, 0));
        assertEquals(List.of(warning), k.log().messages(), "pr_warn_once: printed once per boot");
        final long s = mm.mmap(0, 4096, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS, null, 0);
        final long dup = mm.mremap(s, 0, 4096, Mman.MREMAP_MAYMOVE, 0);
        assertTrue(dup > 0 && dup != s, Long.toHexString(dup));
    }
    /**
     * mm/filemap.c, filemap_fault (and shmem_fault): a page index at or beyond {@code DIV_ROUND_UP(i_size,
     * PAGE_SIZE)} is {@code VM_FAULT_SIGBUS}; the partial last page is mapped (zeros after EOF).
     */
    @Test
    void accessToAPageWhollyPastEndOfFileIsSigbus() {
        final byte[] content = new byte[2048];
        content[2047] = 42;
        final VmFile f = VmFile.open(VmFile.Inode.of(mm.inodeNumbers(), "/half", 2048, content), "O_RDWR");
        final long s = mm.mmap(0, 2 * 4096, RW, Mman.MAP_SHARED, f, 0);
        assertTrue(s > 0);
        assertEquals(42, mm.readUser(s + 2047));
        mm.writeUser(s + 3000, (byte) 1); // past EOF, but inside the last (partial) page
        final BusError e = assertThrows(BusError.class, () -> mm.writeUser(s + 4096, (byte) 1));
        assertEquals(BusError.BUS_ADRERR, e.code());
        assertEquals(s + 4096, e.address());
        assertEquals("Bus error at 0x" + Long.toHexString(s + 4096) + " (BUS_ADRERR)", e.getMessage());
        assertThrows(BusError.class, () -> mm.readUser(s + 4096 + 5), "a read faults the same way");
        assertEquals(0, mm.pte(s + 4096) & PageTables.P, "the page past EOF is not mapped");
        assertTrue((mm.pte(s) & PageTables.P) != 0);
        // a private mapping of the same file, and the populating calls: get_user_pages sees -EFAULT
        final long p = mm.mmap(0, 2 * 4096, RW, Mman.MAP_PRIVATE, f, 0);
        assertThrows(BusError.class, () -> mm.writeUser(p + 4096, (byte) 1));
        assertEquals(-Errno.EFAULT, mm.madvise(p, 2 * 4096, Mman.MADV_POPULATE_WRITE));
        assertEquals(-Errno.ENOMEM, mm.mlock(p, 2 * 4096), "__mlock_posix_error_return: EFAULT becomes ENOMEM");
        assertTrue(mm.mmap(0, 2 * 4096, RW, Mman.MAP_SHARED | Mman.MAP_POPULATE, f, 0) > 0,
            "MAP_POPULATE ignores the failure");
    }
    private long meminfoKb(final String field) {
        for (final String l : k.procfs().read("/proc/meminfo").split("\n")) {
            if (l.startsWith(field + ":")) {
                return Long.parseLong(l.substring(field.length() + 1).replace("kB", "").strip());
            }
        }
        throw new AssertionError("no " + field + " in /proc/meminfo");
    }

    /**
     * mm/util.c, __vm_enough_memory under OVERCOMMIT_GUESS (the default, vm.overcommit_memory=0): a request of more
     * pages than totalram_pages() + swap is -ENOMEM with the rate-limited "not enough memory for the allocation"
     * warning; mmap charges private writable mappings (accountable_mapping), do_brk_flags charges brk growth.
     */
    @Test
    void theDefaultHeuristicRefusesARequestLargerThanRam() {
        assertEquals("0\n", k.procfs().read("/proc/sys/vm/overcommit_memory"));
        k.log().clear();
        assertEquals(-Errno.ENOMEM, mm.mmap(0, 1L << 30, RW, ANON, null, 0), "1 GiB on mem=256M");
        assertTrue(k.log().messages().stream().anyMatch(l -> l.equals("__vm_enough_memory: pid: 1, comm: mm4j, bytes: "
            + (1L << 30) + " not enough memory for the allocation")), k.log().messages().toString());
        final long brk0 = mm.brkValue();
        assertEquals(brk0, mm.brk(brk0 + (4L << 30)), "brk growing by 4 GiB fails: brk stays");
        // not accounted, so not charged: read-only, shared, MAP_NORESERVE
        assertTrue(mm.mmap(0, 1L << 30, Mman.PROT_READ, ANON, null, 0) > 0);
        assertTrue(mm.mmap(0, 1L << 30, RW, ANON | Mman.MAP_NORESERVE, null, 0) > 0);
        // 128 MiB fits the heuristic; making a 1 GiB read-only private mapping writable is charged (mprotect_fixup)
        assertTrue(mm.mmap(0, 128L << 20, RW, ANON, null, 0) > 0);
        final long ro = mm.mmap(0, 1L << 30, Mman.PROT_READ, ANON, null, 0);
        assertEquals(-Errno.ENOMEM, mm.mprotect(ro, 1L << 30, RW));
        // vm.overcommit_memory=1: always
        k.procfs().write("/proc/sys/vm/overcommit_memory", "1");
        assertTrue(mm.mmap(0, 1L << 30, RW, ANON, null, 0) > 0);
        assertEquals(brk0 + (4L << 30), mm.brk(brk0 + (4L << 30)));
    }

    /**
     * mm/util.c: Committed_AS is vm_committed_as (the VM_ACCOUNT pages), CommitLimit is vm_commit_limit()
     * (overcommit_kbytes, else overcommit_ratio percent of RAM, plus swap); under OVERCOMMIT_NEVER a charge fails
     * once Committed_AS would pass CommitLimit less min(total_vm / 32, user_reserve).
     */
    @Test
    void strictOvercommitFollowsCommitLimitAndCommittedAs() {
        final long committed0 = meminfoKb("Committed_AS");
        assertTrue(committed0 > 0, "the stack and the data segment are accounted");
        final long a = mm.mmap(0, 64L << 20, RW, ANON, null, 0);
        assertEquals(committed0 + (64L << 10), meminfoKb("Committed_AS"));
        mm.mmap(0, 64L << 20, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS, null, 0);
        assertEquals(committed0 + (64L << 10), meminfoKb("Committed_AS"), "shared: not VM_ACCOUNT");
        assertEquals(0, mm.munmap(a, 32L << 20));
        assertEquals(committed0 + (32L << 10), meminfoKb("Committed_AS"));
        final long totalKb = meminfoKb("MemTotal");
        assertEquals(totalKb / 4 * 50 / 100 * 4, meminfoKb("CommitLimit"), "overcommit_ratio 50, in pages");
        k.procfs().write("/proc/sys/vm/overcommit_kbytes", "65536");
        assertEquals("0\n", k.procfs().read("/proc/sys/vm/overcommit_ratio"), "kbytes zeroes the ratio");
        assertEquals(65536, meminfoKb("CommitLimit"));
        k.procfs().write("/proc/sys/vm/overcommit_memory", "2");
        final long room = 65536 - meminfoKb("Committed_AS");
        assertEquals(-Errno.ENOMEM, mm.mmap(0, (room + 4) << 10, RW, ANON, null, 0));
        assertTrue(mm.mmap(0, (room / 2) << 10, RW, ANON, null, 0) > 0, "what fits is granted");
        k.procfs().write("/proc/sys/vm/overcommit_ratio", "100");
        assertEquals("0\n", k.procfs().read("/proc/sys/vm/overcommit_kbytes"));
        assertEquals(totalKb, meminfoKb("CommitLimit"));
        assertEquals(k.vmstat().snapshot()[org.mm4j.page.VmStat.COMMITTED_AS] * 4, meminfoKb("Committed_AS"));
    }

    /** mm/memory.c, mm/rmap.c: touched anonymous pages count in AnonPages, Inactive(anon), nr_anon_pages and their
     *  page tables in PageTables. */
    @Test
    void anonymousPagesAndPageTablesAreCounted() {
        final long anon0 = meminfoKb("AnonPages");
        final long inactive0 = meminfoKb("Inactive(anon)");
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        mm.writeUser(a, (byte) 1);
        mm.writeUser(a + 4096, (byte) 1);
        assertEquals(anon0 + 8, meminfoKb("AnonPages"));
        assertEquals(inactive0 + 8, meminfoKb("Inactive(anon)"), "new anonymous folios start inactive (since 5.9)");
        assertTrue(meminfoKb("PageTables") > 0);
        assertTrue(k.procfs().read("/proc/vmstat").contains("\nnr_anon_pages " + (anon0 / 4 + 2) + "\n"));
        assertEquals(0, mm.munmap(a, 2 * 4096));
        assertEquals(anon0, meminfoKb("AnonPages"));
    }
    /**
     * mm/madvise.c, madvise_free_pte_range: MADV_FREE marks exclusive anonymous pages lazyfree (PTE cleaned,
     * folio_mark_lazyfree); they stay in Rss and show in smaps LazyFree, keep their contents until reclaim
     * (shrink_folio_list discards clean lazyfree folios), and a write before that keeps the page.
     */
    @Test
    void madvFreeMakesPagesLazyfreeUntilReclaim() {
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        mm.writeUser(a, (byte) 11);
        mm.writeUser(a + 4096, (byte) 22);
        final long lazy0 = k.vmstat().get(org.mm4j.page.VmStat.PGLAZYFREE);
        assertEquals(0, mm.madvise(a, 2 * 4096, Mman.MADV_FREE));
        String smaps = mm.smaps();
        assertTrue(smaps.contains("Rss:                   8 kB"), smaps);
        assertTrue(smaps.contains("LazyFree:              8 kB"), smaps);
        assertTrue(smaps.contains("Private_Clean:         8 kB"), smaps);
        assertEquals(lazy0 + 2, k.vmstat().get(org.mm4j.page.VmStat.PGLAZYFREE));
        assertEquals(11, mm.readUser(a), "readable until reclaim");
        mm.writeUser(a + 4096, (byte) 23); // dirtied again: no longer lazyfree
        smaps = mm.smaps();
        assertTrue(smaps.contains("LazyFree:              4 kB"), smaps);
        // memory pressure: the faulting process's clean lazyfree pages are discarded before the OOM killer runs
        final long freed0 = k.vmstat().get(org.mm4j.page.VmStat.PGLAZYFREED);
        synchronized (mm) {
            assertEquals(1, mm.reclaimLazyfree());
        }
        assertEquals(freed0 + 1, k.vmstat().get(org.mm4j.page.VmStat.PGLAZYFREED));
        assertEquals(0, mm.readUser(a), "discarded: a new fault reads zeros");
        assertEquals(23, mm.readUser(a + 4096), "the re-dirtied page was kept");
        assertTrue(mm.smaps().contains("LazyFree:              0 kB"));
    }

    /** Reclaim under real pressure: a fault that finds no free page discards lazyfree pages instead of OOM-killing. */
    @Test
    void lazyfreePagesAreReclaimedBeforeTheOomKiller() {
        try (Kernel small = Kernel.boot("mem=64M nr_cpus=1 norandmaps")) {
            small.procfs().write("/proc/sys/vm/overcommit_memory", "1");
            final MmStruct m = small.processes().currentMm();
            final long len = 48L << 20;
            final long a = m.mmap(0, len, RW, ANON | Mman.MAP_POPULATE, null, 0);
            assertTrue(a > 0);
            assertEquals(0, m.madvise(a, len, Mman.MADV_FREE));
            final long b = m.mmap(0, len, RW, ANON | Mman.MAP_POPULATE, null, 0);
            assertTrue(b > 0);
            assertTrue(small.vmstat().get(org.mm4j.page.VmStat.PGLAZYFREED) > 0);
            assertTrue(small.log().lines().stream().noneMatch(l -> l.contains("invoked oom-killer")),
                String.join("\n", small.log().lines()));
        }
    }
    /**
     * mm/madvise.c (6.13+), madvise_guard_install/remove: guard PTE markers; an access is VM_FAULT_SIGSEGV
     * (SIGSEGV), fork copies them (copy_nonpresent_pte), MADV_DONTNEED keeps them, munmap drops them, REMOVE
     * clears them; is_valid_guard_vma refuses VM_LOCKED for install.
     */
    @Test
    void guardRegionsRaiseSigsegvAndSurviveFork() {
        final long a = mm.mmap(0, 4 * 4096, RW, ANON, null, 0);
        mm.writeUser(a + 4096, (byte) 5);
        assertEquals(0, mm.madvise(a + 4096, 2 * 4096, Mman.MADV_GUARD_INSTALL));
        final SegmentationFault w = assertThrows(SegmentationFault.class, () -> mm.writeUser(a + 4096, (byte) 1));
        assertEquals(SegmentationFault.SEGV_MAPERR, w.code());
        assertThrows(SegmentationFault.class, () -> mm.readUser(a + 2 * 4096));
        mm.writeUser(a, (byte) 1); // outside the guard: fine
        assertEquals(0, mm.madvise(a, 4 * 4096, Mman.MADV_DONTNEED));
        assertThrows(SegmentationFault.class, () -> mm.readUser(a + 4096), "MADV_DONTNEED keeps the markers");
        assertEquals(-Errno.EFAULT, mm.madvise(a, 4 * 4096, Mman.MADV_POPULATE_WRITE));
        final int child = k.processes().fork();
        assertTrue(child > 1);
        final MmStruct c = k.processes().get(child).mm();
        assertThrows(SegmentationFault.class, () -> c.writeUser(a + 4096, (byte) 1), "copied on fork");
        assertEquals(0, mm.madvise(a + 4096, 2 * 4096, Mman.MADV_GUARD_REMOVE));
        assertEquals(0, mm.readUser(a + 4096), "REMOVE clears them: a new zero-filled page");
        mm.writeUser(a + 2 * 4096, (byte) 3);
        assertThrows(SegmentationFault.class, () -> c.readUser(a + 2 * 4096), "the child's markers stay");
        // munmap drops the markers: a new mapping at the same address is accessible
        assertEquals(0, c.munmap(a, 4 * 4096));
        assertEquals(a, c.mmap(a, 4 * 4096, RW, ANON | Mman.MAP_FIXED, null, 0));
        c.writeUser(a + 4096, (byte) 1);
        // locked VMAs: install refused, remove allowed
        assertEquals(0, mm.mlock(a, 4 * 4096));
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, mm.madvise(a, 4096, Mman.MADV_GUARD_REMOVE));
    }
    /**
     * mm/slub.c, init_percpu_sheaves: a cache created with a sheaf capacity gets an empty main sheaf per possible
     * CPU from alloc_empty_sheaf, which counts SHEAF_ALLOC (on the creating CPU): sheaf_alloc is nr_cpus at once.
     */
    @Test
    void sheafAllocCountsTheEmptySheafOfEachCpuAtCreation() {
        final org.mm4j.slab.KmemCache s = k.slab().kmemCacheCreate("sheaved", 256,
            org.mm4j.slab.KmemCacheArgs.DEFAULT.withSheafCapacity(30));
        assertEquals(2, s.stat(org.mm4j.slab.StatItem.SHEAF_ALLOC), "nr_cpus=2");
        final org.mm4j.slab.KmemCache plain = k.slab().kmemCacheCreate("unsheaved", 256,
            org.mm4j.slab.KmemCacheArgs.DEFAULT);
        assertEquals(0, plain.stat(org.mm4j.slab.StatItem.SHEAF_ALLOC));
    }
}
