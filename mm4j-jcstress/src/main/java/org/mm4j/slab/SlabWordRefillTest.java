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
 * The slab word ({@code cmpxchg_double_slab} on {freelist, inuse, objects, frozen}) between a remote free and
 * the owner's refill. Slot 0's CPU slab is frozen with every object handed out (CPU freelist and slab freelist
 * empty). Actor 1, on slot 1, frees one object y: {@code __slab_free} pushes it on the slab freelist by CAS.
 * Actor 2, on slot 0, allocates: its CPU freelist is empty, so {@code get_freelist} takes the slab freelist by
 * CAS, or, finding it empty, unfreezes the slab and takes a new one. If the free came first, the allocation gets
 * y (the slab stays frozen); if it came second, the free found an unfrozen full slab and put it on slot 1's CPU
 * partial list. Never both: y is never handed out while on a freelist.
 *
 * <p>Result: r1 = 1 when actor 2 got y; r2 = where the slab is (1 = still slot 0's frozen CPU slab, 2 = on slot
 * 1's CPU partial list, 0 = elsewhere); r3 = 1 when inuse + free = objects, y is on the slab freelist exactly
 * when it was not handed out, and releasing everything leaves no slab.
 */
@JCStressTest
@Description("__slab_free (remote, on a frozen slab) vs get_freelist/unfreeze of the owner: one CAS wins, y once")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "free first: get_freelist took y, slab stays frozen")
@Outcome(id = "0, 2, 1", expect = ACCEPTABLE_INTERESTING, desc = "allocation first: unfrozen, then y's free put "
    + "the full slab on slot 1's CPU partial list")
@Outcome(expect = FORBIDDEN, desc = "y handed out and free, lost, or the slab misplaced")
@State
public class SlabWordRefillTest {
    private final KmemCache s = JcstressSupport.newCache(256, 0);
    private final long[] held;
    private final long y;
    private final long slab;
    private long a;

    public SlabWordRefillTest() {
        JcstressSupport.pin(0);
        final long first = s.alloc();
        slab = JcstressSupport.slabOf(JcstressSupport.phys(first));
        held = new long[s.objsPerSlab()];
        held[0] = first;
        for (int i = 1; i < held.length; i++) {
            held[i] = s.alloc();  // the CPU freelist of slot 0 is now empty
        }
        y = held[held.length / 2];
    }

    @Actor
    public void remoteFree() {
        JcstressSupport.pin(1);
        s.free(y);
    }

    @Actor
    public void allocate() {
        JcstressSupport.pin(0);
        a = s.alloc();
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = a == y ? 1 : 0;
        final boolean frozenCpuSlab = JcstressSupport.frozen(slab) && JcstressSupport.cpuSlab(s, 0) == slab;
        final boolean cpuPartial1 = !JcstressSupport.frozen(slab) && JcstressSupport.cpuPartial(s, 1) == slab;
        r.r2 = frozenCpuSlab ? 1 : cpuPartial1 ? 2 : 0;
        final long yPhys = JcstressSupport.phys(y);
        final boolean conserved = JcstressSupport.inuse(slab) + JcstressSupport.slabFreeCount(s, slab)
            == s.objsPerSlab() && JcstressSupport.onSlabFreelist(s, slab, yPhys) == (a != y);
        final long[] all = java.util.Arrays.copyOf(held, held.length + 1);
        all[held.length / 2] = 0;  // freed by actor 1
        all[held.length] = a;
        r.r3 = conserved && JcstressSupport.release(s, all) == 0 ? 1 : 0;
    }
}
