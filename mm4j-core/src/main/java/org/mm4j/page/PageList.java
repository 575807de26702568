package org.mm4j.page;

/**
 * Doubly linked lists of pages threaded through {@link MemMap#LRU_NEXT}/{@link MemMap#LRU_PREV}, the kernel's
 * {@code list_head} in {@code struct page}: a list is {@code head[hi]} and {@code tail[ti]} (-1 = empty or end;
 * the two may be one array). Used for the zones' free areas and the per-CPU lists; the caller holds the lock.
 */
final class PageList {
    private PageList() {
    }

    /** {@code list_add}. */
    static void addHead(final MemMap mm, final long[] head, final int hi, final long[] tail, final int ti,
                        final long pfn) {
        final long h = head[hi];
        mm.lruNext(pfn, h);
        mm.lruPrev(pfn, -1);
        if (h >= 0) {
            mm.lruPrev(h, pfn);
        } else {
            tail[ti] = pfn;
        }
        head[hi] = pfn;
    }

    /** {@code list_add_tail}. */
    static void addTail(final MemMap mm, final long[] head, final int hi, final long[] tail, final int ti,
                        final long pfn) {
        final long t = tail[ti];
        mm.lruPrev(pfn, t);
        mm.lruNext(pfn, -1);
        if (t >= 0) {
            mm.lruNext(t, pfn);
        } else {
            head[hi] = pfn;
        }
        tail[ti] = pfn;
    }

    /** {@code list_del}, leaving the page's links at -1. */
    static void unlink(final MemMap mm, final long[] head, final int hi, final long[] tail, final int ti,
                        final long pfn) {
        final long next = mm.lruNext(pfn);
        final long prev = mm.lruPrev(pfn);
        if (prev >= 0) {
            mm.lruNext(prev, next);
        } else {
            head[hi] = next;
        }
        if (next >= 0) {
            mm.lruPrev(next, prev);
        } else {
            tail[ti] = prev;
        }
        mm.lruNext(pfn, -1);
        mm.lruPrev(pfn, -1);
    }
}
