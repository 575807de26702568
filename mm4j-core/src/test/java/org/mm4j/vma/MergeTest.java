package org.mm4j.vma;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The merge scenarios of the kernel's userspace VMA tests (tools/testing/vma/tests/merge.c), on mm4j's
 * merge code. Diagrams: one column per page from address 0, letters are VMAs, '*' the range being merged.
 */
class MergeTest {
    static final long RW = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;

    private static MmStruct mm() {
        final MmStruct mm = new MmStruct();
        mm.setMmapMinAddr(0);
        return mm;
    }

    private static void assertVma(final Vma v, final long start, final long end, final long pgoff) {
        assertNotNull(v);
        assertEquals(start, v.start, "start");
        assertEquals(end, v.end, "end");
        assertEquals(pgoff, v.pgoff, "pgoff");
    }

    @Test
    void simpleMerge() {
        // 012
        // A*B
        final MmStruct mm = mm();
        mm.linkVma(0, 0x1000, 0, RW);
        mm.linkVma(0x2000, 0x3000, 2, RW);
        final Vma v = mm.mergeNew(0x1000, 0x2000, 1, RW, null);
        assertVma(v, 0, 0x3000, 0);
        assertEquals(1, mm.mapCount());
        mm.validate();
    }

    @Test
    void simpleModify() {
        // 012    0 1 2
        // AAA -> A B C (flags unchanged: the split alone)
        final MmStruct mm = mm();
        final Vma init = mm.linkVma(0, 0x3000, 0, RW);
        final Vma v = mm.modifyFlags(init, 0x1000, 0x2000, RW);
        assertSame(init, v);
        assertVma(v, 0x1000, 0x2000, 1);
        final List<Vma> all = mm.vmas();
        assertEquals(3, all.size());
        assertVma(all.get(0), 0, 0x1000, 0);
        assertVma(all.get(2), 0x2000, 0x3000, 2);
        mm.validate();
    }

    @Test
    void simpleExpandAndShrink() {
        final MmStruct mm = mm();
        mm.linkVma(0x10000, 0x11000, 0x10, RW | VmFlags.VM_MAYEXEC);
        // expand in place (vma_merge_extend through mremap)
        assertEquals(0x10000, mm.mremap(0x10000, 0x1000, 0x3000, 0, 0));
        assertVma(mm.vmas().get(0), 0x10000, 0x13000, 0x10);
        // shrink (vma_shrink through mremap)
        assertEquals(0x10000, mm.mremap(0x10000, 0x3000, 0x1000, 0, 0));
        assertVma(mm.vmas().get(0), 0x10000, 0x11000, 0x10);
        mm.validate();
    }

    @Test
    void mergeNew() {
        final MmStruct mm = mm();
        final AnonVma dummy = new AnonVma(null);
        // 0123456789abc
        // AA B       CC
        final Vma a = mm.linkVma(0, 0x2000, 0, RW);
        final Vma b = mm.linkVma(0x3000, 0x4000, 3, RW);
        final Vma c = mm.linkVma(0xb000, 0xc000, 0xb, RW);
        // no merge: AA B   **  CC
        assertNull(mm.mergeNew(0x7000, 0x9000, 7, RW, null));
        final Vma d = mm.linkVma(0x7000, 0x9000, 7, RW);
        assertEquals(4, mm.mapCount());
        // both sides: AA*B   DD  CC
        b.anonVma = dummy;
        Vma v = mm.mergeNew(0x2000, 0x3000, 2, RW, null);
        assertSame(a, v);
        assertVma(v, 0, 0x4000, 0);
        assertSame(dummy, v.anonVma);
        assertEquals(3, mm.mapCount());
        // previous: AAAA*  DD  CC
        v = mm.mergeNew(0x4000, 0x5000, 4, RW, null);
        assertSame(a, v);
        assertVma(v, 0, 0x5000, 0);
        assertEquals(3, mm.mapCount());
        // next: AAAAA *DD  CC
        d.anonVma = dummy;
        v = mm.mergeNew(0x6000, 0x7000, 6, RW, null);
        assertSame(d, v);
        assertVma(v, 0x6000, 0x9000, 6);
        assertEquals(3, mm.mapCount());
        // both: AAAAA*DDD  CC
        v = mm.mergeNew(0x5000, 0x6000, 5, RW, null);
        assertSame(a, v);
        assertVma(v, 0, 0x9000, 0);
        assertEquals(2, mm.mapCount());
        // next: AAAAAAAAA *CC
        c.anonVma = dummy;
        v = mm.mergeNew(0xa000, 0xb000, 0xa, RW, null);
        assertSame(c, v);
        assertVma(v, 0xa000, 0xc000, 0xa);
        // both: AAAAAAAAA*CCC
        v = mm.mergeNew(0x9000, 0xa000, 9, RW, null);
        assertSame(a, v);
        assertVma(v, 0, 0xc000, 0);
        assertSame(dummy, v.anonVma);
        assertEquals(1, mm.mapCount());
        mm.validate();
    }

