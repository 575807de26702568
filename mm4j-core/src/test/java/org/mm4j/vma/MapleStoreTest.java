package org.mm4j.vma;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VMA store choice (boot option {@code mm4j.vma_store=}), the maple tree's debugfs dump, and its node
 * accounting, on a booted kernel.
 */
class MapleStoreTest {
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    /** Maps {@code n} one-page VMAs with alternating protections (so none merges); returns their addresses. */
    static List<Long> mapMany(final MmStruct mm, final int n) {
        final List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(mm.mmap(0, 4096, i % 2 == 0 ? Mman.PROT_READ : Mman.PROT_READ | Mman.PROT_WRITE, ANON, null, 0));
        }
        return out;
    }

    @Test
    void theBootOptionPicksTheStoreAndTheDefaultIsTheMapleTree() {
        try (Kernel k = Kernel.boot("mem=16M mm4j.vma_store=maple"); Kernel r = Kernel.boot("mem=16M "
            + "mm4j.vma_store=rbtree")) {
            assertEquals(VmaStore.Kind.MAPLE, k.processes().currentMm().vmaStore());
            assertEquals(VmaStore.Kind.RBTREE, r.processes().currentMm().vmaStore());
            final int child = r.processes().fork();
            assertEquals(VmaStore.Kind.RBTREE, r.processes().get(child).mm().vmaStore(), "fork keeps the store");
            final int mapleChild = k.processes().fork();
            assertEquals(VmaStore.Kind.MAPLE, k.processes().get(mapleChild).mm().vmaStore());
        }
        assertThrows(RuntimeException.class, () -> Kernel.boot("mem=16M mm4j.vma_store=avl").close());
        if (System.getProperty(VmaStore.Kind.PROPERTY) == null) {
            try (Kernel k = Kernel.boot("mem=16M")) {
                assertEquals(VmaStore.Kind.MAPLE, k.processes().vmaStore());
            }
        }
    }

    @Test
    void debugfsDumpShowsNodesPivotsGapsAndTheVmas() {
        try (Kernel k = Kernel.boot("mem=16M norandmaps mm4j.vma_store=maple")) {
            final MmStruct mm = k.processes().currentMm();
            final String small = k.procfs().read("/sys/kernel/debug/maple_tree/1");
            // a handful of VMAs fit one leaf: height 1, MM_MT_FLAGS 0x303 with the height at bit 2
            assertTrue(small.startsWith("maple_tree(pid 1 mm_mt) flags 307, height 1 root 0x"), small);
            assertTrue(small.contains("0-ffffffffffffffff: node 0x") && small.contains(" depth 0 type 1 "), small);
            assertEquals(small, k.procfs().read("/sys/kernel/debug/maple_tree/self"));
            for (final Vma v : mm.vmas()) {
                assertTrue(small.contains(String.format("  %x-%x: vma@%x ", v.start(), v.end() - 1, v.start())),
                    () -> v + " missing from\n" + small);
            }
            mapMany(mm, 300);
            mm.validate();
            final String big = k.procfs().read("/sys/kernel/debug/maple_tree/1");
            final int height = Integer.parseInt(big.replaceAll("(?s).*height (\\d+).*", "$1"));
            assertTrue(height >= 2, big.lines().findFirst().orElseThrow());
            // the root is an arange_64 node: ten gaps, then "| end gap_offset|"
            assertTrue(big.lines().skip(1).findFirst().orElseThrow()
                .matches("0-ffffffffffffffff: node 0x\\p{XDigit}+ depth 0 type 3 parent 0x\\p{XDigit}+ contents: "
                    + "(\\p{XDigit}+ ){10}\\| \\p{XDigit}{2} \\p{XDigit}{2}\\| .*"), big);
            assertTrue(big.contains("# " + mm.mapCount() + " VMAs in "), big);
            assertEquals(ProcFs.ProcFsException.class, assertThrows(RuntimeException.class,
                () -> k.procfs().read("/sys/kernel/debug/maple_tree/99")).getClass());
        }
        try (Kernel r = Kernel.boot("mem=16M mm4j.vma_store=rbtree")) {
            assertThrows(ProcFs.ProcFsException.class, () -> r.procfs().read("/sys/kernel/debug/maple_tree/1"),
                "no maple tree with the rbtree store");
        }
    }

    @Test
    void nodesComeFromOneMapleNodeCacheAndGoBackOnUnmap() {
        try (Kernel k = Kernel.boot("mem=16M norandmaps mm4j.vma_store=maple")) {
            final Processes ps = k.processes();
            final MmStruct mm = ps.currentMm();
            final long boot = ps.mapleNodesInUse();
            assertTrue(boot >= 1, "pid 1's VMAs are in a tree");
            final List<Long> addrs = mapMany(mm, 400);
            final long grown = ps.mapleNodesInUse();
            // 400 one-page VMAs with gaps between them need at least 400 / 16 leaves
            assertTrue(grown - boot >= 400 / 16, boot + " -> " + grown);
            for (final long a : addrs) {
                assertEquals(0, mm.munmap(a, 4096));
            }
            mm.validate();
            assertEquals(boot, ps.mapleNodesInUse(), "unmapping everything returns the tree to its boot shape");
        }
    }

    @Test
    void findVmaAndTheGapSearchAgreeBetweenStores() {
        final MmStruct maple = new MmStruct(() -> MmStruct.DEFAULT_MAX_MAP_COUNT, VmaStore.Kind.MAPLE);
        final MmStruct rb = new MmStruct(() -> MmStruct.DEFAULT_MAX_MAP_COUNT, VmaStore.Kind.RBTREE);
        final java.util.SplittableRandom r = new java.util.SplittableRandom(15);
        for (int i = 0; i < 4000; i++) {
            final long len = (1 + r.nextInt(16)) * 4096L;
            final long hint = r.nextInt(4) == 0 ? 0x10000000L + r.nextInt(1 << 16) * 4096L : 0;
            final int prot = r.nextBoolean() ? Mman.PROT_READ : Mman.PROT_NONE;
            final int flags = ANON; // no MAP_GROWSDOWN: there the two eras differ (see the next test)
            switch (r.nextInt(4)) {
                case 0, 1 -> assertEquals(rb.mmap(hint, len, prot, flags, null, 0),
                    maple.mmap(hint, len, prot, flags, null, 0));
                case 2 -> {
                    final List<Vma> vs = rb.vmas();
                    if (!vs.isEmpty()) {
                        final long at = vs.get(r.nextInt(vs.size())).start();
                        assertEquals(rb.munmap(at, len), maple.munmap(at, len));
                    }
                }
                default -> {
                    final List<Vma> vs = rb.vmas();
                    if (!vs.isEmpty()) {
                        final long at = vs.get(r.nextInt(vs.size())).start();
                        assertEquals(rb.mprotect(at, len, Mman.PROT_READ | Mman.PROT_WRITE),
                            maple.mprotect(at, len, Mman.PROT_READ | Mman.PROT_WRITE));
                    }
                }
            }
            if (i % 16 == 0) {
                maple.validate();
                rb.validate();
                final int step = i;
                assertEquals(rb.maps(), maple.maps(), () -> "after step " + step);
            }
        }
        assertEquals(rb.maps(), maple.maps());
        final List<Vma> vs = maple.vmas();
        for (int q = 0; q < 2000; q++) {
            final long addr = vs.get(r.nextInt(vs.size())).start() + r.nextInt(64) * 4096L - 32 * 4096L;
            final Vma m = maple.findVma(addr);
            final Vma b = rb.findVma(addr);
            assertEquals(b == null ? null : b.start(), m == null ? null : m.start());
            assertSame(m, maple.vmaLookup(addr) == null ? m : maple.vmaLookup(addr));
        }
        assertNull(maple.findVma(MmStruct.TASK_SIZE));
    }

    /**
     * Where 6.1+ and 5.x place differently: {@code unmapped_area_topdown} on the maple tree, finding that the
     * highest gap ends at a VM_GROWSDOWN VMA's guard gap, retries with {@code high_limit = vm_start_gap(next)}, so
     * it also skips a free gap that lies inside that guard range below another VMA; the 5.x rbtree search only
     * shortens the one gap in front of the stack-like VMA and takes the free gap.
     */
    @Test
    void topDownSkipsGapsInsideAStackGuardSinceTheMapleTree() {
        final long base = 0x7f0000000000L;
        final long len = 0x4000;
        final long[] got = new long[2];
        int i = 0;
        for (final VmaStore.Kind kind : VmaStore.Kind.values()) {
            final MmStruct mm = new MmStruct(() -> MmStruct.DEFAULT_MAX_MAP_COUNT, kind);
            mm.setMmapBase(base);
            // G: a stack-like VMA just under mmap_base; its guard gap reaches 1 MiB below it
            assertEquals(base - 0x10000, mm.mmap(base - 0x10000, 0x10000, Mman.PROT_READ,
                ANON | Mman.MAP_FIXED | Mman.MAP_GROWSDOWN, null, 0));
            // X: an ordinary VMA inside G's guard range, with free space on both sides
            assertEquals(base - 0x40000, mm.mmap(base - 0x40000, 0x10000, Mman.PROT_READ,
                ANON | Mman.MAP_FIXED, null, 0));
            got[i++] = mm.mmap(0, len, Mman.PROT_READ | Mman.PROT_WRITE, ANON, null, 0);
            mm.validate();
        }
        final long guardBottom = base - 0x10000 - VmaStore.STACK_GUARD_GAP;
        assertEquals(guardBottom - len, got[VmaStore.Kind.MAPLE.ordinal()], "6.18: below G's guard gap");
        assertEquals(base - 0x40000 - len, got[VmaStore.Kind.RBTREE.ordinal()], "5.x: the gap under X");
    }
}
