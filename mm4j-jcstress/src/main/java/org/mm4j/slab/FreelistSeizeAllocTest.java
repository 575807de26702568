package org.mm4j.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A lockless allocation against the slow path's seize of the same slot. Actor 1 pops from slot 0's
 * {@code {freelist, tid}} word; actor 2 runs {@code flush_cpu_slab} for slot 0 (what {@code kmem_cache_shrink}
 * does from any thread): under the slot lock it seizes the word (freelist NULL, LOCKED), deactivates the CPU slab
 * (its CPU freelist goes back to the slab, the slab is unfrozen and listed) and publishes the word again. The
 * allocation either wins the CAS before the seize or finds the word seized/empty and takes {@code ___slab_alloc},
 * which refreezes the same slab from the partial list and gets the freelist head. As in the kernel
 * ({@code flush_slab}), the flush takes the CPU slab under the slot lock but deactivates it after dropping the
 * lock: a slow path running in between finds no CPU slab and no partial slab, and makes a new slab.
 *
 * <p>Result: r1 = what actor 1 got (1 = the freelist head, 2 = an object of a new slab, 0 = another object of
 * the old slab); r2 = allocations that took the slow path (0 or 1); r3 = 1 when the old slab's free objects are
 * objects - 1 - (1 if actor 1's object is from it), actor 1's object is on no freelist, and releasing everything
 * leaves no slab.
 */
@JCStressTest
@Description("slab_alloc_node vs flush_cpu_slab on one slot: the seized word sends the allocation to the slow path")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "fast path CAS before the seize")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "met the seized word: slow path refroze the slab")
@Outcome(id = "2, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "slow path between the flush's unlock and its "
    + "deactivate_slab: a new slab")
@Outcome(expect = FORBIDDEN, desc = "wrong object, or objects lost or counted twice")
@State
public class FreelistSeizeAllocTest {
    private final KmemCache s = JcstressSupport.newCache(64, 0);
    private final long x;
    private final long slab;
    private final long top;
    private final long slowBefore;
    private long a1;

    public FreelistSeizeAllocTest() {
        JcstressSupport.pin(0);
        x = s.alloc();
        slab = JcstressSupport.slabOf(JcstressSupport.phys(x));
        top = JcstressSupport.cpuFreelist(s, 0);
        slowBefore = s.stat(StatItem.ALLOC_SLOWPATH);  // the first allocation made the slab
    }

    @Actor
    public void allocate() {
        JcstressSupport.pin(0);
        a1 = s.alloc();
    }

    @Actor
    public void seize() {
        JcstressSupport.pin(1);
        s.flushCpuSlab(0);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        final long p = JcstressSupport.phys(a1);
        final boolean sameSlab = JcstressSupport.slabOf(p) == slab;
        r.r1 = p == top ? 1 : sameSlab ? 0 : 2;
        r.r2 = (int) (s.stat(StatItem.ALLOC_SLOWPATH) - slowBefore);
        final boolean cpuSlabIsOld = JcstressSupport.cpuSlab(s, 0) == slab;
        final int free = JcstressSupport.slabFreeCount(s, slab)
            + (cpuSlabIsOld ? JcstressSupport.cpuFreelistLength(s, 0) : 0);
        final boolean conserved = a1 != 0 && free == s.objsPerSlab() - 1 - (sameSlab ? 1 : 0)
            && !JcstressSupport.onCpuFreelist(s, 0, p) && !JcstressSupport.slotLocked(s, 0)
            && (!sameSlab || !JcstressSupport.onSlabFreelist(s, slab, p));
        r.r3 = conserved && JcstressSupport.release(s, x, a1) == 0 ? 1 : 0;
    }
}
