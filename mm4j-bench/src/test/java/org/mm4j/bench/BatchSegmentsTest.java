package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The batch's segment rows ({@link SegmentRow}) run it in their natural form ({@link BatchBench}): each segment
 * kept only in the batch's {@code Object[]}, written through and freed from there, no address stored into the
 * {@code long[]} of the address rows and no {@code null} stored over a freed segment; every segment of the size
 * asked and holding its stamp at both ends, and objects freed come back in the next batch of that size. (The
 * address rows' batch, through a watching wrapper, is {@link AllocatorsTest}'s.)
 */
class BatchSegmentsTest {
    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mm4j-segment", "floor-segment", "mm4j-segment-roundup"})
    void segmentRowsKeepEachSegmentInTheBatchsObjectArrayOnly(final String name) {
        final BatchBench b = new BatchBench();
        b.setUp(Allocators.open(name));
        try {
            final long[] none = new long[BatchBench.BATCH];
            final long[] sizes = {64, 64, 1024, 1024};
            long[] before = null;
            for (int r = 0; r < sizes.length; r++) {
                final long size = sizes[r];
                final long first = b.stamp;
                b.allocAll(size, BH);
                assertArrayEquals(none, b.addrs, name + ": a segment row's batch stores no address");
                assertEquals(first + BatchBench.BATCH, b.stamp, name + ": one object allocated per slot");
                final MemorySegment[] held = new MemorySegment[BatchBench.BATCH];
                for (int i = 0; i < BatchBench.BATCH; i++) {
                    final long k = first + i;  // the i-th object of the batch holds stamp k
                    final MemorySegment m = assertInstanceOf(MemorySegment.class, b.refs[i], name + " slot " + i);
                    assertEquals(size, m.byteSize(), name + ": size of object " + k);
                    assertEquals(k, m.get(Memory.LONG, 0), name + ": first 8 bytes of object " + k);
                    assertEquals(k, m.get(Memory.LONG, size - 8), name + ": last 8 bytes of object " + k);
                    held[i] = m;
                }
                final long[] at = Arrays.stream(held).mapToLong(MemorySegment::address).sorted().toArray();
                if (r % 2 == 1) {  // the second batch of a size gets objects the first freed (the sheaf's last)
                    final long[] earlier = before;
                    assertTrue(Arrays.stream(at).anyMatch(x -> Arrays.binarySearch(earlier, x) >= 0),
                        name + ": no object freed by the batch before was allocated again");
                }
                before = at;
                b.freeAll(size);
                for (int i = 0; i < BatchBench.BATCH; i++) {
                    assertSame(held[i], b.refs[i], name + ": freed from slot " + i + ", no null stored over it");
                }
            }
            b.batch1024x64(BH);
            b.batch1024x1k(BH);
            assertEquals(6L * BatchBench.BATCH, b.stamp, name + ": two more batches");
            assertArrayEquals(none, b.addrs, name);
        } finally {
            b.tearDown();
        }
    }
}
