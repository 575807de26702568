package org.mm4j.vma;

import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@code anon_vma}: the reverse-map object a private VMA gets at its first write fault. Only its identity
 * matters to merging (two VMAs merge only when at most one has an anon_vma or both share the same one).
 * {@code parent} is the anon_vma a fork child's copy was cloned from; a VMA whose anon_vma has a parent "had
 * uncowed parents" and its anon_vma is not reused by neighbours.
 */
final class AnonVma {
    private static final AtomicLong IDS = new AtomicLong();
    private final long id = IDS.incrementAndGet();
    final AnonVma parent;

    AnonVma(final AnonVma parent) {
        this.parent = parent;
    }

    public long id() {
        return id;
    }
}
