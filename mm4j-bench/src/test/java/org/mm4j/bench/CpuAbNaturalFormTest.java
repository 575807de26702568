package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CpuAb}'s ring and batch loops run each row's natural form, as {@link RingBench#step} and
 * {@link BatchBench} do: the segment rows ({@link SegmentRow}) {@link SafetyCost#ringSegments} and
 * {@link SafetyCost#batchSegments}, the slot form with {@code mm4j.cpuab.slots} or for a jar without
 * {@link SegmentRow}, the JMH benchmark's own step with {@code mm4j.cpuab.step}; and the natural forms free every
 * segment they allocate.
 */
class CpuAbNaturalFormTest {
    private static final ClassLoader OWN = CpuAbNaturalFormTest.class.getClassLoader();

    @ParameterizedTest
    @ValueSource(strings = {"ring", "batch"})
    void segmentRowsRunTheNaturalFormAndAddressRowsTheSlotForm(final String loop) {
        try (Allocator seg = Allocators.open("mm4j-segment"); Allocator floor = Allocators.open("floor-segment");
             Allocator mm4j = Allocators.open("mm4j")) {
            assertEquals(loop + "Segments", CpuAb.loopMethod(loop, OWN, seg));
            assertEquals(loop + "Segments", CpuAb.loopMethod(loop, OWN, floor));
            assertEquals(loop, CpuAb.loopMethod(loop, OWN, mm4j));
            // a jar older than SegmentRow: the loader does not have the type
            assertEquals(loop, CpuAb.loopMethod(loop, ClassLoader.getPlatformClassLoader(), seg));
            System.setProperty("mm4j.cpuab.slots", "true");
            try {
                assertEquals(loop, CpuAb.loopMethod(loop, OWN, seg));
            } finally {
                System.clearProperty("mm4j.cpuab.slots");
            }
            System.setProperty("mm4j.cpuab.step", "true");
            try {
                assertEquals(loop + "Step", CpuAb.loopMethod(loop, OWN, mm4j));
                assertEquals(loop + "Step", CpuAb.loopMethod(loop, OWN, seg));
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
            stillAllocates(floor);
        }
    }

    @Test
    void theNaturalBatchFreesEverySegmentItAllocated() {
        try (Allocator floor = Allocators.open("floor-segment")) {
            floor.bindThread(0);
            // one call allocates SafetyCost.BATCHES batches of 1,024 objects of 64 B from the floor's one size
            // class of Floor.OBJECTS: a batch that left its objects allocated would leave the next too few
            for (int round = 0; round < 3; round++) {
                SafetyCost.batchSegments(floor);
            }
            stillAllocates(floor);
        }
    }

    private static void stillAllocates(final Allocator floor) {
        final MemorySegment m = ((SegmentRow) floor).allocate(64);
        assertEquals(64, m.byteSize());
        ((SegmentRow) floor).free(m);
    }
}
