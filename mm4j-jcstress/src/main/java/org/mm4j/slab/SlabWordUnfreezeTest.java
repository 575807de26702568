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
 * The slab word between a remote free and the owner's unfreeze. Slot 0's CPU slab is frozen, with objects x and
 * y handed out and the rest on slot 0's CPU freelist. Actor 1, on slot 1, frees y ({@code __slab_free}: a CAS on
 * the slab word, counted FREE_FROZEN while the slab is frozen). Actor 2 flushes slot 0 ({@code deactivate_slab}:
 * a CAS that splices the CPU freelist onto the slab freelist, lowers inuse and clears frozen). Whichever CAS comes
 * second sees the first one's word; a free landing between the unfreeze's read and its CAS makes that CAS fail
 * and retry. In the end the slab is unfrozen, on the node partial list, with inuse 1 (x).
 *
 * <p>Result: r1 = frees that found the slab frozen (FREE_FROZEN); r2 = deactivations that saw a remote free
 * on the slab freelist (DEACTIVATE_REMOTE_FREES); r3 = 1 when the slab is unfrozen, listed, inuse 1, free
 * objects - 1, and releasing everything leaves no slab.
 */
@JCStressTest
@Description("__slab_free (remote) vs deactivate_slab (unfreeze) on one slab word")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "unfreeze first, then the free of an unfrozen partial slab")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "free first, the unfreeze saw the remote free")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "free between the unfreeze's read and CAS")
@Outcome(expect = FORBIDDEN, desc = "a free lost or counted twice, the slab still frozen or unlisted")
@State
public class SlabWordUnfreezeTest {
    private final KmemCache s = JcstressSupport.newCache(128, 0);
    private final long x;
    private final long y;
    private final long slab;

    public SlabWordUnfreezeTest() {
        JcstressSupport.pin(0);
        x = s.alloc();
        y = s.alloc();
        slab = JcstressSupport.slabOf(JcstressSupport.phys(x));
    }

    @Actor
    public void remoteFree() {
        JcstressSupport.pin(1);
        s.free(y);
    }

    @Actor
    public void unfreeze() {
        JcstressSupport.pin(0);
        s.flushCpuSlab(0);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = (int) s.stat(StatItem.FREE_FROZEN);
        r.r2 = (int) s.stat(StatItem.DEACTIVATE_REMOTE_FREES);
        final boolean conserved = !JcstressSupport.frozen(slab) && JcstressSupport.onNodePartial(slab)
            && JcstressSupport.inuse(slab) == 1 && JcstressSupport.slabFreeCount(s, slab) == s.objsPerSlab() - 1;
        r.r3 = conserved && JcstressSupport.release(s, x) == 0 ? 1 : 0;
    }
}
