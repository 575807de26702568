package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuAb}'s batch loop runs each row's natural form, as {@link BatchBench} does: the segment rows
 * ({@link SegmentRow}) {@link SafetyCost#batchSegments}, the slot form with {@code mm4j.cpuab.slots} or for a jar
 * without {@link SegmentRow}, {@link BatchBench#batch1024x64} itself with {@code mm4j.cpuab.step}.
 */
class CpuAbBatchTest {
    private static final ClassLoader OWN = CpuAbBatchTest.class.getClassLoader();

    @Test
    void segmentRowsRunTheNaturalBatchAndAddressRowsTheSlotForm() {
        try (Allocator seg = Allocators.open("mm4j-segment"); Allocator floor = Allocators.open("floor-segment");
             Allocator mm4j = Allocators.open("mm4j")) {
            assertEquals("batchSegments", CpuAb.batchMethod(OWN, seg));
            assertEquals("batchSegments", CpuAb.batchMethod(OWN, floor));
            assertEquals("batch", CpuAb.batchMethod(OWN, mm4j));
            // a jar older than SegmentRow: the loader does not have the type
            assertEquals("batch", CpuAb.batchMethod(ClassLoader.getPlatformClassLoader(), seg));
            System.setProperty("mm4j.cpuab.slots", "true");
            try {
                assertEquals("batch", CpuAb.batchMethod(OWN, seg));
            } finally {
                System.clearProperty("mm4j.cpuab.slots");
            }
            System.setProperty("mm4j.cpuab.step", "true");
            try {
                assertEquals("batchStep", CpuAb.batchMethod(OWN, mm4j));
                assertEquals("batchStep", CpuAb.batchMethod(OWN, seg));
            } finally {
                System.clearProperty("mm4j.cpuab.step");
            }
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
            final MemorySegment m = ((SegmentRow) floor).allocate(64);
            assertEquals(64, m.byteSize());
            ((SegmentRow) floor).free(m);
        }
    }
}
