package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.base.ProcFs;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.SlubDebug;

import static org.mm4j.slab.KmemCache.kaddr;
import static org.mm4j.slab.KmemCache.slabWord;
import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * Where SLUB debugging meets the SLUB core's structures: the {@code alloc_calls}/{@code free_calls} sysfs files
 * and the {@code /sys/kernel/debug/slab/<cache>/{alloc_traces,free_traces}} debugfs files (walks of the node
 * lists under their locks), the part of {@code __do_krealloc} that depends on the tracked orig_size, and the
 * slow paths only debug caches take ({@code alloc_single_from_partial}, {@code alloc_single_from_new_slab},
 * {@code free_to_partial_list}): one object at a time under the node's {@code list_lock}, each checked by
 * {@link org.mm4j.slab.debug.SlubDebug} before the slab word changes hands.
 *
 * <p>Threads: each walk takes every node's list lock of the cache, in node order (the lock order of
 * {@link KmemCache}), so it sees no slab move; the krealloc helpers touch only the caller's own object. The debug
 * slow paths run with the node's {@code list_lock} held (asserted); debug caches use no lockless path, so the
 * slab word of their slabs changes only under that lock.
 */
final class SlubDebugSupport {
    static final String DEBUGFS = "/sys/kernel/debug/slab";

    private SlubDebugSupport() {
    }

    /** Registers the debugfs directory ({@code debugfs_slab_add} for every SLAB_STORE_USER cache). */
    static void register(final Slub slub, final ProcFs procfs) {
        procfs.registerDir(DEBUGFS, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return null;
                }
                final KmemCache s = slub.findCache(rest.substring(0, slash));
                final String file = rest.substring(slash + 1);
                if (s == null || s.isDestroyed() || !(file.equals("alloc_traces") || file.equals("free_traces"))) {
                    return null;
                }
                return traces(s, file.equals("alloc_traces"), true);
            }

