package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuddySmokeTest {
    @Test
    void allocFreeRestoresAllFreePages() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final long before = b.freePages();
            final long p = b.allocPages(Gfp.KERNEL | Gfp.COMP, 3);
            assertTrue(p > 0 && (p & 7) == 0, "order-3 block aligned: " + p);
            assertEquals(before - 8, b.freePages());
            assertTrue(b.freePages(p, 3));
            assertEquals(before, b.freePages() + b.pcpPages(), "order-3 frees go to the per-CPU lists");
            b.drainAllPages();
            assertEquals(before, b.freePages());
        }
    }
}
