package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.SlubDebug;

import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wFrozen;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * {@code validate_slab_cache} of mm/slub.c for a {@link KmemCache} (sysfs {@code validate}): the node partial
 * lists, every slab of the cache found in mem_map, and the node counters. Debug caches take the kernel's own
 * walk ({@code validate_slab_node} through {@link org.mm4j.slab.debug.SlubDebug}); other caches get mm4j's checks of
 * the same facts, reported in the kernel's words.
 *
 * <p>Threads: validate runs beside live allocations. Each node list is walked under that node's
 * {@code list_lock}; a slab off the lists (a CPU slab, a CPU partial slab) changes by cmpxchg of its slab word, so
 * it is judged on one snapshot of the word and only when the word is unchanged afterwards (see
 * {@link #validateSlab}); the counters are compared only over a walk that no slab creation or discard overlapped.
 */
final class SlubValidate {
    private SlubValidate() {
    }

    /**
     * {@code validate_slab_cache}: flushes, then checks every slab (freelist well formed and inside the slab, no
     * cycle, free count + inuse = objects for unfrozen slabs), the partial lists (membership flags, counts) and
     * the node counters. Problems are reported to the kernel log; returns the number of errors.
     */
    static int validate(final KmemCache s) {
        s.checkLive("validate");
        SlubShrink.flushAll(s);
        if (s.debug) {
            return validateDebugCache(s);  // validate_slab_cache of mm/slub.c: the node lists, locked
        }
        int errors = 0;
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
            try {
                long count = 0;
                long prev = -1;
                for (long slab = n.partialHead; slab >= 0; slab = s.mm.lruNext(slab)) {
                    count++;
                    if (s.mm.lruPrev(slab) != prev) {
                        errors += error(s, "SLUB %s: partial list of node %d broken at slab pfn %d", s.name, n.nid,
                            slab);
                        break;
                    }
                    prev = slab;
                    final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
                    if ((s.mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) == 0 || wFrozen(w)) {
                        errors += error(s, "SLUB %s: slab pfn %d on the partial list is %s", s.name, slab,
                            wFrozen(w) ? "frozen" : "not marked partial");
                    }
                    if (wInuse(w) >= wObjects(w)) {
                        errors += error(s, "SLUB %s: full slab pfn %d on the partial list", s.name, slab);
                    }
                    if (count > n.nrPartial + 1_000_000) {
                        break;
                    }
                }
                if (count != n.nrPartial) {
                    errors += error(s, "SLUB %s: %d partial slabs counted but counter=%d", s.name, count, n.nrPartial);
                }
                if (prev != n.partialTail) {
                    errors += error(s, "SLUB %s: partial list tail mismatch on node %d", s.name, n.nid);
                }
            } finally {
                n.listLock.unlock();
            }
        }
        for (final long slab : SlabPages.slabsOfCache(s)) {
            final KmemCacheNode n = s.nodes[s.slabNid(slab)];
            n.listLock.lock();  // partial-list slabs stand still; others are re-checked before being judged
            try {
                errors += validateSlab(s, slab);
            } finally {
                n.listLock.unlock();
            }
        }
        return errors + validateCounters(s);
    }

    /**
     * Compares the slabs and objects found in mem_map with the node counters, over a walk that no slab creation
     * or discard overlapped (retried a few times; under constant churn there is nothing exact to compare).
     */
    @SuppressWarnings("ThreadPriorityCheck") // yield while a slab change is in flight: on 2 CPUs the changer needs the CPU
    static int validateCounters(final KmemCache s) {
        for (int attempt = 0; attempt < 8; attempt++) {
            final long begun = s.slabChangesBegun.get();
            if (s.slabChangesDone.get() != begun) {
                s.validateRaces.incrementAndGet();
                Thread.yield();
                continue;
            }
            final long[] slabsPerNode = new long[s.nrNodes];
            final long[] objsPerNode = new long[s.nrNodes];
            for (final long slab : SlabPages.slabsOfCache(s)) {
                slabsPerNode[s.slabNid(slab)]++;
                objsPerNode[s.slabNid(slab)] += wObjects(s.mm.lvLong(slab, MemMap.SLAB_WORD));
            }
            final long[] counted = new long[2 * s.nrNodes];
            for (final KmemCacheNode n : s.nodes) {
                counted[2 * n.nid] = n.nrSlabs.get();
                counted[2 * n.nid + 1] = n.totalObjects.get();
            }
            if (s.slabChangesBegun.get() != begun) {
                s.validateRaces.incrementAndGet();
                continue;  // a slab came or went during the walk
            }
            int errors = 0;
            for (final KmemCacheNode n : s.nodes) {
                if (slabsPerNode[n.nid] != counted[2 * n.nid]) {
                    errors += error(s, "SLUB: %s %d slabs counted but counter=%d", s.name, slabsPerNode[n.nid],
                        counted[2 * n.nid]);
                }
                if (objsPerNode[n.nid] != counted[2 * n.nid + 1]) {
                    errors += error(s, "SLUB: %s %d objects counted but counter=%d", s.name, objsPerNode[n.nid],
                        counted[2 * n.nid + 1]);
                }
            }
            return errors;
        }
        return 0;
    }

    /**
     * {@code validate_slab} of a non-debug cache, under the node's list_lock. Only a partial-list slab stands
     * still under that lock: a CPU (frozen) or CPU-partial slab changes by cmpxchg of its slab word and can be
     * discarded meanwhile. So the checks run on one snapshot of the slab word, and are judged only when the slab
     * is still this cache's and its word unchanged afterwards (frees push onto the freelist and taking it swaps
     * the word, so an unchanged word means the walked chain was the freelist); otherwise it is tried again, and
     * left alone when it never holds still. The freelist of a frozen slab is not walked: its owner takes it.
     */
    static int validateSlab(final KmemCache s, final long slab) {
        for (int attempt = 0; attempt < 4; attempt++) {
            if (!isOurSlab(s, slab)) {
                s.validateRaces.incrementAndGet();
                return 0;  // discarded (or never finished) since mem_map was scanned
            }
            final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
            final List<String> problems = slabProblems(s, slab, w);
            if (isOurSlab(s, slab) && s.mm.lvLong(slab, MemMap.SLAB_WORD) == w) {
                for (final String text : problems) {
                    s.slub.slabErr(s, slab, text);
                }
                return problems.size();
            }
            s.validateRaces.incrementAndGet();
        }
        return 0;
    }

    static boolean isOurSlab(final KmemCache s, final long slab) {
        final long f = s.mm.flags(slab);
        return (f & MemMap.PG_SLAB) != 0 && (f & MemMap.PG_TAIL) == 0 && s.mm.lpInt(slab, MemMap.SLAB_CACHE) == s.id;
    }

    /** What is wrong with a slab whose slab word was {@code w} (the kernel's validate_slab texts). */
    static List<String> slabProblems(final KmemCache s, final long slab, final long w) {
        final List<String> out = new ArrayList<>(0);
        final int objects = wObjects(w);
        final int order = s.slabOrder(slab);
        final int maxObjects = Geometry.orderObjects(order, s.size);
        if (objects > maxObjects) {
            out.add("objects " + objects + " > max " + maxObjects);
        }
        if (wInuse(w) > objects) {
            out.add("inuse " + wInuse(w) + " > max " + objects);
        }
        if (wFrozen(w)) {
            return out;
        }
        int nr = 0;
        long p = wFreelist(slab, w);
        while (p != 0 && nr <= objects) {
            if (s.slub.virtToSlab(p) != slab || !s.validObject(slab, p)) {
                out.add("Freepointer 0x" + Long.toHexString(p + PhysicalMemory.PAGE_OFFSET) + " corrupt");
                return out;
            }
            nr++;
            p = s.getFp(p);
        }
        if (nr > objects) {
            out.add("Freelist cycle detected");
        } else if (nr + wInuse(w) != objects) {
            out.add("Wrong object count. Counter is " + wInuse(w) + " but counted were " + (objects - nr));
        }
        return out;
    }

    static int slabError(final KmemCache s, final long slab, final String text) {
        s.slub.slabErr(s, slab, text);
        return 1;
    }

    static int error(final KmemCache s, final String fmt, final Object... args) {
        s.log.printk(fmt, args);
        return 1;
    }

    /**
     * {@code validate_slab_cache} of a debug cache: for each node, under its list lock, {@code validate_slab} on
     * every partial slab and (SLAB_STORE_USER) every full slab, and the list counts against the node's counters
     * ({@code validate_slab_node}). Debug caches have no per-CPU slabs, so nothing needs flushing; slabs on no
     * list (full ones without U, or one being set up) are not walked, as in the kernel. Returns the number of
     * errors found; in strict mode the first one is thrown once every lock is released.
     */
    static int validateDebugCache(final KmemCache s) {
        final SlubDebug debug = s.slub.debug();
        final MemMap mm = s.slub.memMap;
        final int before = debug.errorEvents();
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
            try {
                final List<SlabPage> partial = new ArrayList<>();
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    partial.add(new SlabPage(s.slub, slab));
                }
                final List<SlabPage> full = new ArrayList<>();
                for (long slab = n.fullHead; slab >= 0; slab = mm.lruNext(slab)) {
                    full.add(new SlabPage(s.slub, slab));
                }
                debug.validateSlabNode(s.debugView(), partial, n.nrPartial, full, n.nrSlabs.get());
            } finally {
                n.listLock.unlock();
            }
        }
        debug.checkpoint();
        return debug.errorEvents() - before;
    }
}
