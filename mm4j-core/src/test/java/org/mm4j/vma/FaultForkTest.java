package org.mm4j.vma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.VmStat;
import org.mm4j.vma.replay.StraceSyscall;

import java.util.HashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Page tables, faults, copy-on-write fork, /proc files, on a booted kernel. */
class FaultForkTest {
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    private Kernel k;
    private Processes ps;

    @BeforeEach
    void boot() {
        k = Kernel.boot("mem=64M norandmaps");
        ps = k.processes();
    }

    @AfterEach
    void close() {
        k.close();
    }

    @Test
    void anonymousReadMapsZeroPageWriteAllocates() {
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        final long free0 = k.buddy().freePages();
        assertEquals(0, mm.readUser(a));
        assertEquals(0, mm.rss()[0], "the zero page is not counted");
        assertEquals(0, mm.pte(a) & PageTables.RW);
        mm.writeUser(a + 5, (byte) 42);
        assertEquals(42, mm.readUser(a + 5));
        assertEquals(1, mm.rss()[0]);
        assertTrue(k.buddy().freePages() < free0);
        assertTrue(mm.smaps().contains("Anonymous:             4 kB"), mm.smaps());
        assertEquals(0, mm.madvise(a, 4096, Mman.MADV_DONTNEED));
        assertEquals(0, mm.readUser(a + 5), "DONTNEED drops the page");
        assertEquals(0, mm.rss()[0]);
        assertTrue(k.vmstat().get(VmStat.PGFAULT) >= 3);
    }

