package org.mm4j.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Double-free refusal (issue 9's safety) under a race: two threads free the same object x at once, one on slot 0
 * whose CPU slab holds x ({@code do_slab_free}, the lockless CAS), one on slot 1 ({@code __slab_free}, the CAS
 * on the slab word). Each free first checks x's free key. Ordered frees: the second finds the key and is refused
 * (IllegalStateException, nothing changed). Truly racing frees may both pass the check (no happens-before between
 * them) and put x on two freelists; then the handout check drops the copy that lost its key (reported, never
 * handed out). Afterwards the slab's objects are allocated again, all of them and one more: x must come out once.
 *
 * <p>Result: r1 = frees that returned, r2 = frees refused; r3 = times x was handed out by the allocations after;
 * r4 = slabs left after freeing everything (0: every object accounted for).
 */
@JCStressTest
@Description("two threads free one object (fast path vs __slab_free): one refused, or the copy dropped at handout")
@Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE, desc = "one free refused; x handed out once after")
@Outcome(id = "2, 0, 1, .*", expect = ACCEPTABLE_INTERESTING, desc = "both frees passed the check in the race; "
    + "the handout check dropped the second copy of x")
@Outcome(expect = FORBIDDEN, desc = "x handed out twice (or never), or both frees refused")
@State
public class DoubleFreeRaceTest {
    private final KmemCache s = JcstressSupport.newCache(64, 0);
    private final long x;
    /** Per actor: 1 = its free returned, 2 = refused. */
    private int own;
    private int other;

    public DoubleFreeRaceTest() {
        JcstressSupport.pin(0);
        x = s.alloc();
    }

    @Actor
    public void freeOnOwnSlot() {
        JcstressSupport.pin(0);
        own = free();
    }

    @Actor
    public void freeOnOtherSlot() {
        JcstressSupport.pin(1);
        other = free();
    }

    private int free() {
        try {
            s.free(x);
            return 1;
        } catch (final IllegalStateException e) {
            return 2;
        }
    }

    @Arbiter
    public void arbiter(final IIII_Result r) {
        r.r1 = (own == 1 ? 1 : 0) + (other == 1 ? 1 : 0);
        r.r2 = (own == 2 ? 1 : 0) + (other == 2 ? 1 : 0);
        JcstressSupport.pin(0);
        final long[] again = new long[s.objsPerSlab() + 1];
        int xs = 0;
        for (int i = 0; i < again.length; i++) {
            again[i] = s.alloc();
            if (again[i] == x) {
                xs++;
            }
        }
        r.r3 = xs;
        if (xs > 1) {
            for (int i = again.length - 1; i >= 0; i--) {
                if (again[i] == x) {
                    again[i] = 0;  // free it once only
                    break;
                }
            }
        }
        r.r4 = JcstressSupport.release(s, again);
    }
}
