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
 * Thread-exit flush (issue 9's "nothing stranded in threads"): the sheaves of an ended thread go back exactly
 * once, whichever reaper comes first. Each state starts a platform thread that allocates through its own
 * {@link SlabAllocator} and frees into its per-thread sheaves, and ends. Two reapers then race for its sheaves:
 * actor 1 runs {@code kmem_cache_shrink} ({@code flush_all} reaps ended threads), actor 2 runs
 * {@link Slub#reclaimStranded()} (what an allocation about to fail does). The daemon reaper is paused, so these
 * two are the only ones. A second flush of the same sheaves would free their objects twice, which the slab layer
 * refuses with an IllegalStateException. Other states' ended threads may be reaped by these actors too: the
 * guarantee is per allocator.
 *
 * <p>Result: r1 = 1 when the ended thread's allocator is marked reaped; r2 = objects still in its sheaves (0);
 * r3 = exceptions thrown by the reapers (0).
 */
@JCStressTest
@Description("kmem_cache_shrink vs reclaimStranded on one ended thread's sheaves: flushed exactly once")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "flushed once, by one of the two reapers")
@Outcome(expect = FORBIDDEN, desc = "not flushed, objects left behind, or flushed twice (a double free)")
@State
public class ThreadExitFlushTest {
    private static final Slub SLUB = JcstressSupport.KERNEL.slab();
    private static final KmemCache CACHE;

    static {
        CACHE = SLUB.kmemCacheCreate("jcstress_exit", 96, 0, 0, null);
        SLUB.threadSheaves.pauseDaemon(true);
    }

    private final SlabAllocator ended;
    private int errors1;
    private int errors2;

    public ThreadExitFlushTest() {
        final SlabAllocator[] out = new SlabAllocator[1];
        final Thread t = Thread.ofPlatform().unstarted(() -> {
            final SlabAllocator a = SLUB.allocator();
            final long[] objs = new long[5];
            for (int i = 0; i < objs.length; i++) {
                objs[i] = a.alloc(CACHE);
            }
            for (final long o : objs) {
                a.free(CACHE, o);  // into this thread's sheaves
            }
            out[0] = a;
        });
        t.start();
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (final InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        ended = out[0];
    }

    @Actor
    public void shrink() {
        try {
            CACHE.shrink();
        } catch (final RuntimeException e) {
            errors1++;
        }
    }

    @Actor
    public void reclaimStranded() {
        try {
            SLUB.reclaimStranded();
        } catch (final RuntimeException e) {
            errors2++;
        }
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        final boolean reaped;
        synchronized (ended) {
            reaped = ended.reaped;
        }
        r.r1 = reaped ? 1 : 0;
        r.r2 = (int) ended.objects(CACHE);
        r.r3 = errors1 + errors2;
    }
}
