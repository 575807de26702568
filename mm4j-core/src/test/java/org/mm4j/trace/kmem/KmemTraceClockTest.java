package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replay runs the buddy allocator's once-a-second vmstat tick ({@code decay_pcp_high}) on the trace's clock: the
 * final free lists and per-CPU lists depend on the events and their timestamps, not on how fast the replay ran.
 */
class KmemTraceClockTest {
    private static final int EVENTS = 60_000;

    /** The generated trace's events, their timestamps spread {@code stretch} times wider (1 µs apart becomes more). */
    private static List<KmemEvent> trace(final long stretch) throws IOException {
        final List<KmemEvent> events = new ArrayList<>();
        try (KmemTraceReader r = new KmemTraceReader(
            new ByteArrayInputStream(KmemTraceGenerator.generate(21, 2, 4096, EVENTS)), null)) {
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                final KmemEvent e = new KmemEvent();
                e.copyFrom(ev);
                e.timestampMicros = 3_000_000_000L + (ev.timestampMicros - 3_000_000_000L) * stretch;
                events.add(e);
            }
        }
        assertEquals(EVENTS, events.size());
        return events;
    }

    /** /proc/buddyinfo and /proc/zoneinfo after replaying {@code events} on a fresh boot, pausing where asked. */
    private static String replay(final List<KmemEvent> events, final int pauseAt, final long pauseMillis)
        throws InterruptedException {
        try (Kernel k = Kernel.boot("mem=256M slab_nomerge")) {
            final KmemReplayer rp = new KmemReplayer(k.params(), k.buddy(), k.slab(), k.cpus());
            for (int i = 0; i < events.size(); i++) {
                if (i == pauseAt) {
                    Thread.sleep(pauseMillis);
                }
                rp.replay(events.get(i));
                assertTrue(k.buddy().traceClock(), "the vmstat tick runs on the trace's clock during the replay");
            }
            rp.finish();
            assertFalse(k.buddy().traceClock(), "and on the wall clock after it");
            assertEquals(0, rp.modelObjectFailures() + rp.modelPageFailures());
            return k.procfs().read("/proc/buddyinfo") + k.procfs().read("/proc/zoneinfo");
        }
    }

    @Test
    void twoReplaysOfOneTraceEndInTheSameStateHoweverLongTheyTook() throws Exception {
        // ~12 s of trace time: a dozen vmstat ticks per CPU list
        final List<KmemEvent> events = trace(200);
        final String straight = replay(events, -1, 0);
        // over a second of wall time near the end: on the wall clock, that alone would add a tick
        final String paused = replay(events, EVENTS - 2_000, 1_100);
        assertEquals(straight, paused);
        assertEquals(straight, replay(events, -1, 0));
    }

    @Test
    void theTicksFollowTheTracesTimestamps() throws Exception {
        // the same events over ~60 ms of trace time (no tick after the first) and over ~12 s (a dozen): the decay
        // of the auto-tuned pcp high makes the final per-CPU lists differ, though both replays take milliseconds
        final String quick = replay(trace(1), -1, 0);
        final String slow = replay(trace(200), -1, 0);
        assertNotEquals(quick, slow);
        assertEquals(quick, replay(trace(1), -1, 0));
    }
}
