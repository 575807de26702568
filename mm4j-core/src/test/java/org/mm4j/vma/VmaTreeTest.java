package org.mm4j.vma;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The augmented rbtree under random syscalls: every invariant (red-black shape, list order, exact
 * rb_subtree_gap) after each call, find_vma against a linear scan, and the top-down gap search against a
 * brute-force scan of the gaps.
 */
class VmaTreeTest {
    private static final long BASE = 0x100000000L;

    private static Vma linearFind(final List<Vma> vmas, final long addr) {
        for (final Vma v : vmas) {
            if (v.end > addr) {
                return v;
            }
        }
        return null;
    }

    private static long bruteHighest(final List<Vma> vmas, final long len, final long low, final long high,
                                     final VmaStore t) {
        long best = -1;
        long prevEnd = 0;
        for (final Vma v : vmas) {
            final long s = Math.max(prevEnd, low);
            final long e = Math.min(t.startGap(v), high);
            if (e > s && e - s >= len) {
                best = e - len;
            }
            prevEnd = v.end;
        }
        final long s = Math.max(prevEnd, low);
        if (high > s && high - s >= len) {
            best = high - len;
        }
        return best;
    }

    @Test
    void randomSyscallsKeepEveryInvariant() {
        final SplittableRandom r = new SplittableRandom(42);
        final MmStruct mm = new MmStruct();
        mm.setMmapBase(BASE + (1L << 30));
        final int[] prots = {Mman.PROT_READ, Mman.PROT_READ | Mman.PROT_WRITE, Mman.PROT_NONE};
        for (int i = 0; i < 3000; i++) {
            final long addr = BASE + ((long) r.nextInt(4096) << 12);
            final long len = (long) (1 + r.nextInt(64)) << 12;
            switch (r.nextInt(5)) {
                case 0, 1 -> mm.mmap(addr, len, prots[r.nextInt(3)],
                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | (r.nextBoolean() ? Mman.MAP_FIXED : 0), null, 0);
                case 2 -> mm.munmap(addr, len);
                case 3 -> mm.mprotect(addr, len, prots[r.nextInt(3)]);
                default -> mm.mremap(addr, len, len + 4096 * r.nextInt(8), Mman.MREMAP_MAYMOVE, 0);
            }
            mm.validate();
            final List<Vma> vmas = mm.vmas();
            for (int k = 0; k < 8; k++) {
                final long q = BASE + ((long) r.nextInt(8192) << 12) + r.nextInt(4096);
                assertSame(linearFind(vmas, q), mm.findVma(q));
                assertSame(linearFind(vmas, q), mm.findVmaNoCache(q));
            }
            final long gl = (long) (1 + r.nextInt(256)) << 12;
            assertEquals(bruteHighest(vmas, gl, 4096, mm.mmapBase(), mm.tree),
                mm.tree.highestGap(gl, 4096, mm.mmapBase()));
        }
        assertTrue(mm.mapCount() > 10);
        // the vmacache exists only with the rbtree store (6.1 removed it with the maple tree)
        assertEquals(mm.vmaStore() == VmaStore.Kind.RBTREE, mm.vmacacheFindHits() > 0);
    }

    @Test
    void stackGuardGapIsUsedSpace() {
        final MmStruct mm = new MmStruct();
        final long top = 0x7ffffffff000L;
        mm.addInitialVma(top - 0x21000, top, VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_GROWSDOWN, 0, null,
            null, true);
        mm.setMmapBase(top);
        final long a = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertEquals(top - 0x21000 - VmaTree.STACK_GUARD_GAP - 4096, a);
        // a hint inside the guard gap is not taken, MAP_FIXED may map there
        final long hint = top - 0x21000 - 4096;
        assertTrue(mm.mmap(hint, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0) != hint);
        assertEquals(hint, mm.mmap(hint, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS
            | Mman.MAP_FIXED, null, 0));
    }

    @Test
    void thpAlignmentOfLargeAnonymousMappings() {
        final MmStruct mm = new MmStruct();
        mm.setMmapBase(0x7ffff7fff000L);
        final long a = mm.mmap(0, 2L << 20, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertEquals(0, a & ((2L << 20) - 1), "2 MiB multiples are aligned");
        final long b = mm.mmap(0, 3L << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE
            | Mman.MAP_ANONYMOUS, null, 0);
        assertEquals(a - (3L << 20), b, "3 MiB is not");
        // the legacy layout searches bottom-up from TASK_SIZE / 3
        final MmStruct legacy = new MmStruct();
        legacy.setTopdown(false);
        assertEquals(0x2aaaaaaab000L, legacy.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS,
            null, 0));
    }

    @Test
    void thpPlacementOnlyForExt4Files() {
        final MmStruct mm = new MmStruct();
        mm.setMmapBase(0x7ffff7fff000L);
        final VmFile ext4 = VmFile.open(VmFile.Inode.of(mm.inodeNumbers(), "/tmp/big", 4L << 20), "O_RDWR");
        final VmFile tmpfs = VmFile.open(VmFile.Inode.of(mm.inodeNumbers(), "/dev/shm/big", 4L << 20), "O_RDWR");
        assertEquals(VmFile.Kind.SHMEM, VmFile.kindFor("/dev/shm/big"));
        final long a = mm.mmap(0, 2L << 20, Mman.PROT_READ, Mman.MAP_SHARED, ext4, 0);
        assertEquals(0, a & ((2L << 20) - 1), "ext4: (address - offset) is 2 MiB aligned");
        final long b = mm.mmap(0, 2L << 20, Mman.PROT_READ, Mman.MAP_SHARED, tmpfs, 0);
        assertEquals(a - (2L << 20), b, "tmpfs: plain top-down placement right below");
        mm.munmap(b, 2L << 20);
        final long c = mm.mmap(0, 4L << 20, Mman.PROT_READ, Mman.MAP_PRIVATE, ext4, 0x1000);
        assertEquals(0, (c - 0x1000) & ((2L << 20) - 1),
            "a file range holding an aligned 2 MiB block is placed with address = offset mod 2 MiB");
        final long d = mm.mmap(0, 3L << 20, Mman.PROT_READ, Mman.MAP_PRIVATE, ext4, 0x1000);
        assertEquals(c - (3L << 20), d, "[0x1000, 0x301000) holds no aligned 2 MiB block: not aligned");
    }
}