            @Override
            public List<String> list(final String rest) {
                if (rest.isEmpty()) {
                    final List<String> out = new ArrayList<>();
                    for (final KmemCache s : slub.caches()) {
                        if ((s.flags & SlabFlags.SLAB_STORE_USER) != 0) {
                            out.add(s.name());
                        }
                    }
                    return out;
                }
                return List.of("alloc_traces", "free_traces");
            }
        });
    }

    /**
     * The {@code alloc_traces}/{@code free_traces} text of a SLAB_STORE_USER cache from its partial and full
     * slabs (as {@code slab_debug_trace_open}); {@code withStacks} adds the stack lines (debugfs), the sysfs
     * {@code alloc_calls}/{@code free_calls} files of older kernels had none. Null for caches without U.
     */
    static String traces(final KmemCache s, final boolean alloc, final boolean withStacks) {
        if ((s.flags & SlabFlags.SLAB_STORE_USER) == 0) {
            return null;
        }
        final MemMap mm = s.slub.memMap;
        final List<SlabPage> slabs = new ArrayList<>();
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
        }
        try {
            for (final KmemCacheNode n : s.nodes) {
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    slabs.add(new SlabPage(s.slub, slab));
                }
                for (long slab = n.fullHead; slab >= 0; slab = mm.lruNext(slab)) {
                    slabs.add(new SlabPage(s.slub, slab));
                }
            }
            return s.slub.debug().traces(s.debugView(), slabs, alloc, withStacks, s.slub.mem.nrNodes());
        } finally {
            for (final KmemCacheNode n : s.nodes) {
                n.listLock.unlock();
            }
        }
    }

    /** The cache of a slab object whose orig_size is tracked (SLAB_KMALLOC with SLAB_STORE_USER), or null. */
    private static KmemCache trackedCache(final Slub slub, final long kaddr) {
        final long slab = slub.virtToSlab(kaddr - PhysicalMemory.PAGE_OFFSET);
        if (slab < 0) {
            return null;
        }
        final KmemCache s = slub.cacheById(slub.memMap.lpInt(slab, MemMap.SLAB_CACHE));
        final long both = SlabFlags.SLAB_KMALLOC | SlabFlags.SLAB_STORE_USER;
        return s == null || (s.flags & both) != both ? null : s;
    }

    /**
     * {@code __do_krealloc} in place for an object whose cache tracks orig_size, when {@code newSize} fits the
     * object: zero the new bytes ({@code zero}: {@code __GFP_ZERO} or init_on_alloc) precisely from the old
     * orig_size, record the new orig_size, and red-zone (0xcc) the rest of the object. False = not handled.
     */
    static boolean kreallocInPlace(final Slub slub, final long kaddr, final long newSize, final boolean zero) {
        final KmemCache s = trackedCache(slub, kaddr);
        if (s == null || newSize > s.objectSize()) {
            return false;
        }
        final SlubDebug debug = slub.debug();
        final long ks = s.objectSize();
        final long orig = debug.getOrigSize(s.debugView(), kaddr);
        final long p = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (zero) {
            if (orig != 0 && orig < newSize) {
                slub.mem.fill(p + orig, newSize - orig, (byte) 0);
            } else {
                slub.mem.fill(p + newSize, ks - newSize, (byte) 0);
            }
        }
        debug.setOrigSize(s.debugView(), kaddr, newSize);
        if ((s.flags & SlabFlags.SLAB_RED_ZONE) != 0 && newSize < ks) {
            slub.mem.fill(p + newSize, ks - newSize, (byte) SlubDebug.SLUB_RED_ACTIVE);
        }
        return true;
    }

    /** How many bytes krealloc copies to a new object: orig_size when tracked, else {@code ks}. */
    static long copySize(final Slub slub, final long kaddr, final long ks) {
        final KmemCache s = trackedCache(slub, kaddr);
        return s == null ? ks : Math.min(ks, slub.debug().getOrigSize(s.debugView(), kaddr));
    }

    // ---------------------------------------------------------------- the debug caches' slow paths

    /** {@code alloc_single_from_partial} (debug caches; list_lock held). */
    static long allocSingleFromPartial(final KmemCache s, final KmemCacheNode n, final long slab,
                                       final int origSize) {
        assert n.listLock.isHeldByCurrentThread() : "alloc_single_from_partial without list_lock of node " + n.nid;
        final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
        final long obj = wFreelist(slab, w);
        final int objects = wObjects(w);
        final int inuseNow = wInuse(w) + 1;
        s.mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, s.getFp(obj), inuseNow, objects, false));
        if (!s.slub.debug().allocDebugProcessing(s.debugView(), new SlabPage(s.slub, slab), kaddr(obj), origSize)) {
            n.removePartial(s.mm, slab);
            return 0;
        }
        s.slub.debug().setTrack(s.debugView(), kaddr(obj), true);
        if (inuseNow == objects) {
            n.removePartial(s.mm, slab);
            if ((s.flags & SlabFlags.SLAB_STORE_USER) != 0) {
                n.addFull(s.mm, slab);
            }
        }
        return obj;
    }

    /** {@code alloc_single_from_new_slab} (debug caches). */
    static long allocSingleFromNewSlab(final KmemCache s, final long slab, final int origSize) {
        final KmemCacheNode n = s.nodes[s.slabNid(slab)];
        final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
        final long obj = wFreelist(slab, w);
        final int objects = wObjects(w);
        n.listLock.lock();
        try {
            s.mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, s.getFp(obj), 1, objects, false));
            SlabPages.incSlabsNode(s, n.nid, objects);
            if (!s.slub.debug().allocDebugProcessing(s.debugView(), new SlabPage(s.slub, slab), kaddr(obj), origSize)) {
                // the checks marked every object used: the slab leaves service (on the full list with U)
                if ((s.flags & SlabFlags.SLAB_STORE_USER) != 0) {
                    n.addFull(s.mm, slab);
                }
                return 0;
            }
            s.slub.debug().setTrack(s.debugView(), kaddr(obj), true);
            if (objects == 1) {
                if ((s.flags & SlabFlags.SLAB_STORE_USER) != 0) {
                    n.addFull(s.mm, slab);
                }
            } else {
                n.addPartial(s.mm, slab, false);
            }
        } finally {
            n.listLock.unlock();
        }
        return obj;
    }

    /** {@code free_to_partial_list}: the debug-cache free, serialized under list_lock. */
    static void freeToPartialList(final KmemCache s, final int cpu, final long slab, final long head, final long tail,
                                  final int cnt) {
        final KmemCacheNode n = s.nodes[s.slabNid(slab)];
        boolean discard = false;
        n.listLock.lock();
        try {
            final int[] bulk = {cnt};
            if (!s.slub.debug().freeDebugProcessing(s.debugView(), new SlabPage(s.slub, slab), kaddr(head), kaddr(tail),
                bulk)) {
                return;
            }
            final int done = bulk[0];
            final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
            final long prior = wFreelist(slab, w);
            if (wInuse(w) < done) {
                s.slub.slabErr(s, slab, "Slab has " + wInuse(w) + " allocated objects but " + done
                    + " are to be freed");
                return;
            }
            if ((s.flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) == 0 && DoubleFreeGuard.isOnFreelist(s, slab, head)) {
                DoubleFreeGuard.doubleFree(s, slab, head);
                return;
            }
            s.setFp(tail, prior);
            final int in = wInuse(w) - done;
            s.mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, head, in, wObjects(w), false));
            discard = in == 0 && n.nrPartial >= s.minPartial;
            if (prior == 0) {
                n.removeFull(s.mm, slab);
                if (!discard) {
                    n.addPartial(s.mm, slab, true);
                    s.statInc(cpu, StatItem.FREE_ADD_PARTIAL);
                }
            } else if (discard) {
                n.removePartial(s.mm, slab);
                s.statInc(cpu, StatItem.FREE_REMOVE_PARTIAL);
            }
            if (discard) {
                SlabPages.decSlabsNode(s, n, wObjects(w));
            }
        } finally {
            n.listLock.unlock();
        }
        if (discard) {
            s.statInc(cpu, StatItem.FREE_SLAB);
            SlabPages.freeSlab(s, slab);
        }
    }
}
