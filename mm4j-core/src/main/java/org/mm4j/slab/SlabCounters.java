package org.mm4j.slab;

import org.mm4j.page.MemMap;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_EVENTS;
import static org.mm4j.slab.KmemCache.W_PARTIAL;
import static org.mm4j.slab.KmemCache.W_SLAB;
import static org.mm4j.slab.KmemCache.W_STATS;
import static org.mm4j.slab.KmemCache.wInuse;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * The counters of a {@link KmemCache}: the {@code stat_item} statistics ({@code CONFIG_SLUB_STATS}, sysfs
 * {@code /sys/kernel/slab/<cache>/<stat>}), the node counts behind {@code /proc/slabinfo} and sysfs
 * ({@code count_partial}, {@code cpu_slabs}, {@code slabs_cpu_partial}), mm4j's model events, and the sheaf
 * usage.
 *
 * <p>Threads: statistics are plain per-slot increments, racy like the kernel's per-CPU counters (a sum read while
 * the cache is busy may miss events in flight). {@code count_partial} walks a node's list under its
 * {@code list_lock}; {@link #activeObjects} takes each slot lock in turn and is exact only at a quiet point.
 */
final class SlabCounters {
    private SlabCounters() {
    }

    /** The value of one statistic summed over CPU slots. */
    static long stat(final KmemCache s, final StatItem item) {
        long sum = 0;
        for (int c = 0; c < s.nrCpus; c++) {
            sum += stat(s, item, c);
        }
        return sum;
    }

    /** The value of one statistic on one CPU slot (with the per-thread sheaves' fast-path counts). */
    static long stat(final KmemCache s, final StatItem item, final int cpu) {
        final long v = s.pcpu[cpu * STRIDE + W_STATS + item.ordinal()];
        return item == StatItem.ALLOC_PCS || item == StatItem.FREE_PCS ? v + s.slub.threadSheafStat(s, item, cpu)
            : v;
    }

    /** Clears a statistic on every slot (writing 0 to its sysfs file). */
    static void clearStat(final KmemCache s, final StatItem item) {
        for (int c = 0; c < s.nrCpus; c++) {
            s.pcpu[c * STRIDE + W_STATS + item.ordinal()] = 0;
        }
        if (item == StatItem.ALLOC_PCS || item == StatItem.FREE_PCS) {
            s.slub.clearThreadSheafStat(s, item);
        }
    }

    /** Slabs of this cache on every node (the total of {@code /sys/kernel/slab/<cache>/slabs}). */
    static long nrSlabs(final KmemCache s) {
        long n = 0;
        for (final KmemCacheNode k : s.nodes) {
            n += k.nrSlabs.get();
        }
        return n;
    }

    /** Objects the cache's slabs hold, free or not ({@code node_nr_objs} summed over nodes). */
    static long totalObjects(final KmemCache s) {
        long n = 0;
        for (final KmemCacheNode k : s.nodes) {
            n += k.totalObjects.get();
        }
        return n;
    }

    /** {@code count_partial(n, count_free)}: free objects on node {@code n}'s partial list, under its lock. */
    static long countPartialFree(final KmemCache s, final KmemCacheNode n) {
        n.listLock.lock();
        try {
            long x = 0;
            for (long slab = n.partialHead; slab >= 0; slab = s.mm.lruNext(slab)) {
                final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
                x += wObjects(w) - wInuse(w);
            }
            return x;
        } finally {
            n.listLock.unlock();
        }
    }

    /** Per-node value of partial slabs, objects in them ({@code count_inuse}) or their capacity. */
    static long countPartial(final KmemCache s, final KmemCacheNode n, final int what) {
        n.listLock.lock();
        try {
            long x = 0;
            for (long slab = n.partialHead; slab >= 0; slab = s.mm.lruNext(slab)) {
                final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
                x += what == 0 ? 1 : what == 1 ? wInuse(w) : wObjects(w);
            }
            return x;
        } finally {
            n.listLock.unlock();
        }
    }

    /**
     * Objects handed out to callers (slab inuse minus objects on CPU freelists and in sheaves); quiescent only.
     * Objects in sheaves count as allocated for the slab layer and /proc/slabinfo (as the kernel's per-CPU
     * sheaves do) but not here: see {@code sheafUsage()} for the identity that ties the three together.
     */
    static long activeObjects(final KmemCache s) {
        long inuseSum = 0;
        for (final long slab : SlabPages.slabsOfCache(s)) {
            inuseSum += wInuse(s.mm.lvLong(slab, MemMap.SLAB_WORD));
        }
        for (int c = 0; c < s.nrCpus; c++) {
            s.slotLock[c].lock();
            try {
                final long cslab = s.pcpu[c * STRIDE + W_SLAB];
                final int max = cslab < 0 ? 0 : wObjects(s.mm.lvLong(cslab, MemMap.SLAB_WORD));
                int n = 0;
                for (long p = s.cpuFreelist(s.lvFreelistTid(c * STRIDE)); p > 0 && n < max;
                     p = s.nextChecked(cslab, p)) {
                    n++;
                }
                inuseSum -= n;
            } finally {
                s.slotLock[c].unlock();
            }
            if (s.pcs != null) {
                inuseSum -= s.pcs[c].objects();
            }
        }
        for (final KmemCacheNode n : s.nodes) {
            if (n.barn != null) {
                inuseSum -= n.barn.objects();
            }
        }
        inuseSum -= s.slub.threadSheafObjects(s);
        return inuseSum;
    }

    /** {@code cpu_slabs}: CPU slabs plus slabs on CPU partial lists, per node. */
    static long[] cpuSlabs(final KmemCache s) {
        final long[] perNode = new long[s.nrNodes];
        for (int c = 0; c < s.nrCpus; c++) {
            final long slab = s.pcpu[c * STRIDE + W_SLAB];
            if (slab >= 0) {
                perNode[s.slabNid(slab)]++;
            }
            final long partial = s.pcpu[c * STRIDE + W_PARTIAL];
            if (partial >= 0) {
                perNode[s.slabNid(partial)] += SlubPartial.partialSlabs(s, partial);
            }
        }
        return perNode;
    }

    /** Slabs on slot {@code cpu}'s partial list (for slabs_cpu_partial). */
    static int cpuPartialSlabsOf(final KmemCache s, final int cpu) {
        final long partial = s.pcpu[cpu * STRIDE + W_PARTIAL];
        return partial >= 0 ? SlubPartial.partialSlabs(s, partial) : 0;
    }

    /**
     * Objects parked in sheaves of this cache and their bound (racy while threads run; exact at a quiet point).
     * The slab layer counts these objects as allocated ({@code inuse}, {@code /proc/slabinfo} active_objs), as
     * the kernel counts its per-CPU sheaves; {@code activeObjects()} does not (no caller holds them). At a
     * quiet point after a flush ({@link SlubValidate#validate}, {@link KmemCache#shrink}):
     * active_objs = activeObjects() + sheafUsage().objects().
     */
    static SheafUsage sheafUsage(final KmemCache s) {
        long cpuObjects = 0;
        if (s.pcs != null) {
            for (final CpuSheaves p : s.pcs) {
                cpuObjects += p.objects();
            }
        }
        long barnObjects = 0;
        long barnLimit = 0;
        final int barnCap = Math.max(s.sheafCapacity, s.slub.threadSheafCapacity(s));  // thread sheaves park here too
        for (final KmemCacheNode n : s.nodes) {
            if (n.barn != null) {
                barnObjects += n.barn.objects();
                barnLimit += (long) n.barn.maxFull() * barnCap;
            }
        }
        final int holders = s.slub.threadSheafHolders(s);
        final long perThread = s.debug ? 0 : 2L * s.slub.threadSheafCapacity(s);
        final long cpuLimit = s.pcs == null ? 0 : 2L * s.nrCpus * s.sheafCapacity;
        return new SheafUsage(s.slub.threadSheafObjects(s), holders, perThread, cpuObjects, cpuLimit,
            barnObjects, barnLimit);
    }

    /** A model event ({@code E_*}) summed over slots (racy while the cache is busy). */
    static long modelEvent(final KmemCache s, final int event) {
        long sum = 0;
        for (int c = 0; c < s.nrCpus; c++) {
            sum += s.pcpu[c * STRIDE + W_EVENTS + event];
        }
        return sum;
    }
}
