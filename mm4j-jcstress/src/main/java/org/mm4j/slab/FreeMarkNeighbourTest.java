package org.mm4j.slab;

import org.mm4j.page.PhysicalMemory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The free marks ({@link FreeMarks}: one byte per object, plain stores, no atomic) of two neighbouring objects
 * written by two threads at once: y, the one free object of slot 0's CPU slab, is handed out on slot 0 (its mark
 * cleared) while x, the object 16 bytes before it (its mark in the same byte word), is freed on slot 1
 * ({@code __slab_free}, a remote free: its mark set). Neither write may be lost: afterwards x is marked free and y
 * not, a second free of x is refused and the free of y is accepted.
 *
 * <p>Result: r1 = 1 when the allocation got y; r2 = x's mark * 10 + y's mark (10: x free, y not); r3 = 1 when a
 * second free of x was refused and y's free accepted; r4 = slabs left after freeing everything (0).
 */
@JCStressTest
@Description("neighbouring free marks: a handout on one slot and a remote free on the other lose neither write")
@Outcome(id = "1, 10, 1, 0", expect = ACCEPTABLE, desc = "both marks right, the double free refused")
@Outcome(expect = FORBIDDEN, desc = "a mark lost: a double free accepted or a live object taken as free")
@State
public class FreeMarkNeighbourTest {
    private final KmemCache s = JcstressSupport.newCache(16, 0);
    private final long x;
    private final long y;
    /** The slab's other objects, held so that y is the one free object of slot 0's CPU slab. */
    private final long[] held;
    private long got;

    public FreeMarkNeighbourTest() {
        JcstressSupport.pin(0);
        // the whole of a new slab (slot 0's CPU slab), so that the two objects at the start of its page are known
        // neighbours; then every object but x and y back and taken again: slot 0's CPU freelist is empty
        final long[] all = new long[s.objsPerSlab()];
        for (int i = 0; i < all.length; i++) {
            all[i] = s.alloc();
        }
        x = PhysicalMemory.PAGE_OFFSET + (JcstressSupport.phys(all[0]) & -PhysicalMemory.PAGE_SIZE);
        y = x + 16;
        held = new long[all.length - 2];
        for (final long k : all) {
            if (k != x && k != y) {
                s.free(k);
            }
        }
        for (int i = 0; i < held.length; i++) {
            held[i] = s.alloc();
        }
        s.free(y);  // y alone on slot 0's CPU freelist
    }

    @Actor
    public void allocOnSlot0() {
        JcstressSupport.pin(0);
        got = s.alloc();
    }

    @Actor
    public void freeNeighbourOnSlot1() {
        JcstressSupport.pin(1);
        s.free(x);
    }

    @Arbiter
    public void arbiter(final IIII_Result r) {
        JcstressSupport.pin(0);
        r.r1 = got == y ? 1 : 0;
        final long px = JcstressSupport.phys(x);
        final long py = JcstressSupport.phys(y);
        r.r2 = (FreeMarks.isFree(s.mm, px) ? 10 : 0) + (FreeMarks.isFree(s.mm, py) ? 1 : 0);
        boolean refused = false;
        try {
            s.free(x);
        } catch (final IllegalStateException e) {
            refused = true;
        }
        boolean accepted = true;
        try {
            s.free(got);
        } catch (final RuntimeException e) {
            accepted = false;
        }
        r.r3 = refused && accepted ? 1 : 0;
        r.r4 = JcstressSupport.release(s, held);
    }
}
