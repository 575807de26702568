package org.mm4j.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The {@code {freelist, tid}} word of one CPU slot under the ABA that the tid exists for. Two threads share slot
 * 0 of a cache whose CPU freelist is {@code top -> second -> third -> ...}. Actor 1 allocates once (reads the
 * word and {@code next = second}, then CASes). Actor 2 allocates twice ({@code top}, {@code second}) and frees
 * the first: the freelist head is {@code top} again, now followed by {@code third}. A CAS on the freelist alone
 * would succeed with the stale {@code next}: actor 1 gets {@code top} and {@code second}, which actor 2 holds, is
 * back on the freelist, to be handed out a second time (outcome "1, 2, 0", seen when the tid step is set to 0);
 * the tid, bumped by every operation, makes that CAS fail and retry.
 *
 * <p>Result: r1 = actor 1's object, r2 = the object actor 2 keeps (1 = top, 2 = second, 3 = third, 0 = other);
 * r3 = 1 when the counts are conserved (the CPU freelist holds objects - 3, and after freeing everything the
 * cache has no slab left).
 */
@JCStressTest
@Description("slab_alloc_node/do_slab_free: the tid makes a CAS with a stale next pointer fail (ABA)")
@Outcome(id = "1, 3, 1", expect = ACCEPTABLE, desc = "actor 1 first: top; actor 2 gets second, third, frees second")
@Outcome(id = "2, 3, 1", expect = ACCEPTABLE, desc = "actor 2 took top, actor 1 second, actor 2 third")
@Outcome(id = "3, 2, 1", expect = ACCEPTABLE, desc = "actor 2 took top and second, actor 1 third")
@Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "actor 2 took top, second, freed top; actor 1 took top again")
@Outcome(id = "1, 2, 0", expect = FORBIDDEN, desc = "ABA: a stale next put second, held by actor 2, back on the "
    + "freelist")
@Outcome(expect = FORBIDDEN, desc = "not a linearization of the three pops and one push")
@State
public class FreelistTidAbaTest {
    private final KmemCache s = JcstressSupport.newCache(64, 0);
    private final long x;
    private final long top;
    private final long second;
    private final long third;
    private long a1;
    private long a2;

    public FreelistTidAbaTest() {
        JcstressSupport.pin(0);
        x = s.alloc();  // makes a CPU slab for slot 0
        top = JcstressSupport.cpuFreelist(s, 0);
        second = JcstressSupport.next(s, top);
        third = JcstressSupport.next(s, second);
    }

    @Actor
    public void actor1() {
        JcstressSupport.pin(0);
        a1 = s.alloc();
    }

    @Actor
    public void actor2() {
        JcstressSupport.pin(0);
        final long p = s.alloc();
        a2 = s.alloc();
        s.free(p);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = which(a1);
        r.r2 = which(a2);
        final boolean conserved = JcstressSupport.cpuFreelistLength(s, 0) == s.objsPerSlab() - 3;
        final int left = JcstressSupport.release(s, x, a1, a1 == a2 ? 0 : a2);
        r.r3 = conserved && left == 0 ? 1 : 0;
    }

    private int which(final long kaddr) {
        final long p = JcstressSupport.phys(kaddr);
        return p == top ? 1 : p == second ? 2 : p == third ? 3 : 0;
    }
}