    @Test
    void specialFlagsNeverMerge() {
        // 01234
        // AAA*   (would merge but for the VM_SPECIAL flag)
        for (final long special : new long[] {VmFlags.VM_IO, VmFlags.VM_DONTEXPAND, VmFlags.VM_PFNMAP,
            VmFlags.VM_MIXEDMAP}) {
            final MmStruct mm = mm();
            mm.linkVma(0, 0x3000, 0, RW | special);
            assertNull(mm.mergeNew(0x3000, 0x4000, 3, RW | special, null));
            // modifying an adjacent VMA to the special flags does not merge either
            final Vma b = mm.linkVma(0x3000, 0x4000, 3, RW);
            final Vma r = mm.modifyFlags(b, 0x3000, 0x4000, RW | special);
            assertSame(b, r);
            assertEquals(2, mm.mapCount());
        }
    }

    @Test
    void mergeExistingRight() {
        // 0123456
        //   VNNNN   (modify the tail of V: merge with N)
        //   ** -> V shrinks, N grows down
        final MmStruct mm = mm();
        final Vma v = mm.linkVma(0x2000, 0x6000, 2, RW | VmFlags.VM_EXEC);
        final Vma n = mm.linkVma(0x6000, 0x9000, 6, RW);
        final Vma r = mm.modifyFlags(v, 0x3000, 0x6000, RW);
        assertSame(n, r);
        assertVma(n, 0x3000, 0x9000, 3);
        assertVma(v, 0x2000, 0x3000, 2);
        assertEquals(2, mm.mapCount());
        // the whole of V: it goes, N takes its range
        final Vma r2 = mm.modifyFlags(v, 0x2000, 0x3000, RW);
        assertSame(n, r2);
        assertVma(n, 0x2000, 0x9000, 2);
        assertEquals(1, mm.mapCount());
        mm.validate();
    }

    @Test
    void mergeExistingLeft() {
        // 0123456
        // PPPVVVV   (modify the head of V: P grows, V shrinks)
        final MmStruct mm = mm();
        final Vma p = mm.linkVma(0, 0x3000, 0, RW);
        final Vma v = mm.linkVma(0x3000, 0x7000, 3, RW | VmFlags.VM_EXEC);
        final AnonVma av = new AnonVma(null);
        v.anonVma = av;
        final Vma r = mm.modifyFlags(v, 0x3000, 0x4000, RW);
        assertSame(p, r);
        assertVma(p, 0, 0x4000, 0);
        assertVma(v, 0x4000, 0x7000, 4);
        assertSame(av, p.anonVma, "the target gets the anon_vma of the VMA it took pages from (dup_anon_vma)");
        mm.validate();
    }

    @Test
    void mergeExistingBoth() {
        // PPPVVVNNN -> PPPPPPPPP
        final MmStruct mm = mm();
        final Vma p = mm.linkVma(0, 0x3000, 0, RW);
        final Vma v = mm.linkVma(0x3000, 0x6000, 3, RW | VmFlags.VM_EXEC);
        mm.linkVma(0x6000, 0x9000, 6, RW);
        final Vma r = mm.modifyFlags(v, 0x3000, 0x6000, RW);
        assertSame(p, r);
        assertVma(p, 0, 0x9000, 0);
        assertEquals(1, mm.mapCount());
        mm.validate();
    }

