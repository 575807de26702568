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
 * A lockless free against the slow path's seize of the same slot. Actor 1 frees an object of slot 0's CPU slab
 * ({@code do_slab_free}: a CAS pushing it on the CPU freelist); actor 2 runs {@code flush_cpu_slab} for slot 0.
 * The free either wins its CAS before the seize (the object then goes back to the slab with the CPU freelist), or
 * sees the LOCKED bit or a slab that is no longer the CPU slab and takes {@code __slab_free}, a CAS on the slab
 * word. Either way the object is freed exactly once.
 *
 * <p>Result: r1 = frees by the fast path, r2 = frees by {@code __slab_free} (exactly one of them is 1);
 * r3 = 1 when every object of the slab is on its freelist once (objects in all) and releasing leaves no slab.
 */
@JCStressTest
@Description("do_slab_free vs flush_cpu_slab on one slot: a free that meets the seized word goes to __slab_free")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "fast path CAS before the seize")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "met LOCKED or a flushed slab: __slab_free")
@Outcome(expect = FORBIDDEN, desc = "freed twice or not at all, or objects lost")
@State
public class FreelistSeizeFreeTest {
    private final KmemCache s = JcstressSupport.newCache(64, 0);
    private final long x;
    private final long slab;

    public FreelistSeizeFreeTest() {
        JcstressSupport.pin(0);
        x = s.alloc();
        slab = JcstressSupport.slabOf(JcstressSupport.phys(x));
    }

    @Actor
    public void free() {
        JcstressSupport.pin(0);
        s.free(x);
    }

    @Actor
    public void seize() {
        JcstressSupport.pin(1);
        s.flushCpuSlab(0);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = (int) s.stat(StatItem.FREE_FASTPATH);
        r.r2 = (int) s.stat(StatItem.FREE_SLOWPATH);
        final boolean conserved = JcstressSupport.cpuSlab(s, 0) < 0 && !JcstressSupport.frozen(slab)
            && JcstressSupport.inuse(slab) == 0 && JcstressSupport.slabFreeCount(s, slab) == s.objsPerSlab();
        r.r3 = conserved && JcstressSupport.release(s) == 0 ? 1 : 0;
    }
}
