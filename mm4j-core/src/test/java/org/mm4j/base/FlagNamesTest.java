package org.mm4j.base;

import org.junit.jupiter.api.Test;
import org.mm4j.page.Gfp;
import org.mm4j.slab.SlabFlags;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FlagNamesTest {
    @Test
    void compositesFirstThenBitsThenLeftoverHex() {
        final Map<String, Integer> names = new LinkedHashMap<>();
        names.put("AB", 0b11);
        names.put("A", 0b01);
        names.put("C", 0b100);
        assertEquals("0", FlagNames.format(0, names, false));
        assertEquals("AB|C", FlagNames.format(0b111, names, false));
        assertEquals("A|C", FlagNames.format(0b111 & ~0b10, names, false));
        assertEquals("A|C|0x2", FlagNames.format(0b111, names, true), "composites skipped");
        assertEquals("C|0x18", FlagNames.format(0b11100, names, false));
    }

    @Test
    void gfpAndSlabFlagsRoundTrip() {
        assertEquals("GFP_KERNEL|__GFP_ZERO", Gfp.toString(Gfp.KERNEL | Gfp.ZERO));
        assertEquals(Gfp.KERNEL_ACCOUNT | Gfp.COMP, Gfp.parse(Gfp.toString(Gfp.KERNEL_ACCOUNT | Gfp.COMP)));
        assertEquals("0x80000000", Gfp.toString(Integer.MIN_VALUE));
        final long f = SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON;
        assertEquals("SLAB_RED_ZONE|SLAB_POISON", SlabFlags.toString(f));
        assertEquals(f, SlabFlags.parse(SlabFlags.toString(f)));
    }
}