    @Test
    void segmentationFaults() {
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 4096, Mman.PROT_READ, ANON, null, 0);
        final SegmentationFault acc = assertThrows(SegmentationFault.class, () -> mm.writeUser(a, (byte) 1));
        assertEquals(SegmentationFault.SEGV_ACCERR, acc.code());
        assertEquals(a, acc.address());
        final SegmentationFault map = assertThrows(SegmentationFault.class, () -> mm.touch(0x1000, 'r'));
        assertEquals(SegmentationFault.SEGV_MAPERR, map.code());
        assertThrows(SegmentationFault.class, () -> mm.touch(a, 'x'));
        mm.mprotect(a, 4096, Mman.PROT_NONE);
        assertThrows(SegmentationFault.class, () -> mm.touch(a, 'r'));
    }

    @Test
    void stackGrowsDownOnFault() {
        final MmStruct mm = ps.currentMm();
        final Vma stack = mm.findVma(mm.startStack());
        final long oldStart = stack.start();
        mm.writeUser(oldStart - 3 * 4096, (byte) 7);
        assertEquals(oldStart - 3 * 4096, stack.start());
        assertTrue(mm.maps().contains("[stack]"));
        mm.validate();
    }

    @Test
    void forkIsCopyOnWriteAndHonoursDontcopyWipeonfork() {
        final MmStruct parent = ps.currentMm();
        final long a = parent.mmap(0, 4096, RW, ANON, null, 0);
        final long gone = parent.mmap(0, 4096, Mman.PROT_READ, ANON, null, 0);
        final long wipe = parent.mmap(0, 4096, RW | Mman.PROT_EXEC, ANON, null, 0);
        parent.writeUser(a, (byte) 1);
        parent.writeUser(wipe, (byte) 9);
        assertEquals(0, parent.madvise(gone, 4096, Mman.MADV_DONTFORK));
        assertEquals(0, parent.madvise(wipe, 4096, Mman.MADV_WIPEONFORK));
        final int pid = ps.fork();
        final MmStruct child = ps.get(pid).mm();
        final String smaps = parent.smaps();
        final int at = smaps.indexOf(String.format("%08x-", a));
        final String block = smaps.substring(at, smaps.indexOf("VmFlags", at));
        assertTrue(block.contains("Pss:                   2 kB") && block.contains("Shared_Dirty:          4 kB"),
            block);
        assertEquals(parent.pte(a) & ~0xfffL, child.pte(a) & ~0xfffL, "same page until a write");
        assertEquals(1, child.readUser(a));
        child.writeUser(a, (byte) 2);
        assertEquals(2, child.readUser(a));
        assertEquals(1, parent.readUser(a), "the parent keeps its page");
        assertNotEquals(parent.pte(a) & ~0xfffL, child.pte(a) & ~0xfffL);
        assertEquals(null, child.vmaLookup(gone), "VM_DONTCOPY");
        assertEquals(0, child.readUser(wipe), "VM_WIPEONFORK: empty in the child");
        assertEquals(9, parent.readUser(wipe));
        // after the child's copy, the parent's page is its own again: a write reuses it
        final long pfn = parent.pte(a) & ~0xfffL;
        parent.writeUser(a, (byte) 3);
        assertEquals(pfn, parent.pte(a) & ~0xfffL);
        assertTrue(ps.ps().contains("mm4j"));
        ps.switchTo(pid);
        assertEquals(child, ps.currentMm());
        ps.exit(pid);
        assertTrue(child.vmas().isEmpty());
        assertArrayEquals(new long[3], child.rss(), "exit frees the child's pages");
        assertEquals(3, parent.readUser(a));
        assertThrows(IllegalArgumentException.class, () -> ps.switchTo(pid));
    }

    @Test
    void fileBackedPagesComeFromTheFile() {
        final MmStruct mm = ps.currentMm();
        final byte[] content = new byte[8192];
        content[4096 + 3] = 77;
        final VmFile f = VmFile.open(VmFile.Inode.ofBytes(mm.inodeNumbers(), "/data", content), "O_RDWR");
        final long a = mm.mmap(0, 8192, RW, Mman.MAP_PRIVATE, f, 0);
        assertEquals(77, mm.readUser(a + 4096 + 3));
        mm.writeUser(a + 4096 + 3, (byte) 5);
        assertEquals(5, mm.readUser(a + 4096 + 3));
        final long s = mm.mmap(0, 8192, RW, Mman.MAP_SHARED, f, 0);
        assertEquals(77, mm.readUser(s + 4096 + 3), "the private copy does not change the file's page");
        mm.writeUser(s, (byte) 8);
        final long s2 = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, f, 0);
        assertEquals(8, mm.readUser(s2), "shared mappings share the page cache");
    }

    @Test
    void procFiles() {
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 4096, RW, ANON, null, 0);
        mm.writeUser(a, (byte) 1);
        final String maps = k.procfs().read("/proc/self/maps");
        assertEquals(maps, k.procfs().read("/proc/1/maps"));
        assertTrue(maps.contains("[vdso]") && maps.contains("[stack]") && maps.contains("/usr/bin/mm4j"), maps);
        assertTrue(maps.endsWith("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
            + "                  [vsyscall]\n"), maps);
        final String smaps = k.procfs().read("/proc/1/smaps");
        assertTrue(smaps.contains("VmFlags: rd wr mr mw me ac "), smaps);
        final String status = k.procfs().read("/proc/self/status");
        assertTrue(status.contains("VmRSS:\t       4 kB"), status);
        assertTrue(status.contains("VmStk:\t     132 kB"), status);
        assertEquals("65530\n", k.procfs().read("/proc/sys/vm/max_map_count"));
        k.procfs().write("/proc/sys/vm/max_map_count", "3");
        assertEquals(-Errno.ENOMEM, mm.mmap(0, 4096, Mman.PROT_EXEC, ANON, null, 0));
        assertThrows(RuntimeException.class, () -> k.procfs().write("/proc/sys/vm/max_map_count", "x"));
        mm.findVma(a);
        final long[] v0 = k.vmstat().snapshot();
        mm.findVma(a);
        mm.findVma(a);
        final long[] v = k.vmstat().snapshot();
        // rbtree store: the first lookup cached a's vma for this thread, both lookups after it are calls and
        // hits; the maple tree (6.1+) has no vmacache and counts nothing
        final int want = mm.vmaStore() == VmaStore.Kind.RBTREE ? 2 : 0;
        assertEquals(want, v[VmStat.VMACACHE_FIND_CALLS] - v0[VmStat.VMACACHE_FIND_CALLS]);
        assertEquals(want, v[VmStat.VMACACHE_FIND_HITS] - v0[VmStat.VMACACHE_FIND_HITS]);
    }

    @Test
    void initsMapsAreTheSameInEveryKernelOfTheJvm() {
        try (Kernel a = Kernel.boot("mem=32M norandmaps")) {
            final String first = a.processes().currentMm().maps();
            VmFile.Inode.of(a.processes().inodeNumbers(), "/tmp/a file of kernel a", 4096);
            try (Kernel b = Kernel.boot("mem=32M norandmaps")) {
                assertEquals(first, b.processes().currentMm().maps());
            }
            assertTrue(first.contains(" fe:00 " + VmFile.Inode.INIT_PROGRAM_INO + " "), first);
        }
    }

    /**
     * Inode numbers are per kernel ({@code get_next_ino}, shmem's per-boot numbers): two kernels that run the same
     * calls (a new file mapped, a shared anonymous mapping) show the same maps, whatever other kernels and lone mms
     * of the JVM made in between.
     */
    @Test
    void filesAndSharedAnonymousMappingsHaveTheSameInodeNumbersInEveryKernel() {
        final String[] calls = {
            "openat(AT_FDCWD, \"/tmp/f\", O_RDWR|O_CREAT, 0600)",
            "mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0)",
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)",
        };
        final String[] maps = new String[2];
        for (int i = 0; i < 2; i++) {
            try (Kernel k = Kernel.boot("mem=32M norandmaps")) {
                final MmStruct mm = k.processes().currentMm();
                final StraceSyscall sys = new StraceSyscall(new HashMap<>(), k.processes().inodeNumbers());
                for (final String c : calls) {
                    sys.execute(mm, c);
                    // what else the JVM does between two kernels' calls takes none of their numbers
                    new StraceSyscall().execute(new MmStruct(), calls[2]);
                    VmFile.Inode.of(new VmFile.InodeNumbers(), "/tmp/elsewhere", 4096);
                }
                maps[i] = mm.maps();
            }
        }
        assertEquals(maps[0], maps[1]);
        assertTrue(maps[0].contains(" fe:00 " + (VmFile.Inode.INIT_PROGRAM_INO + 1) + " "), maps[0]);
        assertTrue(maps[0].contains(" 00:01 " + (VmFile.Inode.INIT_PROGRAM_INO + 2) + " "), maps[0]);
        assertTrue(maps[0].contains("/dev/zero (deleted)"), maps[0]);
    }

    @Test
    void norandmapsLayoutIsTheKernelsAndSeedsRepeat() {
        assertEquals(0x7ffff7fff000L, ps.currentMm().mmapBase());
        try (Kernel a = Kernel.boot("mem=32M mm4j.aslr_seed=7"); Kernel b = Kernel.boot("mem=32M mm4j.aslr_seed=7")) {
            final String noInodes = " [0-9a-f]{2}:[0-9a-f]{2} [0-9]+ +";
            assertEquals(a.processes().currentMm().maps().replaceAll(noInodes, " "),
                b.processes().currentMm().maps().replaceAll(noInodes, " "));
            assertNotEquals(0x7ffff7fff000L, a.processes().currentMm().mmapBase());
        }
    }
}
