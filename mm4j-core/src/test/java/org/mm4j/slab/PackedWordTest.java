package org.mm4j.slab;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packed slab word and the per-CPU word's bit split, at addresses far above the old 32 GiB cap. */
class PackedWordTest {
    @Test
    void slabWordFreelistIsSlabRelativeAndRoundTripsAnywhere() {
        final long[] slabs = {1, 4096, (40L << 30) >>> 12, ((1L << 40) - (4L << 20)) >>> 12};
        for (final long slab : slabs) {
            final long base = slab << 12;
            for (final long off : new long[] {0, 8, 4096 - 8, (4L << 20) - 8}) {
                final long w = KmemCache.slabWord(slab, base + off, 17, 32767, true);
                assertEquals(base + off, KmemCache.wFreelist(slab, w), "slab " + slab + " offset " + off);
                assertEquals(17, KmemCache.wInuse(w));
                assertEquals(32767, KmemCache.wObjects(w));
                assertTrue(KmemCache.wFrozen(w));
            }
            final long empty = KmemCache.slabWord(slab, 0, 3, 9, false);
            assertEquals(0, KmemCache.wFreelist(slab, empty), "NULL stays NULL, even when an object sits at offset 0");
            assertFalse(KmemCache.wFrozen(empty));
        }
    }

    @Test
    void tidGetsTheBitsTheReferenceDoesNotNeed() {
        assertEquals(64 - 25, KmemCache.tidBits(256L << 20));
        assertEquals(32, KmemCache.tidBits(32L << 30));
        assertEquals(29, KmemCache.tidBits(256L << 30));
        assertEquals(27, KmemCache.tidBits(1L << 40));
        assertTrue(KmemCache.tidBits(1L << 40) >= KmemCache.MIN_TID_BITS);
        assertTrue(KmemCache.tidBits((1L << 40) + (4L << 20)) < KmemCache.MIN_TID_BITS, "above 1 TiB is refused");
    }
}
