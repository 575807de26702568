package org.mm4j.vma;

import static org.mm4j.vma.Errno.ENOMEM;

import java.util.ArrayList;

/**
 * The anon_vma side of {@code mm/rmap.c} (Linux 6.18) as far as it allocates: {@code __anon_vma_prepare} (one
 * {@code anon_vma_chain}, and an {@code anon_vma} unless a neighbour's is reused), {@code anon_vma_clone} (one
 * chain for every chain of the source VMA: a split, {@code copy_vma}, a merge that gives a VMA its neighbour's
 * anon_vma), {@code anon_vma_fork} (the parent's chains cloned, then a new anon_vma for the child and one more
 * chain) and {@code unlink_anon_vmas} (every chain freed; an anon_vma left without chains drops its reference, and
 * is freed at refcount 0, dropping its root's). Objects come from the "anon_vma" and "anon_vma_chain" caches of
 * {@link ProcCaches}; an mm without caches only sets the anon_vma pointers, as before.
 *
 * <p>Results: 0 or -ENOMEM, with nothing left allocated by the failed call (the kernel's {@code enomem_failure}
 * unwinding). Departure: the kernel's merge paths ({@code dup_anon_vma}) may fail with -ENOMEM too; mm4j's merges
 * clone with {@code __GFP_NOFAIL} ({@link #anonVmaCloneNoFail}) so that a merge never has to be undone.
 *
 * <p>Threads: the caller holds the mmap lock of the VMA's mm (and, in a fork, the child's too): it guards the
 * VMA's chain list. An anon_vma is shared by the VMAs of a parent and its children, which other mm locks guard,
 * so its {@code chains} and {@code refcount} change under its root's monitor (the kernel's
 * {@code anon_vma_lock_write(root)}); the objects are freed after that monitor is left.
 */
final class Rmap {
    private Rmap() {
    }

    /**
     * {@code __anon_vma_prepare}: gives {@code vma} the anon_vma {@code reuse} (a neighbour's, from
     * {@code find_mergeable_anon_vma}) or a new one, linked by a new chain; 0 or -ENOMEM (nothing changed).
     */
    static int anonVmaPrepare(final Vma vma, final AnonVma reuse) {
        final ProcCaches c = vma.mm.procCaches;
        if (c == null) {
            vma.anonVma = reuse != null ? reuse : new AnonVma(null);
            return 0;
        }
        final long avc = ProcCaches.alloc(c.anonVmaChain);
        if (avc == 0) {
            return -ENOMEM;
        }
        AnonVma av = reuse;
        if (av == null) {
            av = new AnonVma(null);
            av.kaddr = ProcCaches.alloc(c.anonVma);
            if (av.kaddr == 0) {
                ProcCaches.free(c.anonVmaChain, avc);
                return -ENOMEM;
            }
        }
        vma.anonVma = av;
        link(vma, av, avc);
        return 0;
    }

    /**
     * An anon_vma for a VMA set up already faulted (exec's stack, replay's {@code #BEFORE}): as
     * {@link #anonVmaPrepare} with {@code __GFP_NOFAIL}.
     */
    static void anonVmaPrepareNoFail(final Vma vma) {
        final ProcCaches c = vma.mm.procCaches;
        if (c == null) {
            vma.anonVma = new AnonVma(null);
            return;
        }
        final AnonVma av = new AnonVma(null);
        av.kaddr = ProcCaches.allocNoFail(c.anonVma);
        vma.anonVma = av;
        link(vma, av, ProcCaches.allocNoFail(c.anonVmaChain));
    }

    /** {@code anon_vma_chain_link}, under the root's lock ({@code anon_vma_lock_write(anon_vma->root)}). */
    private static void link(final Vma vma, final AnonVma av, final long avcKaddr) {
        if (vma.avcs == null) {
            vma.avcs = new ArrayList<>(2);
        }
        vma.avcs.add(new AnonVmaChain(avcKaddr, av));
        synchronized (av.root) {
            av.chains++;
        }
    }