    @Test
    void anonVmaNonMergeable() {
        // 0123456789
        // AAAB**CCCC : prev and next each with their own anon_vma; the middle may merge with both, but prev
        // and next are not compatible with each other, so it merges with prev only.
        final MmStruct mm = mm();
        final Vma a = mm.linkVma(0, 0x3000, 0, RW);
        final Vma b = mm.linkVma(0x3000, 0x5000, 3, RW | VmFlags.VM_EXEC);
        final Vma c = mm.linkVma(0x5000, 0x9000, 5, RW);
        a.anonVma = new AnonVma(null);
        c.anonVma = new AnonVma(null);
        final Vma r = mm.modifyFlags(b, 0x3000, 0x5000, RW);
        assertSame(a, r);
        assertVma(a, 0, 0x5000, 0);
        assertVma(c, 0x5000, 0x9000, 5);
        assertEquals(2, mm.mapCount());
        // the same for a new range between them
        final MmStruct mm2 = mm();
        final Vma a2 = mm2.linkVma(0, 0x3000, 0, RW);
        final Vma c2 = mm2.linkVma(0x5000, 0x9000, 5, RW);
        a2.anonVma = new AnonVma(null);
        c2.anonVma = new AnonVma(null);
        assertSame(a2, mm2.mergeNew(0x3000, 0x5000, 3, RW, null));
        assertVma(a2, 0, 0x5000, 0);
        assertEquals(2, mm2.mapCount());
    }

    @Test
    void dupAnonVmaOnBothSideMerge() {
        // PPPVVVNNN, only V has an anon_vma: the merged VMA keeps it
        final MmStruct mm = mm();
        final Vma p = mm.linkVma(0, 0x3000, 0, RW);
        final Vma v = mm.linkVma(0x3000, 0x6000, 3, RW | VmFlags.VM_EXEC);
        mm.linkVma(0x6000, 0x9000, 6, RW);
        final AnonVma av = new AnonVma(null);
        v.anonVma = av;
        assertSame(p, mm.modifyFlags(v, 0x3000, 0x6000, RW));
        assertSame(av, p.anonVma);
    }

    @Test
    void pgoffMustBeContiguous() {
        final MmStruct mm = mm();
        mm.linkVma(0, 0x1000, 0, RW);
        assertNull(mm.mergeNew(0x1000, 0x2000, 5, RW, null));
    }

    @Test
    void mapCountLimitLeavesStateIntact() {
        // vmi_prealloc_fail's spirit: a split that cannot be had fails with ENOMEM and changes nothing
        final MmStruct mm = new MmStruct(() -> 1);
        mm.setMmapMinAddr(0);
        final Vma v = mm.linkVma(0x10000, 0x20000, 0x10, RW);
        assertEquals(-Errno.ENOMEM, mm.mprotect(0x12000, 0x1000, Mman.PROT_READ));
        assertEquals(1, mm.mapCount());
        assertVma(v, 0x10000, 0x20000, 0x10);
        assertEquals(RW, v.flags);
        mm.validate();
    }

    @Test
    void copyVmaMergesAtDestination() {
        // an unfaulted anonymous VMA moved next to a compatible one gets pgoff = address >> 12 and merges
        final MmStruct mm = mm();
        final long f = RW | VmFlags.VM_MAYEXEC | VmFlags.VM_ACCOUNT;
        mm.linkVma(0x10000, 0x12000, 0x10, f);
        mm.linkVma(0x40000, 0x41000, 0x40, f);
        assertEquals(0x12000, mm.mremap(0x40000, 0x1000, 0x1000, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, 0x12000));
        assertEquals(1, mm.mapCount());
        assertVma(mm.vmas().get(0), 0x10000, 0x13000, 0x10);
        // a faulted one keeps its pgoff and does not merge
        final Vma moved = mm.linkVma(0x40000, 0x41000, 0x40, f);
        moved.anonVma = new AnonVma(null);
        assertEquals(0x13000, mm.mremap(0x40000, 0x1000, 0x1000, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, 0x13000));
        assertEquals(2, mm.mapCount());
        assertVma(mm.vmas().get(1), 0x13000, 0x14000, 0x40);
        mm.validate();
    }
}
