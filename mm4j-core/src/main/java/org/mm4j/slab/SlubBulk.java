package org.mm4j.slab;

import java.util.Arrays;

import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_FREELIST;
import static org.mm4j.slab.KmemCache.W_SLAB;

/**
 * {@code kmem_cache_alloc_bulk} and {@code kmem_cache_free_bulk} of a {@link KmemCache}: allocation from the CPU
 * freelist and the slow path under one slot lock ({@code __kmem_cache_alloc_bulk}), frees grouped per slab
 * ({@code build_detached_freelist}, look-ahead 3) and handed to {@code do_slab_free} one detached freelist at a
 * time.
 *
 * <p>Errors: the model's convention, 0 objects when not all could be allocated (nothing kept); a bad pointer in a
 * free is reported as a single free would report it, the rest is freed and the first refusal is thrown at the end.
 */
final class SlubBulk {
    private SlubBulk() {
    }

    /** {@code kmem_cache_alloc_bulk}: fills {@code out[0..n)}; returns n, or 0 (nothing allocated) on failure. */
    static int allocBulk(final KmemCache s, final int gfp, final long[] out, final int n) {
        s.checkLive("kmem_cache_alloc_bulk");
        if (n < 0 || n > out.length) {
            throw new IllegalArgumentException("n=" + n + " (expected: 0 to " + out.length + ")");
        }
        if (n == 0 || (s.slub.failslab.active() && s.slub.failslab.shouldFailslab(s, gfp))) {  // slab_pre_alloc_hook
            return 0;
        }
        final int cpu = s.cpus.current();
        final boolean mayReclaim = (gfp & Gfp.DIRECT_RECLAIM) != 0;
        int got = allocBulkUnchecked(s, cpu, mayReclaim ? gfp | Gfp.NOWARN : gfp, out, 0, n);
        if (got < n && mayReclaim) {
            freeBulkUnchecked(s, cpu, out, got);
            s.slub.reclaimStranded();
            got = allocBulkUnchecked(s, cpu, gfp, out, 0, n);
        }
        if (got < n) {
            freeBulkUnchecked(s, cpu, out, got);
            return 0;
        }
        for (int i = 0; i < n; i++) {
            while (s.checkKey && !DoubleFreeGuard.handoutFromFreelist(s, out[i])) {
                if (allocBulkUnchecked(s, cpu, gfp, out, i, 1) == 0) {  // the bad object was dropped: take another
                    for (int j = 0; j < i; j++) {
                        DoubleFreeGuard.markFree(s, out[j]);
                    }
                    freeBulkUnchecked(s, cpu, out, i);
                    return 0;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            s.postAlloc(out[i], gfp);
            out[i] += PhysicalMemory.PAGE_OFFSET;
        }
        return n;
    }

    /** {@code kmem_cache_free_bulk}: frees {@code objs[0..n)} (kernel virtual addresses). */
    static void freeBulk(final KmemCache s, final long[] objs, final int n) {
        s.checkLive("kmem_cache_free_bulk");
        if (n < 0 || n > objs.length) {
            throw new IllegalArgumentException("n=" + n + " (expected: 0 to " + objs.length + ")");
        }
        final int cpu = s.cpus.current();
        final long[] phys = new long[n];
        int m = 0;
        RuntimeException refused = null;
        for (int i = 0; i < n; i++) {
            if (objs[i] == 0) {
                continue;
            }
            final long p = objs[i] - PhysicalMemory.PAGE_OFFSET;
            final long slab = s.slub.virtToSlab(p);
            try {
                if (slab < 0 || s.mm.lpInt(slab, MemMap.SLAB_CACHE) != s.id || !s.validObject(slab, p)) {
                    s.free(objs[i]);  // reports the problem as a single free would
                    continue;
                }
                if (s.checkKey) {
                    DoubleFreeGuard.checkFree(s, slab, p);
                }
            } catch (final RuntimeException e) {
                if (refused == null) {
                    refused = e;  // the rest is freed; the first refusal is thrown at the end
                }
                continue;
            }
            if (s.slub.kmemleak != null) {
                s.slub.kmemleak.free(PhysicalMemory.PAGE_OFFSET + p);  // KMEMLEAK HOOK: slab_free_hook -> kmemleak_free
            }
            if (s.slub.initOnFree) {
                s.mem.fill(p, s.objectSize, (byte) 0);
            }
            if (s.checkKey) {
                DoubleFreeGuard.markFree(s, p);
            }
            if (s.pcs != null) {
                s.slabFree(cpu, slab, p);
            } else {
                phys[m++] = p;
            }
        }
        freeBulkUnchecked(s, cpu, phys, m);
        if (refused != null) {
            throw refused;
        }
    }

    /** {@code __kmem_cache_alloc_bulk}: objects (phys) into {@code out[from..from+n)}; returns how many. */
    static int allocBulkUnchecked(final KmemCache s, final int cpu, final int gfp, final long[] out, final int from,
                             final int n) {
        final int base = cpu * STRIDE;
        s.lockSlot(cpu);
        try {
            for (int i = 0; i < n; i++) {
                final long fl = s.pcpu[base + W_FREELIST];
                final long obj;
                if (fl != 0) {
                    s.pcpu[base + W_FREELIST] = Math.max(s.nextFree(s.pcpu[base + W_SLAB], fl), 0);
                    obj = fl;
                    s.statInc(cpu, StatItem.ALLOC_FASTPATH);
                } else {
                    obj = SlubSlowPath.slabAllocLocked(s, cpu, gfp, -1, s.objectSize);
                    if (obj == 0) {
                        return i;
                    }
                }
                out[from + i] = obj;
            }
            return n;
        } finally {
            s.release(cpu);
        }
    }

    /**
     * {@code __kmem_cache_free_bulk}: frees objects (phys, all of this cache, already checked) by building a
     * detached freelist per slab ({@code build_detached_freelist}, look-ahead 3) and freeing each in one go.
     */
    static void freeBulkUnchecked(final KmemCache s, final int cpu, final long[] p, final int count) {
        int size0 = count;
        final long[] work = Arrays.copyOf(p, count);
        while (size0 > 0) {
            // build_detached_freelist
            final long head = work[--size0];
            final long slab = s.slub.virtToSlab(head);
            long tail = head;
            int cnt = 1;
            int lookahead = 3;
            long fl = head;
            for (int i = size0 - 1; i >= 0; i--) {
                final long obj = work[i];
                if (s.slub.virtToSlab(obj) == slab) {
                    s.setFp(obj, fl);
                    fl = obj;
                    cnt++;
                    work[i] = work[--size0];
                } else if (--lookahead == 0) {
                    break;
                }
            }
            s.doSlabFree(cpu, slab, fl, tail, cnt);
        }
    }
}
