package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The floor rows ({@link Floor}): they run the fair workloads through the same states as the table rows (every
 * object written and holding what was written, live sets kept, everything freed), are not peers, and the segment
 * floor keeps the {@code SegmentAllocator} contract the bound relies on (a segment of exactly the size asked, the
 * cached view only for the same object and size, the free reading the address back).
 */
class FloorRowsTest {
    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    private static Watching setUp(final PeerState state, final String name) {
        return AllocatorsTest.setUp(state, name);
    }

    private static void tearDownClean(final PeerState state, final Watching w, final String what) {
        AllocatorsTest.assertLiveMemoryHoldsWhatWasWritten(w, what);
        AllocatorsTest.tearDownClean(state, w, what);
    }

    @Test
    void floorRowsAreNotPeersButOpenByName() {
        assertFalse(Allocators.NAMES.contains("floor-long"));
        assertFalse(Allocators.NAMES.contains("floor-segment"));
        try (Allocator a = Allocators.open("floor-long"); Allocator b = Allocators.open("floor-segment")) {
            assertEquals("floor-long", a.name());
            assertEquals("floor-segment", b.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"floor-long", "floor-segment"})
    void everyFairWorkloadWritesKeepsAndFreesItsObjects(final String name) {
        final AllocFreeBench af = new AllocFreeBench();
        final Watching w1 = setUp(af, name);
        for (int i = 0; i < 1000; i++) {
            af.allocFree64(BH);
        }
        assertEquals(1, w1.maxLive());
        tearDownClean(af, w1, name + " alloc-free-64");

        final BatchBench b = new BatchBench();
        final Watching w2 = setUp(b, name);
        b.allocAll(64, BH);
        assertEquals(BatchBench.BATCH, w2.live());
        AllocatorsTest.assertLiveMemoryHoldsWhatWasWritten(w2, name + " batch");
        b.freeAll(64);
        b.batch1024x64(BH);
        tearDownClean(b, w2, name + " batch-1024x64");

        for (final RingBench r : List.of(new Ring64Bench(), new RingMixedBench())) {
            final Watching w = setUp(r, name);
            for (int i = 0; i < 5000; i++) {
                r.step(BH);
                assertEquals(RingBench.LIVE, w.live());
            }
            assertEquals(RingBench.LIVE + 1, w.maxLive());
            tearDownClean(r, w, name + " " + r.getClass().getSimpleName());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"floor-long", "floor-segment"})
    void cpuAbLoopsRunOverTheFloorRows(final String name) {
        // SafetyCost's loops are the ones CpuAb runs in each variant's class loader
        SafetyCost.main(new String[] {name, "3"});
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"floor-long", "floor-segment"})
    void aSecondThreadAndABadSizeAreRefusedNamingTheValue(final String name) {
        try (Allocator a = Allocators.open(name)) {
            a.bindThread(0);
            final UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> a.bindThread(1));
            assertTrue(e.getMessage().contains("bindThread(1)"), e.getMessage());
            final IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> a.alloc(8193, new Object[1], 0));
            assertTrue(big.getMessage().contains("byteSize=8193"), big.getMessage());
        }
    }

    @Test
    void segmentFloorHandsOutExactViewsAndCachesThemOnlyForTheSameObjectAndSize() {
        try (Floor.Segments f = new Floor.Segments("floor-segment")) {
            f.bindThread(0);
            final MemorySegment a = f.allocate(64);
            assertEquals(64, a.byteSize());
            f.free(a);
            final MemorySegment b = f.allocate(64);  // the same object (LIFO), a size asked once before: a new view
            assertEquals(a.address(), b.address());
            f.free(b);
            final MemorySegment c = f.allocate(64);  // asked twice in a row now: the view cached for the object
            assertSame(b, c);
            f.free(c);
            final MemorySegment d = f.allocate(48);  // same object, another size: a view of exactly 48 bytes
            assertEquals(c.address(), d.address());
            assertEquals(48, d.byteSize());
            assertNotSame(c, d);
            final MemorySegment e = f.allocate(40);  // the next object of the class, not d's
            assertEquals(d.address() + 64, e.address());
            assertEquals(40, e.byteSize());
            f.free(e);
            f.free(d);  // the address is read back from the segment: d's object is on top again
            assertEquals(d.address(), f.allocate(33).address());
            final MemorySegment g = f.allocate(4096);
            assertEquals(4096, g.byteSize());
            g.set(Memory.LONG, 4088, 7L);
            assertEquals(7L, g.get(Memory.LONG, 4088));
        }
    }

    @Test
    void floorBoundPairsTheRoundsAndSkipsTheFirstThird() {
        final List<String> lines = new java.util.ArrayList<>();
        for (int r = 0; r < 6; r++) {
            final double k = r < 2 ? 100 : 1 + r % 2;  // warm-up rounds 0 and 1 are far off and must not count
            lines.add("ring-64," + r + ",mm4j," + 10 * k);
            lines.add("ring-64," + r + ",mm4j-segment," + 14 * k);
            lines.add("ring-64," + r + ",floor-long," + 1 * k);
            lines.add("ring-64," + r + ",floor-segment," + 3 * k);
        }
        final List<String> out = FloorBound.report(lines);
        assertEquals(1, out.size(), out.toString());
        // per round: face = 2k, bound = 1 + 2k / 10k = 1.2, own = 14k - 10k - 2k = 2k (k = 1 or 2, median 2 of 4)
        assertTrue(out.get(0).contains("mm4j-segment 28.00 x1.400"), out.get(0));
        assertTrue(out.get(0).contains("floor-segment/floor-long x3.000"), out.get(0));
        assertTrue(out.get(0).contains("bound x1.200"), out.get(0));
        assertTrue(out.get(0).contains("own +4.00 ns"), out.get(0));
    }

    @Test
    void longFloorReusesTheLastFreedObjectOfTheClass() {
        try (Floor.Longs f = new Floor.Longs("floor-long")) {
            f.bindThread(0);
            final Object[] refs = new Object[2];
            final long p = f.alloc(100, refs, 0);
            final long q = f.alloc(128, refs, 1);  // the same class (128 bytes): the next object
            assertEquals(p + 128, q);
            f.free(p, 100, refs, 0);
            assertEquals(p, f.alloc(65, refs, 0));
            assertTrue(f.alloc(64, refs, 1) != p, "another class, another region");
        }
    }
}
