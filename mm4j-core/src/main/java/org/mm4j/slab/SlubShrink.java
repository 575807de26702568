package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_FREELIST;
import static org.mm4j.slab.KmemCache.W_PARTIAL;
import static org.mm4j.slab.KmemCache.W_SLAB;
import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * Flushing, shrinking and shutting down a {@link KmemCache}: {@code flush_all} and {@code __flush_cpu_slab} (CPU
 * slabs, CPU partial lists and sheaves back to the node lists), {@code __kmem_cache_do_shrink} (empty slabs back
 * to the page allocator, fuller slabs first) and {@code __kmem_cache_shutdown} with {@code list_slab_objects}.
 *
 * <p>Threads: any thread may flush any slot: {@link #flushCpuSlab} takes the slot's lock and seizes its word, so
 * the slot's own threads meet a LOCKED word and wait or take the slow free path. Shrinking takes each node's
 * {@code list_lock}; slabs are freed to the page allocator after the lock is dropped.
 */
final class SlubShrink {
    private SlubShrink() {
    }

    /**
     * {@code flush_all}: every slot's sheaves, the calling thread's and ended threads' sheaves, the barns'
     * sheaves, then every CPU slab and CPU partial list go back to the node lists. The sheaves go first: freeing
     * their objects can put slabs on the calling slot's CPU partial list, which the CPU flush then empties (with
     * the barns drained after it, as {@code __kmem_cache_do_shrink} alone would, a shrink or a destroy left
     * empty slabs on a CPU partial list; mm4j drains them here, a departure in order only).
     */
    static void flushAll(final KmemCache s) {
        if (s.pcs != null) {
            for (int c = 0; c < s.nrCpus; c++) {
                PcsSheaves.pcsFlush(s, c);
            }
        }
        s.slub.flushThreadSheaves(s);
        drainBarns(s);
        for (int c = 0; c < s.nrCpus; c++) {
            flushCpuSlab(s, c);
        }
    }

    /** {@code __flush_cpu_slab}: run for slot {@code cpu} from any thread. */
    static void flushCpuSlab(final KmemCache s, final int cpu) {
        final int base = cpu * STRIDE;
        long slab;
        long fl;
        long partial;
        s.lockSlot(cpu);
        try {
            slab = s.pcpu[base + W_SLAB];
            fl = s.pcpu[base + W_FREELIST];
            s.pcpu[base + W_SLAB] = -1;
            s.pcpu[base + W_FREELIST] = 0;
            partial = s.pcpu[base + W_PARTIAL];
            s.pcpu[base + W_PARTIAL] = -1;
        } finally {
            s.release(cpu);
        }
        if (slab >= 0) {
            SlubPartial.deactivateSlab(s, cpu, slab, fl);
            s.statInc(cpu, StatItem.CPUSLAB_FLUSH);
        }
        if (partial >= 0) {
            SlubPartial.putPartials(s, cpu, partial);
        }
    }

    /** {@code barn_shrink} of every node: full sheaves back to the slabs, empty ones dropped. */
    static void drainBarns(final KmemCache s) {
        for (final KmemCacheNode n : s.nodes) {
            if (n.barn != null) {
                for (final Sheaf sheaf : n.barn.drainAll()) {
                    PcsSheaves.flushSheafToSlabs(s, s.cpus.current(), sheaf);
                }
            }
        }
    }

    /** {@code __kmem_cache_do_shrink}: frees empty partial slabs; fuller slabs first on each list. */
    static void doShrink(final KmemCache s) {
        for (final KmemCacheNode n : s.nodes) {
            final List<Long> discard = new ArrayList<>();
            n.listLock.lock();
            try {
                final List<List<Long>> promote = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    promote.add(new ArrayList<>());
                }
                long slab = n.partialHead;
                while (slab >= 0) {
                    final long next = s.mm.lruNext(slab);
                    final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
                    final int free = wObjects(w) - wInuse(w);
                    if (free <= 0 || free > wObjects(w)) {
                        slab = next;  // counters broken (mm4j.double_free=kernel): leave it for validate
                        continue;
                    }
                    if (free == wObjects(w)) {
                        n.removePartial(s.mm, slab);
                        SlabPages.decSlabsNode(s, n, wObjects(w));
                        discard.add(slab);
                    } else if (free <= 32) {
                        n.removePartial(s.mm, slab);
                        promote.get(free - 1).add(slab);
                    }
                    slab = next;
                }
                for (int i = 31; i >= 0; i--) {
                    final List<Long> l = promote.get(i);
                    for (int j = l.size() - 1; j >= 0; j--) {
                        n.addPartial(s.mm, l.get(j), false);
                    }
                }
            } finally {
                n.listLock.unlock();
            }
            for (final long slab : discard) {
                SlabPages.freeSlab(s, slab);
            }
        }
    }

    /**
     * {@code __kmem_cache_shutdown}: flushes, frees empty slabs, reports objects still allocated. Returns the
     * number of slabs that could not be freed (0 = the cache is empty).
     */
    static int shutdown(final KmemCache s) {
        flushAll(s);
        doShrink(s);
        int left = 0;
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
            try {
                for (long slab = n.partialHead; slab >= 0; slab = s.mm.lruNext(slab)) {
                    listSlabObjects(s, slab);
                    left++;
                }
            } finally {
                n.listLock.unlock();
            }
        }
        // full slabs are on no list (as in the kernel without STORE_USER); find them in mem_map to report them
        for (final long slab : SlabPages.slabsOfCache(s)) {
            if ((s.mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) == 0) {
                listSlabObjects(s, slab);
                left++;
            }
        }
        return left;
    }

    /** {@code list_slab_objects}: the kernel's report of a slab that still has objects at shutdown. */
    static void listSlabObjects(final KmemCache s, final long slab) {
        if (s.slub.debug() != null) {  // CONFIG_SLUB_DEBUG: every cache, debug flags or not
            s.slub.debug().listSlabObjects(s.debugView(), new SlabPage(s.slub, slab));
            return;
        }
        s.slub.slabErr(s, slab, "Objects remaining in " + s.name + " on __kmem_cache_shutdown()");
        final boolean[] free = freeMap(s, slab);
        final long start = s.slabStart(slab);
        final long page = PhysicalMemory.pfnToPhys(slab);
        for (int i = 0; i < free.length; i++) {
            if (!free[i]) {
                final long p = start + (long) i * s.size;
                s.log.printk("Object 0x%016x @offset=%d", p + PhysicalMemory.PAGE_OFFSET, p - page);
            }
        }
    }

    /** Which objects of a slab are on its freelist ({@code __fill_map}). */
    static boolean[] freeMap(final KmemCache s, final long slab) {
        final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
        final boolean[] map = new boolean[wObjects(w)];
        final long start = s.slabStart(slab);
        int n = 0;
        for (long p = wFreelist(slab, w); p > 0 && n < map.length; p = s.nextChecked(slab, p), n++) {
            final long idx = (p - start) / s.size;
            if (idx >= 0 && idx < map.length) {
                map[(int) idx] = true;
            }
        }
        return map;
    }

    /**
     * The reclaim of {@link Slub#reclaimStranded()} for this cache, a {@code kmem_cache_shrink}: the per-CPU,
     * the calling thread's, ended threads' and the barns' sheaves back to the slabs, the CPU slabs back to the
     * node lists, then the empty slabs back to the page allocator. No slab lock may be held by the caller.
     */
    static void reclaimSheaves(final KmemCache s) {
        flushAll(s);
        doShrink(s);
    }

    /**
     * Marks the cache destroyed. Slabs still holding objects (reported by {@link #shutdown}) keep PG_slab but
     * their cache id gets {@link KmemCache#DESTROYED_ID}: lock-free lookups by id (the thread sheaves' fast path)
     * then miss and fall to the slow paths, which name the destroyed cache ({@link Slub#cacheById} strips the bit).
     */
    static void markDestroyed(final KmemCache s) {
        s.destroyed = true;
        for (final long slab : SlabPages.slabsOfCache(s)) {
            s.mm.spInt(slab, MemMap.SLAB_CACHE, s.id | KmemCache.DESTROYED_ID);
            SlabIndex.clear(s.mm, slab, s.slabOrder(slab));
        }
    }
}
