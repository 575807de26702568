package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RemoteFreeProbeTest {
    @Test
    void pinnedEpisodesTimeEachSidesWorkApartAndOnOneCpu() throws Throwable {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs 2 CPUs");
        final AtomicReference<Object> out = new AtomicReference<>();
        // a thread of its own: the episodes pin the calling thread (and restore every CPU after)
        final Thread t = new Thread(() -> {
            try {
                out.set(new double[][] {RemoteFreeProbe.pinnedEpisode("mm4j", true, 0.05, 0.1),
                    RemoteFreeProbe.pinnedEpisode("mm4j", false, 0.05, 0.1)});
            } catch (final Throwable e) {
                out.set(e);
            }
        });
        t.start();
        t.join(60_000);
        if (out.get() instanceof Throwable e) {
            throw e;
        }
        final double[][] r = (double[][]) out.get();
        for (final double[] side : r) {
            assertEquals(2, side.length);
            // producer and consumer: some batches qualified, and an object costs at least a nanosecond
            assertTrue(side[0] >= 1 && side[0] < 1e6 && side[1] >= 1 && side[1] < 1e6,
                "work ns per object: " + side[0] + ", " + side[1]);
        }
    }

    @Test
    void theConsumerTimesNothingUnlessAsked() throws Throwable {
        final AtomicReference<Object> out = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            final RemoteFreeBench b = new RemoteFreeBench();
            b.reportHandOffs = false;
            b.setUp(Allocators.open("mm4j"));
            try {
                for (int i = 0; i < 3000; i++) {
                    b.remoteFree64(RemoteFreeProbe.BH);
                }
                b.drain();
                out.set(b.consumerWork());
            } finally {
                b.tearDown();
            }
        });
        t.start();
        t.join(60_000);
        assertEquals(0L, ((long[]) out.get())[1], "no batch timed without timeWork");
    }
}
