package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.SlubDebug;

import static org.mm4j.slab.KmemCache.kaddr;
import static org.mm4j.slab.KmemCache.slabWord;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * Slabs from and to the page allocator for a {@link KmemCache}: {@code allocate_slab}/{@code new_slab} (the
 * higher order first, the minimum order as fallback; {@code setup_slab_debug}, constructors, the freelist in
 * order or shuffled by {@code shuffle_freelist} with {@code CONFIG_SLAB_FREELIST_RANDOM}), {@code discard_slab}
 * and {@code free_slab}, the node counters ({@code inc_slabs_node}/{@code dec_slabs_node}), and the walk of
 * mem_map that finds every slab of a cache.
 *
 * <p>Threads: a new slab belongs to the allocating thread until it is published (as a CPU slab or on a list); a
 * slab is discarded only once it is off every list and CPU. Every creation and discard is bracketed by
 * {@code slabChangesBegun}/{@code slabChangesDone}, so validate can tell a quiet walk from one that overlapped.
 */
final class SlabPages {
    private SlabPages() {
    }

    /** {@code new_slab}/{@code allocate_slab}: pages from the buddy allocator, objects set up and linked. */
    static long newSlab(final KmemCache s, final int cpu, final int gfp, final int nid) {
        final int node = nid < 0 ? s.localNode(cpu) : nid;
        final int base = (gfp & (Gfp.THISNODE | Gfp.NOWARN)) | s.allocGfp;
        int order = s.oo;
        long pfn = s.buddy.allocPagesNode(base | Gfp.NOWARN | Gfp.NORETRY, order, node);
        if (pfn < 0 && s.geo.minOrder() != s.oo) {
            order = s.geo.minOrder();
            pfn = s.buddy.allocPagesNode(base, order, node);
            if (pfn >= 0) {
                s.statInc(cpu, StatItem.ORDER_FALLBACK);
            }
        }
        if (pfn < 0) {
            return -1;
        }
        final int objects = Geometry.orderObjects(order, s.size);
        s.slabChangesBegun.incrementAndGet();  // done in incSlabsNode
        s.mm.setFlag(pfn, MemMap.PG_SLAB);
        s.mm.spInt(pfn, MemMap.SLAB_CACHE, s.id);
        s.mm.privateWord(pfn, 0);
        s.mm.spLong(pfn, MemMap.SLAB_NEXT, 0);
        s.mm.lruNext(pfn, -1);
        s.mm.lruPrev(pfn, -1);
        final SlubDebug dbg = s.slub.debug();
        final KmemCacheDebugView view = s.debug ? s.debugView() : null;
        if (s.debug) {
            dbg.setupSlabDebug(view, PhysicalMemory.pageAddress(pfn), (long) PhysicalMemory.PAGE_SIZE << order);
        }
        final long start = s.slabStart(pfn);
        setupObjects(s, start, objects, dbg, view);
        final long head = s.randomSeq != null && objects >= 2 ? shuffleFreelist(s, start, objects) : start;
        if (head == start) {
            linkFreelist(s, start, objects);
        }
        s.mm.svLong(pfn, MemMap.SLAB_WORD, slabWord(pfn, head, 0, objects, false));
        SlabIndex.set(s, pfn, order, objects);
        s.slub.accountSlabPages(s, 1 << order);
        MmEvents.slabGrow(s.log.kernelId(), s.name, order, objects, s.slabNid(pfn),
            PhysicalMemory.pageAddress(pfn));  // JFR
        return pfn;
    }

    /*
     * The per-object loops of a new slab are methods of their own: they run every slab allocation, so the JIT
     * compiles them on the stack (OSR) while they run; as loops of newSlab, that compile was of newSlab with the
     * whole page allocation it inlines, a second time.
     */

    /** {@code setup_object} for each object of a new slab: debug padding, constructor, double-free key. */
    private static void setupObjects(final KmemCache s, final long start, final int objects, final SlubDebug dbg,
                                     final KmemCacheDebugView view) {
        for (int i = 0; i < objects; i++) {
            final long p = start + (long) i * s.size;
            if (s.debug) {
                dbg.setupObjectDebug(view, kaddr(p));
            }
            if (s.ctor != null) {
                s.ctor.construct(s.mem.slice(p, s.objectSize));
            }
            if (s.checkKey && !s.keyIsFp) {
                DoubleFreeGuard.markFree(s, p);
            }
        }
    }

    /** The free pointers of an unshuffled new slab: each object to the next, the last to NULL. */
    private static void linkFreelist(final KmemCache s, final long start, final int objects) {
        for (int i = 0; i < objects; i++) {
            final long p = start + (long) i * s.size;
            s.setFp(p, i + 1 < objects ? p + s.size : 0);
        }
    }

