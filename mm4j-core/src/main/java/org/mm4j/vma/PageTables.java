package org.mm4j.vma;

/** Placeholder replaced by the 4-level page tables. */
final class PageTables {
    void zapRange(final Vma vma, final long start, final long end) {
    }

    void changeProtection(final Vma vma, final long start, final long end) {
    }

    void moveRange(final long from, final long to, final long len) {
    }

    void fault(final Vma vma, final long addr, final boolean write) {
    }
}
