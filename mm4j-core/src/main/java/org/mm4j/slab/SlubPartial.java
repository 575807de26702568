package org.mm4j.slab;

import org.mm4j.page.MemMap;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_OBJECT;
import static org.mm4j.slab.KmemCache.W_PARTIAL;
import static org.mm4j.slab.KmemCache.slabWord;
import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * The partial lists of a {@link KmemCache}: a node's list ({@code get_partial}, {@code get_partial_node}), the
 * CPU partial list ({@code put_cpu_partial}, {@code __put_partials}, a chain linked through
 * {@link MemMap#SLAB_NEXT} with the chain's slab count in its top bits), and {@code deactivate_slab}, which
 * returns a CPU slab to its node.
 *
 * <p>Threads: a node list and the {@code ON_PARTIAL} bit change only under that node's {@code list_lock}
 * ({@link KmemCacheNode}); a CPU partial list only under its slot lock. A slab on a CPU partial list is on no
 * node list and not frozen; its slab word still changes by cmpxchg (remote frees).
 */
final class SlubPartial {
    private SlubPartial() {
    }

    /**
     * The CPU partial chain word of a slab ({@link MemMap#SLAB_NEXT}, {@code slab->next} and {@code slab->slabs}):
     * the next slab's pfn + 1 in bits 39..0 (0 = end), the chain's slab count in bits 63..40. Plain accesses:
     * the chain belongs to the slot lock's holder, or to the thread that took it off the slot.
     */
    static long partialNext(final KmemCache s, final long slab) {
        final long v = s.mm.lpLong(slab, MemMap.SLAB_NEXT);
        return (v & 0xffffffffffL) - 1;
    }

    static int partialSlabs(final KmemCache s, final long slab) {
        return (int) (s.mm.lpLong(slab, MemMap.SLAB_NEXT) >>> 40);
    }

    static void setPartialNext(final KmemCache s, final long slab, final long next, final int slabs) {
        s.mm.spLong(slab, MemMap.SLAB_NEXT, (long) slabs << 40 | (next + 1));
    }

    /** {@code get_partial}: the local (or asked) node, then other nodes with more than min_partial slabs. */
    static long getPartial(final KmemCache s, final int cpu, final int nid, final boolean thisNode,
                           final int origSize) {
        final int search = nid < 0 ? s.localNode(cpu) : nid;
        long slab = getPartialNode(s, cpu, s.nodes[search], origSize);
        if (slab >= 0 || (nid >= 0 && thisNode)) {
            return slab;
        }
        for (final KmemCacheNode n : s.nodes) {
            if (n.nid != search && n.nrPartial > s.minPartial) {
                slab = getPartialNode(s, cpu, n, origSize);
                if (slab >= 0) {
                    return slab;
                }
            }
        }
        return -1;
    }

    /** {@code get_partial_node}: one slab for the CPU, and up to half of cpu_partial_slabs for its partial list. */
    static long getPartialNode(final KmemCache s, final int cpu, final KmemCacheNode n, final int origSize) {
        if (n.nrPartial == 0) {
            return -1;
        }
        long partial = -1;
        int partialSlabs = 0;
        n.listLock.lock();
        try {
            long slab = n.partialHead;
            while (slab >= 0) {
                final long next = s.mm.lruNext(slab);
                if (s.debug) {
                    final long obj = SlubDebugSupport.allocSingleFromPartial(s, n, slab, origSize);
                    if (obj != 0) {
                        partial = slab;
                        s.pcpu[cpu * STRIDE + W_OBJECT] = obj;
                        break;
                    }
                    slab = next;
                    continue;
                }
                n.removePartial(s.mm, slab);
                if (partial < 0) {
                    partial = slab;
                    s.statInc(cpu, StatItem.ALLOC_FROM_PARTIAL);
                    if (s.cpuPartialSlabs == 0) {
                        break;
                    }
                } else {
                    putCpuPartial(s, cpu, slab, false);
                    s.statInc(cpu, StatItem.CPU_PARTIAL_NODE);
                    if (++partialSlabs > s.cpuPartialSlabs / 2) {
                        break;
                    }
                }
                slab = next;
            }
        } finally {
            n.listLock.unlock();
        }
        return partial;
    }

    /** {@code put_cpu_partial}: pushes an (unfrozen, off-list) slab on the CPU partial list, draining if full. */
    static void putCpuPartial(final KmemCache s, final int cpu, final long slab, final boolean drain) {
        final int base = cpu * STRIDE;
        long slabToPut = -1;
        s.slotLock[cpu].lock();
        try {
            long old = s.pcpu[base + W_PARTIAL];
            int slabs = 0;
            if (old >= 0) {
                if (drain && partialSlabs(s, old) >= s.cpuPartialSlabs) {
                    slabToPut = old;
                    old = -1;
                } else {
                    slabs = partialSlabs(s, old);
                }
            }
            setPartialNext(s, slab, old, slabs + 1);
            s.pcpu[base + W_PARTIAL] = slab;
        } finally {
            s.slotLock[cpu].unlock();
        }
        if (slabToPut >= 0) {
            putPartials(s, cpu, slabToPut);
            s.statInc(cpu, StatItem.CPU_PARTIAL_DRAIN);
        }
    }

    /** {@code __put_partials}: moves a chain of CPU partial slabs to their node lists (or frees empty ones). */
    static void putPartials(final KmemCache s, final int cpu, final long chain) {
        long slab = chain;
        long discard = -1;
        while (slab >= 0) {
            final long next = partialNext(s, slab);
            setPartialNext(s, slab, -1, 0);
            final KmemCacheNode n = s.nodes[s.slabNid(slab)];
            n.listLock.lock();
            try {
                if (wInuse(s.mm.lvLong(slab, MemMap.SLAB_WORD)) == 0 && n.nrPartial >= s.minPartial) {
                    setPartialNext(s, slab, discard, 0);
                    discard = slab;
                } else {
                    n.addPartial(s.mm, slab, true);
                    s.statInc(cpu, StatItem.FREE_ADD_PARTIAL);
                }
            } finally {
                n.listLock.unlock();
            }
            slab = next;
        }
        while (discard >= 0) {
            final long next = partialNext(s, discard);
            setPartialNext(s, discard, -1, 0);
            s.statInc(cpu, StatItem.DEACTIVATE_EMPTY);
            SlabPages.discardSlab(s, discard);
            s.statInc(cpu, StatItem.FREE_SLAB);
            discard = next;
        }
    }

    /** {@code deactivate_slab}: returns a CPU slab and its CPU freelist to the slab, unfreezes it, lists it. */
    static void deactivateSlab(final KmemCache s, final int cpu, final long slab, final long freelist) {
        final KmemCacheNode n = s.nodes[s.slabNid(slab)];
        boolean toTail = false;
        if (wFreelist(slab, s.mm.lvLong(slab, MemMap.SLAB_WORD)) != 0) {
            s.statInc(cpu, StatItem.DEACTIVATE_REMOTE_FREES);
            toTail = true;
        }
        int freeDelta = 0;
        long tail = 0;
        final int maxObjects = wObjects(s.mm.lvLong(slab, MemMap.SLAB_WORD));
        for (long p = freelist; p > 0; p = s.nextFree(slab, p)) {
            tail = p;
            if (++freeDelta > maxObjects) {
                s.slub.warn("SLUB " + s.name + ": Freelist cycle detected in cpu freelist of slab pfn " + slab);
                break;
            }
        }
        long nw;
        for (;;) {
            final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
            final int in = wInuse(w) - freeDelta;
            long fl = wFreelist(slab, w);
            if (tail != 0) {
                s.setFp(tail, fl);
                fl = freelist;
            }
            nw = slabWord(slab, fl, in, wObjects(w), false);
            if (s.mm.casLong(slab, MemMap.SLAB_WORD, w, nw)) {
                break;
            }
            s.statInc(cpu, StatItem.CMPXCHG_DOUBLE_FAIL);
        }
        if (wInuse(nw) == 0 && n.nrPartial >= s.minPartial) {
            s.statInc(cpu, StatItem.DEACTIVATE_EMPTY);
            SlabPages.discardSlab(s, slab);
            s.statInc(cpu, StatItem.FREE_SLAB);
        } else if (wFreelist(slab, nw) != 0) {
            n.listLock.lock();
            try {
                n.addPartial(s.mm, slab, toTail);
            } finally {
                n.listLock.unlock();
            }
            s.statInc(cpu, toTail ? StatItem.DEACTIVATE_TO_TAIL : StatItem.DEACTIVATE_TO_HEAD);
        } else {
            s.statInc(cpu, StatItem.DEACTIVATE_FULL);
        }
    }
}
