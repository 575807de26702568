package org.mm4j.vma;

import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_DONTCOPY;
import static org.mm4j.vma.VmFlags.VM_LOCKED_MASK;
import static org.mm4j.vma.VmFlags.VM_WIPEONFORK;

import org.mm4j.base.ModelOutOfMemoryException;

/**
 * The address-space half of fork: {@code dup_mmap} (in {@code mm/mmap.c} since 6.16, before in
 * {@code kernel/fork.c}). The child gets the parent's layout and a copy of each VMA but VM_DONTCOPY ones,
 * VM_LOCKED cleared; private pages are shared copy-on-write ({@code copy_page_range} write-protects both sides),
 * VM_WIPEONFORK VMAs come back empty, and each anon_vma gets a child anon_vma.
 *
 * <p>Errors: the overcommit charge of the accounted VMAs and the child's page tables can fail; then the half-made
 * child is freed again and fork's -ENOMEM is a {@link ModelOutOfMemoryException}, which
 * {@link Processes#fork} turns back into {@code -ENOMEM}.
 *
 * <p>Threads: the caller holds the parent's mmap lock for write (asserted); the child's is taken here (the kernel's
 * {@code mmap_write_lock_nested}), before anyone else can see the child, so the lock order parent, child is safe.
 */
final class Fork {
    private Fork() {
    }

    /**
     * {@code dup_mmap} for fork: a copy of this address space; private pages are shared copy-on-write, VMAs with
     * VM_DONTCOPY are left out, VM_WIPEONFORK ones come back empty, anon_vmas get a child anon_vma.
     *
     * @throws ModelOutOfMemoryException when a page table of the child could not be had even after the OOM killer
     *         (the half-made child is freed again; fork's -ENOMEM)
     * @throws ProcessKilledException when the OOM killer chose this process meanwhile (the child is freed too)
     */
    static MmStruct dupMmap(final MmStruct mm) {
        assert mm.mmapAssertWriteLocked();
        long charge = 0; // dup_mmap charges every accounted VMA it copies
        for (Vma v = mm.tree.first; v != null; v = v.next) {
            if ((v.flags & (VM_ACCOUNT | VM_DONTCOPY)) == VM_ACCOUNT) {
                charge += v.pages();
            }
        }
        if (mm.vmEnoughMemory(charge) != 0) {
            throw new ModelOutOfMemoryException("fork: the overcommit policy refuses the child's " + charge
                + " accounted pages (dup_mmap: ENOMEM; see vm.overcommit_memory)");
        }
        // the child keeps the parent's VMA store and allocates from the same caches (maple_node, vm_area_struct, ...)
        final MmStruct c = new MmStruct(mm.maxMapCount, mm.tree.kind(), mm.nodeCache, mm.procCaches,
            mm.inodeNumbers);
        if (mm.procCaches != null) {
            c.kaddr = ProcCaches.alloc(mm.procCaches.mmStruct); // dup_mm: allocate_mm
            if (c.kaddr == 0) {
                throw new ModelOutOfMemoryException("fork: no mm_struct for the child (dup_mm: ENOMEM)");
            }
        }
        synchronized (c) { // mmap_write_lock_nested: the child is not visible to anyone else yet
            try {
                if (!dupMmapInto(mm, c)) {
                    c.exitMmap();
                    c.freeMm();
                    throw new ModelOutOfMemoryException("fork: out of memory for the child's VMAs, anon_vmas or page "
                        + "tables (dup_mmap: ENOMEM)");
                }
            } catch (final ProcessKilledException e) {
                c.exitMmap();
                c.freeMm();
                throw e;
            }
        }
        return c;
    }

    /**
     * The copy itself: the layout, then each VMA ({@code vm_area_dup}, {@code anon_vma_fork}) and its PTEs; false
     * when a child VMA, anon_vma, chain or page table could not be had (what was copied stays in the child, which
     * the caller frees).
     */
    private static boolean dupMmapInto(final MmStruct mm, final MmStruct c) {
        assert c.mmapAssertWriteLocked();
        c.mmapBase = mm.mmapBase;
        c.mmapLegacyBase = mm.mmapLegacyBase;
        c.topdown = mm.topdown;
        c.mmapMinAddr = mm.mmapMinAddr;
        c.rlimitStack = mm.rlimitStack;
        c.tree.stackGuardGap = mm.tree.stackGuardGap;
        c.startBrk = mm.startBrk;
        c.brk = mm.brk;
        c.startStack = mm.startStack;
        c.gateVma = mm.gateVma;
        if (mm.pager != null) {
            c.attachPager(mm.pager);
        }
        for (Vma v = mm.tree.first; v != null; v = v.next) {
            if ((v.flags & VM_DONTCOPY) != 0) {
                continue;
            }
            final Vma n = VmaInit.vmAreaDup(v);
            if (n == null) {
                return false;
            }
            n.mm = c;
            n.flags &= ~VM_LOCKED_MASK;
            if ((v.flags & VM_WIPEONFORK) != 0) {
                n.anonVma = null;
            } else if (Rmap.anonVmaFork(n, v) != 0) {
                VmaInit.vmAreaFree(n);
                return false;
            }
            c.insertVma(n);
            if (mm.pageTables != null && (v.flags & VM_WIPEONFORK) == 0
                && !mm.pageTables.copyTo(c.pageTables, v)) {
                return false;
            }
        }
        return true;
    }
}