    /**
     * {@code init_cache_random_seq}: a Fisher-Yates shuffle ({@code freelist_randomize}) of the object indices of
     * an oo-order slab, turned into offsets; null when a slab holds fewer than 2 objects.
     */
    static int[] initCacheRandomSeq(final Geometry geo, final String name, final int size, final long seed) {
        final int count = geo.objects();
        if (count < 2) {
            return null;
        }
        final int[] seq = new int[count];
        for (int i = 0; i < count; i++) {
            seq[i] = i;
        }
        final long stream = SlabRandom.stream(name, 2);
        for (int i = count - 1; i > 0; i--) {
            final int r = SlabRandom.below(SlabRandom.next(seed, stream, i), i + 1);
            final int t = seq[i];
            seq[i] = seq[r];
            seq[r] = t;
        }
        for (int i = 0; i < count; i++) {
            seq[i] *= size;
        }
        return seq;
    }

    /**
     * {@code shuffle_freelist}: links the objects of a new slab in {@code random_seq} order from a random start
     * ({@code next_freelist_entry} skips offsets past a smaller fallback-order slab). Returns the first object.
     */
    static long shuffleFreelist(final KmemCache s, final long start, final int objects) {
        final int count = s.randomSeq.length;
        int pos = SlabRandom.below(SlabRandom.next(s.slub.randomSeed, s.shuffleStream, s.shuffles.getAndIncrement()),
            count);
        final long limit = (long) objects * s.size;
        long head = -1;
        long cur = -1;
        for (int i = 0; i < objects; i++) {
            long off;
            do {
                off = s.randomSeq[pos];
                if (++pos >= count) {
                    pos = 0;
                }
            } while (off >= limit);
            final long p = start + off;
            if (cur < 0) {
                head = p;
            } else {
                s.setFp(cur, p);
            }
            cur = p;
        }
        s.setFp(cur, 0);
        return head;
    }

    static void incSlabsNode(final KmemCache s, final int nid, final int objects) {
        s.nodes[nid].nrSlabs.incrementAndGet();
        s.nodes[nid].totalObjects.addAndGet(objects);
        s.slabChangesDone.incrementAndGet();
    }

    /** Uncounts a slab about to be freed ({@code dec_slabs_node}); {@link #freeSlab} completes the change. */
    static void decSlabsNode(final KmemCache s, final KmemCacheNode n, final int objects) {
        s.slabChangesBegun.incrementAndGet();
        n.nrSlabs.decrementAndGet();
        n.totalObjects.addAndGet(-objects);
    }

    /** {@code discard_slab}: uncounts the slab and frees its pages. */
    static void discardSlab(final KmemCache s, final long slab) {
        final KmemCacheNode n = s.nodes[s.slabNid(slab)];
        decSlabsNode(s, n, wObjects(s.mm.lvLong(slab, MemMap.SLAB_WORD)));
        freeSlab(s, slab);
    }

    static void freeSlab(final KmemCache s, final long slab) {
        final int order = s.slabOrder(slab);
        MmEvents.slabDiscard(s.log.kernelId(), s.name, order, wObjects(s.mm.lvLong(slab, MemMap.SLAB_WORD)),
            s.slabNid(slab), PhysicalMemory.pageAddress(slab));  // JFR
        SlabIndex.clear(s.mm, slab, order);
        s.mm.svLong(slab, MemMap.SLAB_WORD, 0);
        s.mm.spInt(slab, MemMap.SLAB_CACHE, 0);
        s.mm.privateWord(slab, 0);
        s.mm.spLong(slab, MemMap.SLAB_NEXT, 0);
        s.mm.lruNext(slab, -1);
        s.mm.lruPrev(slab, -1);
        s.mm.clearFlag(slab, MemMap.PG_SLAB);
        s.slabChangesDone.incrementAndGet();
        s.slub.accountSlabPages(s, -(1 << order));
        s.buddy.freePages(slab, order);
    }

    /** Every slab of this cache, found by a walk of mem_map (head pages with PG_slab and our cache id). */
    static List<Long> slabsOfCache(final KmemCache s) {
        final List<Long> out = new ArrayList<>();
        final long total = s.mm.nrPages();
        // deferred struct pages hold no slab: skip them, so the walk costs what is in use, not mem=
        final long[] deferred = s.buddy.deferredRanges();
        int d = 0;
        for (long pfn = 1; pfn < total; pfn++) {
            if (d < deferred.length && pfn >= deferred[d]) {
                pfn = Math.max(pfn, deferred[d + 1]) - 1;
                d += 2;
                continue;
            }
            final long f = s.mm.flags(pfn);
            if ((f & MemMap.PG_SLAB) != 0 && (f & MemMap.PG_TAIL) == 0 && s.mm.lpInt(pfn, MemMap.SLAB_CACHE) == s.id) {
                out.add(pfn);
            }
        }
        return out;
    }
}
