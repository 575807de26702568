package org.mm4j.slab;

import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_FREELIST;
import static org.mm4j.slab.KmemCache.W_OBJECT;
import static org.mm4j.slab.KmemCache.W_PARTIAL;
import static org.mm4j.slab.KmemCache.W_SLAB;
import static org.mm4j.slab.KmemCache.slabWord;
import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wFrozen;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;
/**
 * The slow paths of a {@link KmemCache} (mm/slub.c of Linux 6.18): {@code ___slab_alloc}, which refills the CPU
 * freelist from the CPU slab, the CPU partial list, a node partial list or a new slab ({@code get_freelist},
 * {@code freeze_slab}, {@code slab_out_of_memory}), and {@code __slab_free}, which frees to a slab that is not
 * the CPU slab and moves it between lists when it becomes partial or empty.
 *
 * <p>Threads and locks: {@code ___slab_alloc} runs with the slot lock held and the slot's word seized
 * ({@link KmemCache#lockSlot}), so the CPU slab, CPU freelist and CPU partial list of the slot are its own; it
 * takes a node's {@code list_lock} only inside {@link SlubPartial}. {@code __slab_free} runs on any thread: it
 * changes the slab word by cmpxchg and takes the node's {@code list_lock} before the cmpxchg whenever the list
 * state may change with it (a full slab becoming partial without CPU partials, an empty one), as the kernel does.
 */
final class SlubSlowPath {
    private SlubSlowPath() {
    }

    static long slabAllocSlow(final KmemCache s, final int cpu, final int gfp, final int nid, final int origSize) {
        s.lockSlot(cpu);
        try {
            return slabAllocLocked(s, cpu, gfp, nid, origSize);
        } finally {
            s.release(cpu);
        }
    }

    /** Takes {@code freelist} (an object of the slot's CPU slab) and keeps the rest as the CPU freelist. */
    static long loadFreelist(final KmemCache s, final int base, final long freelist) {
        assert s.slotSeized(base / STRIDE);
        final long next = s.nextFree(s.pcpu[base + W_SLAB], freelist);
        s.pcpu[base + W_FREELIST] = Math.max(next, 0);
        return freelist;
    }

    /** {@code ___slab_alloc} with the slot lock held and its word seized. Returns phys or 0. */
    static long slabAllocLocked(final KmemCache s, final int cpu, final int gfp, final int nidArg, final int origSize) {
        assert s.slotSeized(cpu) : "___slab_alloc without the slot lock of cpu " + cpu;
        final int base = cpu * STRIDE;
        final int nid = nidArg >= s.nrNodes ? -1 : nidArg;
        s.statInc(cpu, StatItem.ALLOC_SLOWPATH);
        long slab = s.pcpu[base + W_SLAB];
        if (slab >= 0) {
            if (nid >= 0 && s.slabNid(slab) != nid) {
                s.statInc(cpu, StatItem.ALLOC_NODE_MISMATCH);
                final long fl = s.pcpu[base + W_FREELIST];
                s.pcpu[base + W_SLAB] = -1;
                s.pcpu[base + W_FREELIST] = 0;
                SlubPartial.deactivateSlab(s, cpu, slab, fl);
            } else {
                long fl = s.pcpu[base + W_FREELIST];
                if (fl != 0) {
                    return loadFreelist(s, base, fl);
                }
                fl = getFreelist(s, cpu, slab);
                if (fl != 0) {
                    s.statInc(cpu, StatItem.ALLOC_REFILL);
                    return loadFreelist(s, base, fl);
                }
                s.pcpu[base + W_SLAB] = -1;
                s.statInc(cpu, StatItem.DEACTIVATE_BYPASS);
            }
        }
        // new_slab: the CPU partial list
        while ((slab = s.pcpu[base + W_PARTIAL]) >= 0) {
            s.pcpu[base + W_PARTIAL] = SlubPartial.partialNext(s, slab);
            if (nid < 0 || s.slabNid(slab) == nid) {
                s.pcpu[base + W_SLAB] = slab;
                final long fl = getFreelist(s, cpu, slab);
                if (fl == 0) {
                    s.slub.warn("SLUB " + s.name + ": cpu partial slab pfn " + slab + " has no free object");
                    s.pcpu[base + W_SLAB] = -1;
                    continue;
                }
                s.statInc(cpu, StatItem.CPU_PARTIAL_ALLOC);
                return loadFreelist(s, base, fl);
            }
            SlubPartial.setPartialNext(s, slab, -1, 0);
            SlubPartial.putPartials(s, cpu, slab);
        }
        // new_objects: the node partial lists, then a new slab
        for (int pass = 0; pass < 2; pass++) {
            final boolean thisNode = pass == 0 && nid >= 0 || (gfp & Gfp.THISNODE) != 0;
            slab = SlubPartial.getPartial(s, cpu, nid, thisNode, origSize);
            if (slab >= 0) {
                if (s.debug) {
                    return s.pcpu[base + W_OBJECT];
                }
                final long fl = freezeSlab(s, cpu, slab);
                s.pcpu[base + W_SLAB] = slab;
                return loadFreelist(s, base, fl);
            }
            slab = SlabPages.newSlab(s, cpu, gfp | (thisNode ? Gfp.THISNODE : 0), nid);
            if (slab >= 0) {
                break;
            }
            if (nid < 0 || (gfp & Gfp.THISNODE) != 0) {
                break;
            }
        }
        if (slab < 0) {
            slabOutOfMemory(s, gfp, nid);
            return 0;
        }
        s.statInc(cpu, StatItem.ALLOC_SLAB);
        if (s.debug) {
            return SlubDebugSupport.allocSingleFromNewSlab(s, slab, origSize);
        }
        final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
        final long fl = wFreelist(slab, w);
        s.mm.svLong(slab, MemMap.SLAB_WORD, slabWord(slab, 0, wObjects(w), wObjects(w), true));
        SlabPages.incSlabsNode(s, s.slabNid(slab), wObjects(w));
        s.pcpu[base + W_SLAB] = slab;
        return loadFreelist(s, base, fl);
    }

