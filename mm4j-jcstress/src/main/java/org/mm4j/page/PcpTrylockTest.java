package org.mm4j.page;

import org.mm4j.Kernel;
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
 * The pcp try-lock of the buddy allocator ({@code pcp_spin_trylock}): two threads on one CPU slot. Actor 1
 * allocates an order-0 page; actor 2 frees page p and allocates one. Each operation takes slot 0's per-CPU
 * lists with one try-lock CAS, or, when the other thread holds it, goes to the zone's buddy lists under the zone
 * lock (freeing p into the buddy system, or taking a page from it). The pcp list is LIFO, so p usually comes
 * back to whoever allocates after its free. The pages of the two allocations are never the same page, and each
 * is held once (refcount 1). The kernel is shared by the states in flight (the buddy allocator is one per
 * machine), so p may also reach another state's actor; only same-page handouts are judged.
 *
 * <p>Result: r1 = 1 when both actors got the same page; r2 = 1 when both pages have refcount 1;
 * r3 = which got p back (0 = neither, 1 = actor 1, 2 = actor 2).
 */
@JCStressTest
@Description("rmqueue_pcplist / free_frozen_pages on one slot: try-lock or zone fallback, a page never twice")
@Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "actor 2's free and alloc went through the pcp list (LIFO)")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "actor 1 allocated between the free and alloc")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "p went elsewhere (zone fallback or another state)")
@Outcome(expect = FORBIDDEN, desc = "one page handed to both actors, or a refcount other than 1")
@State
public class PcpTrylockTest {
    /** One CPU slot: every thread shares slot 0's pcp lists. */
    static final Kernel KERNEL = Kernel.boot("mem=128M nr_cpus=1");
    private static final BuddyAllocator BUDDY = KERNEL.buddy();

    private final long p = BUDDY.allocPages(Gfp.KERNEL, 0);
    private long a;
    private long b;

    @Actor
    public void allocate() {
        a = BUDDY.allocPages(Gfp.KERNEL, 0);
    }

    @Actor
    public void freeThenAllocate() {
        BUDDY.freePages(p, 0);
        b = BUDDY.allocPages(Gfp.KERNEL, 0);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = a == b ? 1 : 0;
        r.r2 = a >= 0 && b >= 0 && BUDDY.pageCount(a) == 1 && BUDDY.pageCount(b) == 1 ? 1 : 0;
        r.r3 = a == p ? 1 : b == p ? 2 : 0;
        if (a >= 0) {
            BUDDY.freePages(a, 0);
        }
        if (b >= 0 && b != a) {
            BUDDY.freePages(b, 0);
        }
    }
}
