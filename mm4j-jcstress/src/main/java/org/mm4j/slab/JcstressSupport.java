package org.mm4j.slab;

import org.mm4j.Kernel;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the jcstress tests of the slab package share: one kernel per test JVM and <em>private caches</em>, real
 * {@link KmemCache}s built with the package-private constructor but never registered in {@link Slub} (no name,
 * no sysfs, no merging), so each jcstress state gets a cache whose per-CPU words, slabs, sheaves and barn no other
 * state touches, and its outcome can be judged exactly. Their slabs come from the shared buddy allocator and go
 * back to it in {@link #release}. Lives in the jcstress module, in the package of the classes it drives.
 *
 * <p>Threads: every method may be called from any thread; a state's cache is used only by its actors and arbiter.
 */
final class JcstressSupport {
    /** Two CPU slots: tests pin actors to slot 0 (one slot, two threads) or to different slots (remote frees). */
    static final Kernel KERNEL = Kernel.boot("mem=256M nr_cpus=2");
    private static final Slub SLUB = KERNEL.slab();
    private static final MemMap MM = KERNEL.memMap();
    /** Cache ids of private caches: far above registered ids, below {@link KmemCache#DESTROYED_ID}. */
    private static final AtomicInteger IDS = new AtomicInteger();

    private JcstressSupport() {
    }

    /** A private cache of {@code size}-byte objects; per-CPU sheaves of {@code sheafCapacity} when positive. */
    static KmemCache newCache(final int size, final int sheafCapacity) {
        final int id = 1 << 28 | IDS.getAndIncrement() & ((1 << 28) - 1);
        final Geometry geo = Geometry.compute(size, 0, 0, KERNEL.cpus().nrCpus());
        return new KmemCache(SLUB, id, "jcstress-" + size, geo,
            KmemCacheArgs.DEFAULT.withSheafCapacity(sheafCapacity));
    }

    /** Maps the calling thread to CPU slot {@code cpu} (jcstress runs actors on threads it reuses). */
    static void pin(final int cpu) {
        KERNEL.cpus().pin(cpu);
    }

    /** Kernel address to phys. */
    static long phys(final long kaddr) {
        return kaddr - PhysicalMemory.PAGE_OFFSET;
    }

    /** The head of slot {@code cpu}'s lockless freelist (phys, 0 = empty), read from its {freelist, tid} word. */
    static long cpuFreelist(final KmemCache s, final int cpu) {
        return s.cpuFreelist(s.lvFreelistTid(cpu * KmemCache.STRIDE));
    }

    /** Whether the slot's word is seized by a slow path (its LOCKED bit). */
    static boolean slotLocked(final KmemCache s, final int cpu) {
        return (s.lvFreelistTid(cpu * KmemCache.STRIDE) & KmemCache.LOCKED) != 0;
    }

    /** The free pointer stored in the free object {@code phys} (decoded; -1 when corrupt). */
    static long next(final KmemCache s, final long phys) {
        return s.nextChecked(slabOf(phys), phys);
    }

    /** Objects on slot {@code cpu}'s lockless freelist (bounded walk; -1 when longer than any slab). */
    static int cpuFreelistLength(final KmemCache s, final int cpu) {
        return chainLength(s, cpuFreelist(s, cpu));
    }

    /** Whether {@code phys} is on slot {@code cpu}'s lockless freelist. */
    static boolean onCpuFreelist(final KmemCache s, final int cpu, final long phys) {
        int n = 0;
        for (long p = cpuFreelist(s, cpu); p > 0 && n <= s.objsPerSlab(); p = next(s, p), n++) {
            if (p == phys) {
                return true;
            }
        }
        return false;
    }

    private static int chainLength(final KmemCache s, final long head) {
        int n = 0;
        for (long p = head; p != 0; p = next(s, p)) {
            if (p < 0 || ++n > s.objsPerSlab()) {
                return -1;
            }
        }
        return n;
    }

    /** The slab (head pfn) of an object. */
    static long slabOf(final long phys) {
        return SLUB.virtToSlab(phys);
    }

    /** The slab's packed word {freelist, inuse, objects, frozen}. */
    static long slabWord(final long slab) {
        return MM.lvLong(slab, MemMap.SLAB_WORD);
    }

    static int inuse(final long slab) {
        return KmemCache.wInuse(slabWord(slab));
    }

    static boolean frozen(final long slab) {
        return KmemCache.wFrozen(slabWord(slab));
    }

    /** Objects on the slab's own freelist (-1 when the chain is longer than the slab). */
    static int slabFreeCount(final KmemCache s, final long slab) {
        return chainLength(s, KmemCache.wFreelist(slab, slabWord(slab)));
    }

    static boolean onSlabFreelist(final KmemCache s, final long slab, final long phys) {
        return s.isOnFreelist(slab, phys);
    }

    /** Whether the slab is on its node's partial list. */
    static boolean onNodePartial(final long slab) {
        return (MM.privateWord(slab) & KmemCacheNode.ON_PARTIAL) != 0;
    }

    /** The slot's CPU slab (pfn, -1 = none) and the head of its CPU partial list. */
    static long cpuSlab(final KmemCache s, final int cpu) {
        return s.pcpu[cpu * KmemCache.STRIDE + KmemCache.W_SLAB];
    }

    static long cpuPartial(final KmemCache s, final int cpu) {
        return s.pcpu[cpu * KmemCache.STRIDE + KmemCache.W_PARTIAL];
    }

    /**
     * Frees {@code held} (kernel addresses, 0 skipped), returns every CPU slab, CPU partial slab and sheaf to the
     * node lists and frees the empty slabs: afterwards a cache that lost no object and counted none twice has no
     * slab left. Returns the slabs left (0 when every object was accounted for), or -1 when the slab layer
     * refused a free (an object freed twice: the counts were not conserved).
     */
    static int release(final KmemCache s, final long... held) {
        try {
            for (final long k : held) {
                if (k != 0) {
                    s.free(k);
                }
            }
            s.flushAll();
            s.doShrink();
            return (int) s.nrSlabs();
        } catch (final RuntimeException e) {
            return -1;
        }
    }
}
