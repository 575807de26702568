package org.mm4j.page;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bounds {@link MemMap} and {@link PhysicalMemory#word} check themselves (they read through one view of all
 * memory, not through the reservations' segments): every pfn or address outside the table or the memory, every
 * offset outside a {@code struct page} entry, and every access after {@code close()} throws, naming the value at fault,
 * and touches nothing.
 */
class MemMapBoundsTest {
    private static final long PAGES = 1024;

    @Test
    void fieldsOfEveryPfnAreTheirOwnAndTheLastPfnIsTheLast() {
        try (MemMap mm = new MemMap(PAGES)) {
            for (long pfn = 0; pfn < PAGES; pfn++) {
                mm.spLong(pfn, MemMap.PRIVATE, pfn * 3 + 1);
                mm.spInt(pfn, MemMap.MAPCOUNT, (int) pfn - 7);
                mm.slabIndex(pfn, ~pfn);
                mm.freeMark(pfn << PhysicalMemory.PAGE_SHIFT | 0xff0, (byte) pfn);
            }
            for (long pfn = 0; pfn < PAGES; pfn++) {
                assertEquals(pfn * 3 + 1, mm.privateWord(pfn));
                assertEquals((int) pfn - 7, mm.mapcount(pfn));
                assertEquals(0, mm.flags(pfn), "a neighbour's stores must not reach the flags word");
                assertEquals(~pfn, mm.slabIndex(pfn));
                assertEquals((byte) pfn, mm.freeMark(pfn << PhysicalMemory.PAGE_SHIFT | 0xff0));
                assertEquals(0, mm.freeMark(pfn << PhysicalMemory.PAGE_SHIFT));
            }
            assertTrue(mm.casLong(PAGES - 1, MemMap.SLAB_WORD, 0, 42));
            assertEquals(42, mm.lvLong(PAGES - 1, MemMap.SLAB_WORD));
        }
    }

    @Test
    void aPfnOutsideTheTableThrowsNamingIt() {
        try (MemMap mm = new MemMap(PAGES)) {
            for (final long pfn : new long[] {PAGES, PAGES + 1, -1, Long.MIN_VALUE, Long.MAX_VALUE}) {
                final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> mm.lpLong(pfn, MemMap.FLAGS));
                assertTrue(e.getMessage().contains("pfn " + pfn), e.getMessage());
                assertThrows(IndexOutOfBoundsException.class, () -> mm.spInt(pfn, MemMap.MAPCOUNT, 1));
                assertThrows(IndexOutOfBoundsException.class, () -> mm.setFlag(pfn, MemMap.PG_SLAB));
                assertThrows(IndexOutOfBoundsException.class, () -> mm.slabIndex(pfn, 1));
            }
            assertThrows(IndexOutOfBoundsException.class, () -> mm.freeMark(PAGES << PhysicalMemory.PAGE_SHIFT));
            assertThrows(IndexOutOfBoundsException.class, () -> mm.freeMark(-16, (byte) 1));
        }
    }

    @Test
    void anOffsetOutsideAnEntryOrMisalignedThrowsNamingIt() {
        try (MemMap mm = new MemMap(PAGES)) {
            for (final int field : new int[] {64, 60, 4, -8, 1 << 20}) {
                final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> mm.lpLong(PAGES - 1, field));
                assertTrue(e.getMessage().contains("offset " + field), e.getMessage());
            }
            for (final int field : new int[] {64, 62, -4}) {
                assertThrows(IllegalArgumentException.class, () -> mm.spInt(PAGES - 1, field, 1));
            }
            assertEquals(0, mm.lpInt(PAGES - 1, 60), "the last int of the last entry is inside the table");
        }
    }

    @Test
    void everyAccessAfterCloseThrowsIllegalState() {
        final MemMap mm = new MemMap(PAGES);
        mm.spLong(5, MemMap.PRIVATE, 9);
        mm.close();
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> mm.privateWord(5));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> mm.flags(0));
        assertThrows(IllegalStateException.class, () -> mm.casRefcount(0, 0, 1));
        assertThrows(IllegalStateException.class, () -> mm.slabIndex(0));
        assertThrows(IllegalStateException.class, () -> mm.freeMark(0));
        assertThrows(IllegalStateException.class, mm::close, "not idempotent, like Arena.close()");
    }

    @Test
    void wordsOfPhysicalMemoryAreBoundedAlignedAndGoneAfterClose() {
        final long bytes = 4L << 20;
        final PhysicalMemory mem = new PhysicalMemory(bytes, 1);
        mem.word(0, 1);
        mem.word(bytes - 8, 2);
        assertEquals(1, mem.word(0));
        assertEquals(2, mem.word(bytes - 8));
        assertEquals(2, mem.getLong(bytes - 8), "the same bytes as the segment's view");
        for (final long phys : new long[] {bytes - 7, bytes, -8, Long.MIN_VALUE}) {
            final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> mem.word(phys));
            assertTrue(e.getMessage().contains(Long.toHexString(phys)), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> mem.word(12), "a word is 8-byte aligned");
        mem.close();
        assertThrows(IllegalStateException.class, () -> mem.word(0));
        assertThrows(IllegalStateException.class, () -> mem.word(8, 1));
    }
}
