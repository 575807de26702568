package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The ring's segment rows ({@link SegmentRow}) run its operation in their natural form ({@link RingBench#step}):
 * each segment kept only in the ring's {@code Object[]}, written through and freed from there, no address stored
 * into the {@code long[]} of the address rows, and every live segment of the size asked and holding its stamp at
 * both ends. (The address rows' ring, through a watching wrapper, is {@link AllocatorsTest}'s.)
 */
class RingSegmentsTest {
    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mm4j-segment", "floor-segment"})
    void segmentRowsKeepEachSegmentInTheRingsObjectArrayOnly(final String name) {
        for (final RingBench r : List.of(new Ring64Bench(), new RingMixedBench())) {
            r.setUp(Allocators.open(name));
            try {
                final long[] none = new long[RingBench.SLOTS];
                System.arraycopy(none, 0, r.addrs, 0, none.length);  // what prepare stored: steps store nothing there
                final int steps = 3 * RingBench.SLOTS + 7;
                for (int i = 0; i < steps; i++) {
                    r.step(BH);
                }
                assertArrayEquals(none, r.addrs, name + ": a segment row's step stores no address");
                assertEquals(RingBench.LIVE + steps, r.stamp, name + ": one object allocated per step");
                for (int i = 0, o = r.oldest; i < RingBench.LIVE; i++, o = o + 1 == RingBench.SLOTS ? 0 : o + 1) {
                    final long k = r.stamp - RingBench.LIVE + i;  // the k-th object allocated holds stamp k
                    final MemorySegment m = assertInstanceOf(MemorySegment.class, r.refs[o], name + " slot " + o);
                    assertEquals(r.sizeOf(k), m.byteSize(), name + ": size of object " + k);
                    assertEquals(k, m.get(Memory.LONG, 0), name + ": first 8 bytes of object " + k);
                    assertEquals(k, m.get(Memory.LONG, m.byteSize() - 8), name + ": last 8 bytes of object " + k);
                }
            } finally {
                r.tearDown();
            }
        }
    }
}
