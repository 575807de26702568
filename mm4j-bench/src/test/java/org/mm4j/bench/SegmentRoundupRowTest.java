package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.mm4j.slab.SlabAllocator;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code mm4j-segment-roundup} on the mixed ring: the segment rows' step ({@link SegmentRow}, as {@code mm4j-segment}
 * runs it), each live segment of {@code kmallocSizeRoundup} of the size asked, holding its stamp in the first and
 * last 8 of the bytes asked.
 */
class SegmentRoundupRowTest {
    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @Test
    void theMixedRingHoldsRoundedSegmentsWrittenAtTheSizesAsked() {
        final RingBench r = new RingMixedBench();
        r.setUp(Allocators.open("mm4j-segment-roundup"));
        try {
            java.util.Arrays.fill(r.addrs, 0);  // what prepare stored: the segment rows' step stores nothing there
            final int steps = 3 * RingBench.SLOTS + 7;
            for (int i = 0; i < steps; i++) {
                r.step(BH);
            }
            assertArrayEquals(new long[RingBench.SLOTS], r.addrs, "the segment rows' step stores no address");
            for (int i = 0, o = r.oldest; i < RingBench.LIVE; i++, o = o + 1 == RingBench.SLOTS ? 0 : o + 1) {
                final long k = r.stamp - RingBench.LIVE + i;
                final long n = r.sizeOf(k);
                final MemorySegment m = assertInstanceOf(MemorySegment.class, r.refs[o], "slot " + o);
                assertEquals(SlabAllocator.kmallocSizeRoundup(n), m.byteSize(), "size of object " + k);
                assertEquals(k, m.get(Memory.LONG, 0), "first 8 bytes of object " + k);
                assertEquals(k, m.get(Memory.LONG, n - 8), "last 8 of the " + n + " bytes asked of object " + k);
            }
        } finally {
            r.tearDown();
        }
    }
}
