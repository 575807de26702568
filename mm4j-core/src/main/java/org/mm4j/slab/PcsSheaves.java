package org.mm4j.slab;

import static org.mm4j.slab.KmemCache.E_PCS_TRYLOCK_FAIL;
import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_EVENTS;

/**
 * The per-CPU sheaves of Linux 6.18 ({@code struct slub_percpu_sheaves}, {@link CpuSheaves}) as a
 * {@link KmemCache} with a sheaf capacity uses them: {@code alloc_from_pcs}, {@code free_to_pcs} with the barn
 * exchange ({@code barn_replace_empty_sheaf}/{@code barn_replace_full_sheaf}), {@code refill_sheaf} and
 * {@code sheaf_flush_unused}.
 *
 * <p>Threads: a slot's sheaves are guarded by its {@link CpuSheaves} try-lock (the kernel's
 * {@code local_trylock}); a thread that finds it held falls back to the slab paths (counted as a model event).
 * The barn has its own lock, taken inside the sheaf lock (lock order 4 of {@link KmemCache}). Refills and flushes
 * go through the slot lock and {@code list_lock} of the slab paths, which are taken after the sheaf lock.
 */
final class PcsSheaves {
    private PcsSheaves() {
    }

    /**
     * {@code init_kmem_cache_nodes} with {@code barn_init}: a node per NUMA node, each with a barn when the cache
     * has per-CPU sheaves or the JVM's per-thread sheaves park there (up to about 1 MiB of objects, at most 64
     * sheaves, for the latter, whose capacity is the cache's thread sheaf capacity); no barn otherwise.
     */
    static KmemCacheNode[] initKmemCacheNodes(final int nrNodes, final int sheafCapacity, final Slub slub,
                                              final int size) {
        final int threadCap = slub.threadSheafCapacity(size, sheafCapacity);
        final KmemCacheNode[] nodes = new KmemCacheNode[nrNodes];
        for (int n = 0; n < nrNodes; n++) {
            final Barn barn;
            if (sheafCapacity > 0) {
                barn = new Barn();
            } else if (threadCap > 0) {
                final int max = Math.max(Barn.MAX_FULL_SHEAVES, Math.min(64, (1 << 20) / (threadCap * size)));
                barn = new Barn(max, max);
            } else {
                barn = null;
            }
            nodes[n] = new KmemCacheNode(n, barn);
        }
        return nodes;
    }

    /**
     * {@code init_percpu_sheaves}: an empty main sheaf per CPU slot ({@code alloc_empty_sheaf}, each a
     * {@code SHEAF_ALLOC} event), or null when the cache has no sheaf capacity.
     */
    static CpuSheaves[] initPercpuSheaves(final int nrCpus, final int sheafCapacity) {
        if (sheafCapacity <= 0) {
            return null;
        }
        final CpuSheaves[] pcs = new CpuSheaves[nrCpus];
        for (int c = 0; c < nrCpus; c++) {
            pcs[c] = new CpuSheaves(sheafCapacity);
        }
        return pcs;
    }

    /** {@code alloc_from_pcs}: pops from the slot's main sheaf under its try-lock. Returns phys or 0. */
    static long allocFromPcs(final KmemCache s, final int cpu, final int gfp) {
        final CpuSheaves p = s.pcs[cpu];
        if (!p.tryLock()) {
            s.pcpu[cpu * STRIDE + W_EVENTS + E_PCS_TRYLOCK_FAIL]++;
            return 0;
        }
        try {
            Sheaf main = p.main;
            if (main.size == 0) {
                if (p.spare != null && p.spare.size > 0) {
                    p.main = p.spare;
                    p.spare = main;
                } else {
                    final KmemCacheNode n = s.nodes[s.localNode(cpu)];
                    final Sheaf full = n.barn.getFull();
                    if (full != null) {
                        s.statInc(cpu, StatItem.BARN_GET);
                        if (p.spare == null) {
                            p.spare = main;
                        } else if (!n.barn.putEmpty(main)) {
                            s.statInc(cpu, StatItem.SHEAF_FREE);
                        }
                        p.main = full;
                    } else {
                        s.statInc(cpu, StatItem.BARN_GET_FAIL);
                        if (refillSheaf(s, cpu, gfp, main) == 0) {
                            return 0;
                        }
                    }
                }
                main = p.main;
            }
            s.statInc(cpu, StatItem.ALLOC_PCS);
            return main.objects[--main.size];
        } finally {
            p.unlock();
        }
    }

