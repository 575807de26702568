package org.mm4j.slab;

import org.mm4j.page.Gfp;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.HashSet;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Sheaf to barn to sheaf: per-CPU sheaves (6.18) of a cache with sheaf_capacity 4. Slot 1's main and spare
 * sheaves are full, slot 0's are empty, the node's barn holds nothing. Actor 1, on slot 1, frees z
 * ({@code free_to_pcs}): its main sheaf is full, so it takes an empty sheaf (a new one) and parks the full main
 * in the barn ({@code barn_put_full}). Actor 2, on slot 0, allocates ({@code alloc_from_pcs}): its sheaves are
 * empty, so it takes a full sheaf from the barn ({@code barn_get_full}), the one actor 1 parked if it is there
 * already, else it refills its main sheaf from the slabs. The parked sheaf moves whole, under the barn lock:
 * every object stays in exactly one place.
 *
 * <p>Result: r1 = 1 when actor 2's object came from the sheaf actor 1 parked (the exchange); r2 = 1 when every
 * object is in one holder only (sheaves, barn, actor 2's hands) and their number is what the path implies (8 after
 * the exchange, 12 after a refill); r3 = slabs left after releasing everything (0 expected, -1 = a double free).
 */
@JCStressTest
@Description("free_to_pcs (barn_put_full) vs alloc_from_pcs (barn_get_full) on two slots: a sheaf moves whole")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "exchange: slot 0 took the sheaf slot 1 parked")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "barn still empty: slot 0 refilled from the slabs")
@Outcome(expect = FORBIDDEN, desc = "an object in two places, lost, or freed twice")
@State
public class SheafBarnExchangeTest {
    private static final int CAP = 4;
    private final KmemCache s = JcstressSupport.newCache(64, CAP);
    private final Sheaf parked;
    private final long z;
    private long a;

    public SheafBarnExchangeTest() {
        JcstressSupport.pin(1);
        final long[] objs = new long[2 * CAP + 1];
        if (s.allocBulk(Gfp.KERNEL, objs, objs.length) != objs.length) {
            throw new IllegalStateException("model memory exhausted: the jcstress run is sized wrong");
        }
        parked = sheaf(s, objs, 0);
        s.pcs[1].main = parked;
        s.pcs[1].spare = sheaf(s, objs, CAP);
        z = objs[2 * CAP];
    }

    /** A full sheaf of handed-out objects, each marked free as {@code free_to_pcs} marks what it takes. */
    private static Sheaf sheaf(final KmemCache s, final long[] kaddrs, final int from) {
        final Sheaf sh = new Sheaf(CAP);
        for (int i = 0; i < CAP; i++) {
            final long phys = JcstressSupport.phys(kaddrs[from + i]);
            if (s.checkKey) {
                s.markFree(phys);
            }
            sh.objects[sh.size++] = phys;
        }
        return sh;
    }

    @Actor
    public void freeToFullSheaves() {
        JcstressSupport.pin(1);
        s.free(z);
    }

    @Actor
    public void allocFromEmptySheaves() {
        JcstressSupport.pin(0);
        a = s.alloc();
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        final long aPhys = JcstressSupport.phys(a);
        boolean fromParked = false;
        for (final long o : parked.objects) {
            fromParked |= o == aPhys;
        }
        r.r1 = fromParked ? 1 : 0;
        final Set<Long> seen = new HashSet<>();
        int total = 0;
        final Barn barn = s.barn(0);
        final Sheaf[] inBarn = barn.drainAll();
        final Sheaf[] own = {s.pcs[0].main, s.pcs[0].spare, s.pcs[1].main, s.pcs[1].spare};
        for (final Sheaf[] group : new Sheaf[][] {own, inBarn}) {
            for (final Sheaf sh : group) {
                if (sh == null) {
                    continue;
                }
                for (int i = 0; i < sh.size; i++) {
                    total++;
                    seen.add(sh.objects[i]);
                }
            }
        }
        final boolean unique = seen.size() == total && !seen.contains(aPhys) && a != 0;
        r.r2 = unique && total == (fromParked ? 2 * CAP : 3 * CAP) ? 1 : 0;
        JcstressSupport.pin(0);
        int left;
        try {
            for (final Sheaf sh : inBarn) {
                s.flushSheafToSlabs(0, sh);
            }
            left = JcstressSupport.release(s, a);
        } catch (final RuntimeException e) {
            left = -1;
        }
        r.r3 = left;
    }
}
