package org.mm4j.vma;

import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@code anon_vma}: the reverse-map object a private VMA gets at its first write fault. Its identity matters to
 * merging (two VMAs merge only when at most one has an anon_vma or both share the same one). {@code parent} is the
 * anon_vma a fork child's copy was cloned from; a VMA whose anon_vma has a parent "had uncowed parents" and its
 * anon_vma is not reused by neighbours.
 *
 * <p>With a booted kernel ({@link ProcCaches}) it is also a slab object of "anon_vma" ({@link #kaddr}), kept as
 * mm/rmap.c keeps it ({@link Rmap}): {@code refcount} starts at 1 and the root gains one for every child anon_vma;
 * {@code chains} counts the {@link AnonVmaChain}s linking it (the kernel's interval tree {@code rb_root}); when the
 * last chain goes, the anon_vma drops its own reference, and at refcount 0 it is freed (and drops its root's).
 * {@code chains} and {@code refcount} change under the root's monitor ({@link Rmap}); {@code kaddr} too once the
 * anon_vma is shared.
 */
final class AnonVma {
    private static final AtomicLong IDS = new AtomicLong();
    private final long id = IDS.incrementAndGet();
    final AnonVma parent;
    /** {@code anon_vma->root}: itself for an anon_vma made at a fault, the parent's root for a fork child's. */
    final AnonVma root;
    /** The object's address in the anon_vma cache, or 0 (no kernel). */
    long kaddr;
    /** {@code anon_vma->refcount}. */
    int refcount = 1;
    /** Chains linking this anon_vma ({@code anon_vma->rb_root} not empty while > 0). */
    int chains;

    AnonVma(final AnonVma parent) {
        this.parent = parent;
        this.root = parent == null ? this : parent.root;
    }

    public long id() {
        return id;
    }
}