    /** {@code free_to_pcs}: pushes on the slot's main sheaf; false when the try-lock fails. */
    static boolean freeToPcs(final KmemCache s, final int cpu, final long phys) {
        final CpuSheaves p = s.pcs[cpu];
        if (!p.tryLock()) {
            s.pcpu[cpu * STRIDE + W_EVENTS + E_PCS_TRYLOCK_FAIL]++;
            return false;
        }
        try {
            Sheaf main = p.main;
            if (main.size == main.capacity()) {
                if (p.spare != null && p.spare.size < p.spare.capacity()) {
                    p.main = p.spare;
                    p.spare = main;
                } else {
                    final KmemCacheNode n = s.nodes[s.localNode(cpu)];
                    Sheaf empty = n.barn.getEmpty();
                    if (empty == null) {
                        empty = new Sheaf(s.sheafCapacity);
                        s.statInc(cpu, StatItem.SHEAF_ALLOC);
                    }
                    if (n.barn.putFull(main)) {
                        s.statInc(cpu, StatItem.BARN_PUT);
                    } else {
                        s.statInc(cpu, StatItem.BARN_PUT_FAIL);
                        flushSheafToSlabs(s, cpu, main);
                        if (!n.barn.putEmpty(main)) {
                            s.statInc(cpu, StatItem.SHEAF_FREE);
                        }
                    }
                    p.main = empty;
                }
                main = p.main;
            }
            main.objects[main.size++] = phys;
            s.statInc(cpu, StatItem.FREE_PCS);
            return true;
        } finally {
            p.unlock();
        }
    }

    /** {@code refill_sheaf}: fills a sheaf to capacity by bulk allocation from slabs. Returns objects added. */
    static int refillSheaf(final KmemCache s, final int cpu, final int gfp, final Sheaf sheaf) {
        final int want = sheaf.capacity() - sheaf.size;
        if (want <= 0) {
            return 0;
        }
        final int got = SlubBulk.allocBulkUnchecked(s, cpu, gfp, sheaf.objects, sheaf.size, want);
        if (s.checkKey && s.keyIsFp) {
            for (int i = sheaf.size; i < sheaf.size + got; i++) {
                // off the freelist, the free pointer's word holds the key
                DoubleFreeGuard.markFree(s, sheaf.objects[i]);
            }
        }
        sheaf.size += got;
        s.statAdd(cpu, StatItem.SHEAF_REFILL, got);
        return got;
    }

    /** {@code sheaf_flush_unused}: returns every object of a sheaf to its slab. */
    static void flushSheafToSlabs(final KmemCache s, final int cpu, final Sheaf sheaf) {
        if (sheaf.size == 0) {
            return;
        }
        s.statAdd(cpu, StatItem.SHEAF_FLUSH, sheaf.size);
        SlubBulk.freeBulkUnchecked(s, cpu, sheaf.objects, sheaf.size);
        sheaf.size = 0;
    }

    /** {@code pcs_flush_all} for one slot. */
    static void pcsFlush(final KmemCache s, final int cpu) {
        final CpuSheaves p = s.pcs[cpu];
        p.lock();
        try {
            flushSheafToSlabs(s, cpu, p.main);
            if (p.spare != null) {
                flushSheafToSlabs(s, cpu, p.spare);
            }
        } finally {
            p.unlock();
        }
    }
}
