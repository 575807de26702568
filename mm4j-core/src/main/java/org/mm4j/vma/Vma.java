package org.mm4j.vma;

/**
 * One {@code vm_area_struct}: the half-open range {@code [start, end)} of a process address space with its flags,
 * backing ({@link VmFile} or anonymous), {@code vm_pgoff}, {@code anon_vma} and anonymous name.
 *
 * <p>Invariants (checked by {@link VmaStore#validate()}): {@code start < end}, both page aligned; VMAs of one mm
 * never overlap; {@link #prev}/{@link #next} give address order; with the rbtree store, {@code subtreeGap} is the
 * largest {@link VmaTree#gap(Vma)} in this node's subtree (the 5.x {@code rb_subtree_gap}); the maple tree
 * ({@link MapleVmaStore}) leaves the rbtree fields unused.
 *
 * <p>Memory: with a booted kernel each VMA is an object of the {@code vm_area_struct} slab cache ({@link #kaddr},
 * {@link VmaInit}) linked to its anon_vmas through {@code anon_vma_chain} objects ({@link #avcs}, {@link Rmap}).
 *
 * <p>Threads: a VMA is read and written only under its mm's lock (the model's {@code mmap_lock}); the fields are
 * plain on purpose so that {@code find_vma} under that lock ({@code MmStruct.findVmaLocked}) allocates nothing and
 * takes no lock of its own.
 */
public final class Vma {
    long start;
    long end;
    long flags;
    /** {@code vm_pgoff}: file offset in pages; for private anonymous memory the page number at creation. */
    long pgoff;
    VmFile file;
    AnonVma anonVma;
    /** {@code anon_vma_name}, or null. */
    String anonName;
    /** Name of a special mapping ({@code [vdso]}, {@code [vvar]}, ...), or null. */
    String specialName;
    MmStruct mm;
    /** The object's address in the vm_area_struct cache ({@link ProcCaches}), or 0 without a kernel. */
    long kaddr;
    /** {@code vma->anon_vma_chain}: the chains linking this VMA to its anon_vmas (null when empty). */
    java.util.ArrayList<AnonVmaChain> avcs;

    // augmented red-black tree (mm->mm_rb in 5.x) and the address-ordered list (vm_prev / vm_next)
    Vma left;
    Vma right;
    Vma parent;
    boolean red;
    long subtreeGap;
    Vma prev;
    Vma next;

    Vma(final MmStruct mm, final long start, final long end, final long flags, final long pgoff) {
        this.mm = mm;
        this.start = start;
        this.end = end;
        this.flags = flags;
        this.pgoff = pgoff;
    }

    /**
     * The fields {@code vm_area_dup} copies: same flags, file, anon_vma, name; not linked, no slab object and no
     * anon_vma chains (see {@link VmaInit#vmAreaDup}).
     */
    Vma dup() {
        final Vma v = new Vma(mm, start, end, flags, pgoff);
        v.file = file;
        v.anonVma = anonVma;
        v.anonName = anonName;
        v.specialName = specialName;
        return v;
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    public long flags() {
        return flags;
    }

    public long pgoff() {
        return pgoff;
    }

    public VmFile file() {
        return file;
    }

    AnonVma anonVma() {
        return anonVma;
    }

    public String anonName() {
        return anonName;
    }

    public String specialName() {
        return specialName;
    }

    public Vma prevVma() {
        return prev;
    }

    public Vma nextVma() {
        return next;
    }

    public long pages() {
        return (end - start) >>> 12;
    }

    /** {@code vma_is_anonymous}: no file and no special ops (private anonymous memory). */
    public boolean isAnonymous() {
        return file == null && specialName == null;
    }

    @Override
    public String toString() {
        return String.format("%x-%x %s pgoff=%x%s%s", start, end, VmFlags.toString(flags), pgoff,
            file == null ? "" : " " + file.path(), anonVma == null ? "" : " anon_vma=" + anonVma.id());
    }
}
