package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuAb}'s ring loop runs each row's natural form, as {@link RingBench#step} does: the segment rows
 * ({@link SegmentRow}) {@link SafetyCost#ringSegments}, the slot form with {@code mm4j.cpuab.slots} or for a jar
 * without {@link SegmentRow}, {@link RingBench#step} itself with {@code mm4j.cpuab.step}.
 */
class CpuAbRingTest {
    private static final ClassLoader OWN = CpuAbRingTest.class.getClassLoader();

    @Test
    void segmentRowsRunTheNaturalRingAndAddressRowsTheSlotForm() {
        try (Allocator seg = Allocators.open("mm4j-segment"); Allocator floor = Allocators.open("floor-segment");
             Allocator mm4j = Allocators.open("mm4j")) {
            assertEquals("ringSegments", CpuAb.ringMethod(OWN, seg));
            assertEquals("ringSegments", CpuAb.ringMethod(OWN, floor));
            assertEquals("ring", CpuAb.ringMethod(OWN, mm4j));
            // a jar older than SegmentRow: the loader does not have the type
            assertEquals("ring", CpuAb.ringMethod(ClassLoader.getPlatformClassLoader(), seg));
            System.setProperty("mm4j.cpuab.slots", "true");
            try {
                assertEquals("ring", CpuAb.ringMethod(OWN, seg));
            } finally {
                System.clearProperty("mm4j.cpuab.slots");
            }
            System.setProperty("mm4j.cpuab.step", "true");
            try {
                assertEquals("ringStep", CpuAb.ringMethod(OWN, mm4j));
                assertEquals("ringStep", CpuAb.ringMethod(OWN, seg));
            } finally {
                System.clearProperty("mm4j.cpuab.step");
            }
        }
    }

    @Test
    void theNaturalRingFreesEverySegmentItAllocated() {
        try (Allocator floor = Allocators.open("floor-segment")) {
            floor.bindThread(0);
            // 64 B objects all in one of the floor's size classes, which holds Floor.OBJECTS: a round that left
            // its live set allocated would leave the next rounds too few
            for (int round = 0; round < 3 * Floor.OBJECTS / RingBench.LIVE; round++) {
                SafetyCost.ringSegments(floor, RingBench.constant(64));
            }
            final MemorySegment m = ((SegmentRow) floor).allocate(64);
            assertEquals(64, m.byteSize());
            ((SegmentRow) floor).free(m);
        }
    }
}
