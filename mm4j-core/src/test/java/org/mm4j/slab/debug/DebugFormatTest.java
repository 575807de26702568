package org.mm4j.slab.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mm4j.page.PhysicalMemory;

class DebugFormatTest {
    @Test
    void pointerIsSixteenHexDigits() {
        assertEquals("0000000000000000", DebugFormat.ptr(0));
        assertEquals("ffff888000123440", DebugFormat.ptr(0xffff888000123440L));
    }

    @Test
    void taintColumns() {
        assertEquals("Not tainted", DebugFormat.tainted(0));
        assertEquals("Tainted: G    B              ", DebugFormat.tainted(1 << DebugFormat.TAINT_BAD_PAGE));
        assertEquals("Tainted: G    B   W          ",
            DebugFormat.tainted(1 << DebugFormat.TAINT_BAD_PAGE | 1 << DebugFormat.TAINT_WARN));
    }

    @Test
    void hexDumpLikePrintHexDump() {
        try (PhysicalMemory mem = new PhysicalMemory(4L << 20, 1)) {
            final long k = PhysicalMemory.physToVirt(0x1000);
            for (int i = 0; i < 24; i++) {
                mem.putByte(0x1000 + i, (byte) (i < 16 ? 0x6b : 0x41 + i - 16));
            }
            mem.putByte(0x1000 + 15, (byte) 0xa5);
            final List<String> out = new ArrayList<>();
            DebugFormat.hexDump(out, "Object   ", mem, k, 24);
            assertEquals(List.of(
                "Object   ffff888000001000: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.",
                "Object   ffff888000001010: 41 42 43 44 45 46 47 48                          ABCDEFGH"), out);
        }
    }

    @Test
    void bitList() {
        assertEquals("0", DebugTrack.bitList(1));
        assertEquals("0-1", DebugTrack.bitList(3));
        assertEquals("0,2-4", DebugTrack.bitList(0b11101));
    }
}
