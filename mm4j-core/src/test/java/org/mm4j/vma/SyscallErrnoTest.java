package org.mm4j.vma;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel's errno for bad arguments; none of them may change the address space. */
class SyscallErrnoTest {
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    private static MmStruct mm() {
        final MmStruct mm = new MmStruct();
        mm.setMmapBase(0x7ffff7fff000L);
        return mm;
    }

    @Test
    void mmapErrors() {
        final MmStruct mm = mm();
        final String before = mm.maps();
        assertEquals(-Errno.EINVAL, mm.mmap(0, 0, RW, ANON, null, 0), "zero length");
        assertEquals(-Errno.EINVAL, mm.mmap(0x10001, 4096, RW, ANON | Mman.MAP_FIXED, null, 0), "unaligned fixed");
        assertEquals(-Errno.EINVAL, mm.mmap(0, 4096, RW, Mman.MAP_ANONYMOUS, null, 0), "neither private nor shared");
        assertEquals(-Errno.EINVAL, mm.mmap(0, 4096, RW, ANON, null, 1), "unaligned offset");
        assertEquals(-Errno.EBADF, mm.mmap(0, 4096, RW, Mman.MAP_PRIVATE, null, 0), "no file");
        assertEquals(-Errno.ENOMEM, mm.mmap(0, -4096L, RW, ANON, null, 0), "length overflows");
        assertEquals(-Errno.ENOMEM, mm.mmap(0x7ffffffff000L, 8192, RW, ANON | Mman.MAP_FIXED, null, 0),
            "beyond TASK_SIZE");
        assertEquals(-Errno.EPERM, mm.mmap(0, 4096, RW, ANON | Mman.MAP_FIXED, null, 0), "below mmap_min_addr");
        final VmFile ro = VmFile.open(VmFile.Inode.of(mm.inodeNumbers(), "/f", 65536), "O_RDONLY");
        assertEquals(-Errno.EACCES, mm.mmap(0, 4096, RW, Mman.MAP_SHARED, ro, 0), "shared write, read-only fd");
        assertEquals(before, mm.maps());
        final long a = mm.mmap(0, 8192, RW, ANON, null, 0);
        assertEquals(-Errno.EEXIST, mm.mmap(a + 4096, 4096, RW, ANON | Mman.MAP_FIXED_NOREPLACE, null, 0));
        // a read-only shared mapping of that file is fine, and cannot be made writable
        final long s = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, ro, 0);
        assertTrue(s > 0);
        assertTrue(mm.maps().contains("r--s 00000000"));
        assertEquals(-Errno.EACCES, mm.mprotect(s, 4096, RW));
        mm.validate();
    }

    @Test
    void munmapMprotectErrors() {
        final MmStruct mm = mm();
        final long a = mm.mmap(0, 3 * 4096, RW, ANON, null, 0);
        assertEquals(-Errno.EINVAL, mm.munmap(a + 1, 4096));
        assertEquals(-Errno.EINVAL, mm.munmap(a, 0));
        assertEquals(-Errno.EINVAL, mm.munmap(0x800000000000L, 4096));
        assertEquals(0, mm.munmap(0x10000, 4096), "unmapping nothing is fine");
        assertEquals(-Errno.EINVAL, mm.mprotect(a + 1, 4096, Mman.PROT_READ));
        assertEquals(-Errno.EINVAL, mm.mprotect(a, 4096, 0x40), "unknown prot bit");
        assertEquals(0, mm.mprotect(a, 0, Mman.PROT_READ), "zero length");
        assertEquals(-Errno.ENOMEM, mm.mprotect(a - 4096, 8192, Mman.PROT_READ), "hole at the start");
        assertEquals(1, mm.mapCount(), "a hole at the start changes nothing");
        // a hole after the first VMA: the first part is changed, then ENOMEM
        assertEquals(-Errno.ENOMEM, mm.mprotect(a + 2 * 4096, 2 * 4096, Mman.PROT_READ));
        assertEquals(2, mm.mapCount());
        assertTrue(mm.maps().contains("r--p"));
        mm.validate();
    }

    @Test
    void mremapErrors() {
        final MmStruct mm = mm();
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        final long b = mm.mmap(a + 2 * 4096, 4096, Mman.PROT_READ, ANON | Mman.MAP_FIXED, null, 0);
        assertEquals(a + 2 * 4096, b);
        assertEquals(-Errno.EINVAL, mm.mremap(a, 4096, 8192, 8, 0), "unknown flag");
        assertEquals(-Errno.EINVAL, mm.mremap(a + 1, 4096, 8192, 0, 0), "unaligned");
        assertEquals(-Errno.EINVAL, mm.mremap(a, 4096, 0, 0, 0), "zero new length");
        assertEquals(-Errno.EINVAL, mm.mremap(a, 4096, 4096, Mman.MREMAP_FIXED, 0x10000), "FIXED without MAYMOVE");
        assertEquals(-Errno.EINVAL, mm.mremap(a, 4096, 8192, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP, 0),
            "DONTUNMAP resizing");
        assertEquals(-Errno.EINVAL, mm.mremap(a, 8192, 8192, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, a + 4096),
            "overlapping");
        assertEquals(-Errno.EFAULT, mm.mremap(0x10000, 4096, 8192, Mman.MREMAP_MAYMOVE, 0), "nothing mapped");
        assertEquals(-Errno.ENOMEM, mm.mremap(a, 8192, 16384, 0, 0), "cannot grow in place");
        assertEquals(-Errno.EFAULT, mm.mremap(a, 3 * 4096, 4 * 4096, Mman.MREMAP_MAYMOVE, 0), "grow over 2 VMAs");
        assertEquals(a, mm.mremap(a, 3 * 4096, 3 * 4096, 0, 0), "same length: no-op over several VMAs");
        assertEquals(2, mm.mapCount());
        mm.validate();
    }

    @Test
    void madviseBrkAndNames() {
        final MmStruct mm = mm();
        mm.setBrk(0x555555559000L, 0x555555559000L);
        final long a = mm.mmap(0, 2 * 4096, RW, ANON, null, 0);
        assertEquals(-Errno.EINVAL, mm.madvise(a + 1, 4096, Mman.MADV_DONTNEED));
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, 7), "unknown advice");
        assertEquals(-Errno.ENOMEM, mm.madvise(a - 4096, 3 * 4096, Mman.MADV_DONTNEED), "hole");
        assertEquals(0, mm.madvise(a, 2 * 4096, Mman.MADV_DONTNEED));
        // brk: refused below start_brk, grows, shrinks, cannot shrink over unmapped pages
        assertEquals(0x555555559000L, mm.brk(0x1000));
        assertEquals(0x55555555b123L, mm.brk(0x55555555b123L));
        assertTrue(mm.maps().contains("555555559000-55555555c000 rw-p 00000000 00:00 0                          [heap]"));
        assertEquals(0x555555559000L, mm.brk(0x555555559000L));
        assertEquals(0x555555559000L, mm.brk(0x555555558000L));
        // anon names
        assertEquals(-Errno.EINVAL, mm.setAnonName(a, 4096, "bad[name]"));
        assertEquals(-Errno.EINVAL, mm.setAnonName(a, 4096, "x".repeat(80)));
        assertEquals(0, mm.setAnonName(a, 4096, "buf"));
        assertTrue(mm.maps().contains("[anon:buf]"), mm.maps());
        assertEquals(2, mm.mapCount());
        assertEquals(0, mm.setAnonName(a, 4096, null));
        assertEquals(1, mm.mapCount(), "unnamed again, it merges back");
        mm.validate();
    }

    @Test
    void maxMapCountGivesEnomem() {
        final int[] max = {5};
        final MmStruct mm = new MmStruct(() -> max[0]);
        mm.setMmapBase(0x7ffff7fff000L);
        long last = 0;
        for (int i = 0; i < 6; i++) {
            // alternate protections so nothing merges
            last = mm.mmap(0, 4096, i % 2 == 0 ? Mman.PROT_READ : RW, ANON, null, 0);
            assertTrue(last > 0, "mapping " + i);
        }
        assertEquals(6, mm.mapCount(), "do_mmap refuses only when map_count > max_map_count");
        assertEquals(-Errno.ENOMEM, mm.mmap(0, 4096, Mman.PROT_EXEC, ANON, null, 0));
        max[0] = 7;
        final long big = mm.mmap(0x100000000L, 3 * 4096, RW, ANON | Mman.MAP_FIXED, null, 0);
        assertEquals(0x100000000L, big);
        assertEquals(-Errno.ENOMEM, mm.munmap(big + 4096, 4096), "a split into three over the limit");
        assertEquals(0, mm.munmap(big, 4096), "the front needs no new VMA");
        max[0] = 65530;
        assertEquals(0, mm.munmap(big + 4096, 4096));
        mm.validate();
    }

    @Test
    void mlockallSetsDefFlagsAndLocksEverything() {
        final MmStruct mm = mm();
        final long a = mm.mmap(0, 8192, RW, ANON, null, 0);
        assertEquals(-Errno.EINVAL, mm.mlockall(0));
        assertEquals(0, mm.mlockall(MmStruct.MCL_CURRENT | MmStruct.MCL_FUTURE));
        assertTrue((mm.vmaLookup(a).flags() & VmFlags.VM_LOCKED) != 0);
        final long b = mm.mmap(0, 4096, Mman.PROT_READ, ANON, null, 0);
        assertTrue((mm.vmaLookup(b).flags() & VmFlags.VM_LOCKED) != 0, "MCL_FUTURE: def_flags");
        assertEquals(-Errno.EINVAL, mm.madvise(a, 4096, Mman.MADV_DONTNEED), "DONTNEED refuses locked memory");
        assertEquals(0, mm.munlockall());
        assertEquals(0, mm.vmaLookup(a).flags() & VmFlags.VM_LOCKED);
        assertEquals(0, mm.mlock(a + 100, 10), "mlock rounds to pages");
        assertEquals(3, mm.mapCount(), "one locked page split out");
        assertEquals(0, mm.munlock(a, 8192));
        assertEquals(2, mm.mapCount(), "merged back");
        assertEquals(-Errno.ENOMEM, mm.mlock(0x10000, 4096));
        assertEquals(0, mm.msync(a, 8192, 4));
        assertEquals(-Errno.EINVAL, mm.msync(a, 8192, 5));
        assertEquals(-Errno.ENOMEM, mm.msync(0x10000, 8192, 4));
        mm.validate();
    }

    @Test
    void straceLinesRunAndPrintInStraceStyle() {
        final MmStruct mm = mm();
        final org.mm4j.vma.replay.StraceSyscall sys = new org.mm4j.vma.replay.StraceSyscall();
        final String r = sys.execute(mm, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1234");
        assertEquals("0x7ffff7ffe000", r);
        assertEquals("-1 EINVAL (Invalid argument)", sys.execute(mm, "munmap(0x7ffff7ffe001, 4096)"));
        assertEquals("-1 EINVAL (Invalid argument)", sys.execute(mm,
            "madvise(0x7ffff7ffe000, 4096, 0x68 /* MADV_??? */) = -1 EINVAL (Invalid argument)"));
        assertEquals("0", sys.execute(mm, "munlockall()"));
        final IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> sys.execute(mm, "mmap(NULL, 4096, PROT_READ, MAP_BOGUS, -1, 0)"));
        assertTrue(e.getMessage().contains("unknown mmap flag 'MAP_BOGUS'"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> sys.execute(mm, "munmap(0x1000"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> sys.execute(mm, "munmap(0x1000, 4096, 5)"));
    }
}
