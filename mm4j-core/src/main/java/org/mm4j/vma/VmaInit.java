package org.mm4j.vma;

/**
 * The life of a VMA's memory ({@code mm/vma_init.c}, Linux 6.18): {@code vm_area_alloc}, {@code vm_area_dup} and
 * {@code vm_area_free} over the {@code vm_area_struct} slab cache of {@link ProcCaches}. An mm built without a
 * kernel (no caches) gets plain objects with no slab address ({@code kaddr} 0).
 *
 * <p>Results follow the kernel: an allocation that fails (failslab, memory exhausted) returns null, and the caller
 * takes its -ENOMEM path before it changes the address space.
 *
 * <p>Threads: the caller holds the mmap lock of the VMA's mm (asserted by the callers' entry points).
 */
final class VmaInit {
    private VmaInit() {
    }

    /** {@code vm_area_alloc} + the range: a new unlinked VMA, or null when its slab object could not be had. */
    static Vma vmAreaAlloc(final MmStruct mm, final long start, final long end, final long flags, final long pgoff) {
        final Vma v = new Vma(mm, start, end, flags, pgoff);
        return attach(mm, v);
    }

    /**
     * {@code vm_area_dup}: a copy of {@code src}'s fields (range, flags, file, anon_vma pointer, names) with its
     * own slab object and no anon_vma chains (the caller clones them: {@link Rmap#anonVmaClone}); null on failure.
     */
    static Vma vmAreaDup(final Vma src) {
        return attach(src.mm, src.dup());
    }

    /**
     * {@code vm_area_dup} then {@code anon_vma_clone}, as {@code __split_vma} and {@code copy_vma} do: the copy
     * with its own chains, or null (nothing left allocated) when either could not be had.
     */
    static Vma vmAreaDupClone(final Vma src) {
        final Vma n = vmAreaDup(src);
        if (n != null && Rmap.anonVmaClone(n, src) != 0) {
            vmAreaFree(n);
            return null;
        }
        return n;
    }

    private static Vma attach(final MmStruct mm, final Vma v) {
        if (mm.procCaches != null) {
            v.kaddr = ProcCaches.alloc(mm.procCaches.vmArea);
            if (v.kaddr == 0) {
                return null;
            }
        }
        return v;
    }

    /**
     * {@code remove_vma}'s end of a VMA that left the tree: {@code unlink_anon_vmas}, then {@code vm_area_free}.
     * The Java object stays readable (callers look at its old range) but owns no memory any more.
     */
    static void vmAreaFree(final Vma v) {
        Rmap.unlinkAnonVmas(v);
        if (v.kaddr != 0) {
            ProcCaches.free(v.mm.procCaches.vmArea, v.kaddr);
            v.kaddr = 0;
        }
    }
}
