package org.mm4j.vma;

import java.util.Queue;

/**
 * The per-thread {@code vmacache} of kernels 3.15-5.19 ({@code mm/vmacache.c}): four recently found VMAs, slot
 * {@code (addr >> PAGE_SHIFT) & 3}. It is valid only while its {@code seqnum} equals the mm's; any change to
 * the mm's VMAs bumps the mm's seqnum ({@code vmacache_invalidate}) and the next lookup flushes the cache.
 *
 * <p>Threads: each instance belongs to one thread (a ThreadLocal of its mm) and only that thread writes it; the
 * {@code vmacache_find_calls}/{@code _hits} counters are plain per-thread longs that /proc/vmstat sums.
 */
final class VmaCache {
    static final int VMACACHE_SIZE = 4;
    final Vma[] vmas = new Vma[VMACACHE_SIZE];
    long seqnum = -1;
    long findCalls;
    long findHits;

    /** The thread this cache belongs to. */
    final Thread owner = Thread.currentThread();

    VmaCache(final Queue<VmaCache> registry) {
        registry.add(this);
    }

    static int hash(final long addr) {
        return (int) (addr >>> 12) & (VMACACHE_SIZE - 1);
    }

    void flush() {
        vmas[0] = null;
        vmas[1] = null;
        vmas[2] = null;
        vmas[3] = null;
    }
}
