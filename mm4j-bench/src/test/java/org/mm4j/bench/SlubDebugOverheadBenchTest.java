package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mm4j.slab.SlabFlags;

/** The debug-overhead benchmark's loop runs for every flag set it offers (no timing). */
class SlubDebugOverheadBenchTest {

    @ParameterizedTest
    @ValueSource(strings = {"none", "F", "Z", "P", "U", "FZPU"})
    void loopRunsAndCacheGetsTheFlags(final String debug) {
        final SlubDebugOverheadBench b = new SlubDebugOverheadBench();
        b.debug = debug;
        b.boot();
        try {
            for (int i = 0; i < 2000; i++) {
                assertNotEquals(0, b.allocFree64());
            }
        } finally {
            b.shutdown();
        }
    }

    @org.junit.jupiter.api.Test
    void lettersMapToSlabFlags() {
        assertEquals(0, SlubDebugOverheadBench.flags("none"));
        assertEquals(SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON, SlubDebugOverheadBench.flags("ZP"));
        assertThrows(IllegalArgumentException.class, () -> SlubDebugOverheadBench.flags("X"));
    }
}