    /** {@code get_freelist}: takes the slab's freelist for the CPU; unfreezes the slab when it is empty. */
    static long getFreelist(final KmemCache s, final int cpu, final long slab) {
        assert s.slotLocked(cpu) : "get_freelist without the slot lock of cpu " + cpu;
        for (;;) {
            final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
            final long fl = wFreelist(slab, w);
            final long nw = slabWord(slab, 0, wObjects(w), wObjects(w), fl != 0);
            if (s.mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                return fl;
            }
            s.statInc(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
    }

    /** {@code freeze_slab}: takes the freelist of a slab just removed from a partial list and freezes it. */
    static long freezeSlab(final KmemCache s, final int cpu, final long slab) {
        for (;;) {
            final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
            final long nw = slabWord(slab, 0, wObjects(w), wObjects(w), true);
            if (s.mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                return wFreelist(slab, w);
            }
            s.statInc(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
    }

    static void slabOutOfMemory(final KmemCache s, final int gfp, final int nid) {
        MmEvents.slabAllocFailure(s.log.kernelId(), s.name, s.objectSize, s.oo, gfp, Gfp::describe, nid);  // JFR
        if ((gfp & Gfp.NOWARN) != 0) {
            return;
        }
        s.log.printk("SLUB: Unable to allocate memory on node %d, gfp=%#x(%s)", nid, gfp, Gfp.toString(gfp));
        s.log.printk("  cache: %s, object size: %d, buffer size: %d, default order: %d, min order: %d", s.name,
            s.objectSize, s.size, s.oo, s.geo.minOrder());
        for (final KmemCacheNode n : s.nodes) {
            s.log.printk("  node %d: slabs: %d, objs: %d, free: %d", n.nid, n.nrSlabs.get(), n.totalObjects.get(),
                SlabCounters.countPartialFree(s, n));
        }
    }

    /** {@code __slab_free}: frees to the slab's own freelist; list handling when the slab becomes partial/empty. */
    static void slabFreeSlow(final KmemCache s, final int cpu, final long slab, final long head, final long tail,
                             final int cnt) {
        s.statInc(cpu, StatItem.FREE_SLOWPATH);
        if (s.debug) {
            SlubDebugSupport.freeToPartialList(s, cpu, slab, head, tail, cnt);
            return;
        }
        KmemCacheNode n = null;
        boolean onNodePartial = false;
        long prior;
        boolean wasFrozen;
        long nw;
        try {
            for (;;) {
                if (n != null) {
                    n.listLock.unlock();
                    n = null;
                }
                final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
                prior = wFreelist(slab, w);
                if (prior == head && (s.hardened || s.checkKey)) {
                    DoubleFreeGuard.doubleFree(s, slab, head);
                    return;
                }
                s.setFp(tail, prior);
                wasFrozen = wFrozen(w);
                final int in = wInuse(w) - cnt;
                if (in < 0) {
                    s.slub.slabErr(s, slab, "Slab has " + wInuse(w) + " allocated objects but " + cnt
                        + " are to be freed");
                    throw new IllegalStateException(s.name + ": free of more objects than allocated in slab pfn "
                        + slab + " (double free?)");
                }
                nw = slabWord(slab, head, in, wObjects(w), wasFrozen);
                if ((in == 0 || prior == 0) && !wasFrozen) {
                    if (!hasCpuPartial(s) || prior != 0) {
                        n = s.nodes[s.slabNid(slab)];
                        n.listLock.lock();
                        onNodePartial = (s.mm.privateWord(slab) & KmemCacheNode.ON_PARTIAL) != 0;
                    }
                }
                if (s.mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                    break;
                }
                s.statInc(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
            }
            if (n == null) {
                if (wasFrozen) {
                    s.statInc(cpu, StatItem.FREE_FROZEN);
                } else if (prior == 0 && hasCpuPartial(s)) {
                    SlubPartial.putCpuPartial(s, cpu, slab, true);
                    s.statInc(cpu, StatItem.CPU_PARTIAL_FREE);
                }
                return;
            }
            if (prior != 0 && !onNodePartial) {
                return;  // on a CPU partial list: not ours to move
            }
            if (wInuse(nw) == 0 && n.nrPartial >= s.minPartial) {
                if (prior != 0) {
                    n.removePartial(s.mm, slab);
                    s.statInc(cpu, StatItem.FREE_REMOVE_PARTIAL);
                }
                n.listLock.unlock();
                n = null;
                s.statInc(cpu, StatItem.FREE_SLAB);
                SlabPages.discardSlab(s, slab);
                return;
            }
            if (!hasCpuPartial(s) && prior == 0) {
                n.addPartial(s.mm, slab, true);
                s.statInc(cpu, StatItem.FREE_ADD_PARTIAL);
            }
        } finally {
            if (n != null) {
                n.listLock.unlock();
            }
        }
    }

    /** {@code kmem_cache_has_cpu_partial}. */
    static boolean hasCpuPartial(final KmemCache s) {
        return !s.debug;
    }
}