    /**
     * {@code anon_vma_clone(dst, src)}: a chain for every chain of {@code src}; 0, or -ENOMEM with {@code dst}'s
     * chains unlinked again.
     */
    static int anonVmaClone(final Vma dst, final Vma src) {
        final ProcCaches c = dst.mm.procCaches;
        if (c == null || src.avcs == null) {
            return 0;
        }
        for (int i = src.avcs.size() - 1; i >= 0; i--) {
            final long avc = ProcCaches.alloc(c.anonVmaChain);
            if (avc == 0) {
                unlinkAnonVmas(dst);
                return -ENOMEM;
            }
            link(dst, src.avcs.get(i).anonVma(), avc);
        }
        return 0;
    }

    /** {@link #anonVmaClone} for the merge paths ({@code dup_anon_vma}): {@code __GFP_NOFAIL}, see the class. */
    static void anonVmaCloneNoFail(final Vma dst, final Vma src) {
        final ProcCaches c = dst.mm.procCaches;
        if (c == null || src.avcs == null) {
            return;
        }
        for (int i = src.avcs.size() - 1; i >= 0; i--) {
            link(dst, src.avcs.get(i).anonVma(), ProcCaches.allocNoFail(c.anonVmaChain));
        }
    }

    /**
     * {@code anon_vma_fork(child, parent)}: the child VMA gets the parent's chains and a new anon_vma of its own
     * (a child of the parent's), linked by one more chain; 0 or -ENOMEM with the child's chains unlinked.
     */
    static int anonVmaFork(final Vma child, final Vma parent) {
        child.anonVma = null;
        if (parent.anonVma == null) {
            return 0;
        }
        final ProcCaches c = child.mm.procCaches;
        final AnonVma av = new AnonVma(parent.anonVma);
        if (c == null) {
            child.anonVma = av;
            return 0;
        }
        if (anonVmaClone(child, parent) != 0) {
            return -ENOMEM;
        }
        av.kaddr = ProcCaches.alloc(c.anonVma);
        if (av.kaddr == 0) {
            unlinkAnonVmas(child);
            return -ENOMEM;
        }
        synchronized (av.root) {
            av.root.refcount++; // get_anon_vma(anon_vma->root)
        }
        final long avc = ProcCaches.alloc(c.anonVmaChain);
        if (avc == 0) {
            putAnonVma(c, av);
            unlinkAnonVmas(child);
            return -ENOMEM;
        }
        child.anonVma = av;
        link(child, av, avc);
        return 0;
    }

    /**
     * {@code unlink_anon_vmas}: frees every chain of {@code vma}; an anon_vma left with no chain drops its own
     * reference ({@code put_anon_vma}). The VMA keeps its anon_vma pointer (it is being freed or reset).
     */
    static void unlinkAnonVmas(final Vma vma) {
        final ArrayList<AnonVmaChain> l = vma.avcs;
        if (l == null) {
            return;
        }
        vma.avcs = null;
        final ProcCaches c = vma.mm.procCaches;
        for (final AnonVmaChain avc : l) {
            ProcCaches.free(c.anonVmaChain, avc.kaddr());
            final AnonVma av = avc.anonVma();
            final boolean last;
            synchronized (av.root) {
                last = --av.chains == 0;
            }
            if (last) {
                putAnonVma(c, av);
            }
        }
    }

    /** {@code put_anon_vma}: at refcount 0 the anon_vma is freed, and drops its root's reference. */
    private static void putAnonVma(final ProcCaches c, final AnonVma av) {
        final AnonVma root = av.root;
        final long free;
        long freeRoot = 0;
        synchronized (root) {
            if (--av.refcount != 0) {
                return;
            }
            free = av.kaddr;
            av.kaddr = 0;
            if (root != av && --root.refcount == 0) {
                freeRoot = root.kaddr;
                root.kaddr = 0;
            }
        }
        ProcCaches.free(c.anonVma, free);
        ProcCaches.free(c.anonVma, freeRoot);
    }
}
