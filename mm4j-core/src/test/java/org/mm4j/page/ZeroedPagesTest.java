package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link BuddyAllocator#freePagesUnwritten}: a block handed out zero and freed unwritten is not zeroed again by the
 * next {@code __GFP_ZERO} allocation of it (the kmem replay's saving), and every block that may hold anything else
 * still is.
 */
class ZeroedPagesTest {
    private static long phys(final long pfn) {
        return PhysicalMemory.pfnToPhys(pfn);
    }

    /** A dirty block handed out, then the next allocation of it. */
    private static long dirtyBlock(final BuddyAllocator b, final PhysicalMemory m, final int order) {
        final long p = b.allocPages(Gfp.KERNEL, order);
        m.fill(phys(p), (long) PhysicalMemory.PAGE_SIZE << order, (byte) 0x5a);
        b.freePages(p, order);
        return p;
    }

    @Test
    void aBlockFreedUnwrittenAfterAZeroedHandoutIsNotWrittenAgain() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            for (final int order : new int[] {0, 1, 3}) {
                final long p = dirtyBlock(b, m, order);
                final long q = b.allocPages(Gfp.KERNEL | Gfp.ZERO, order);
                assertEquals(p, q, "order " + order + ": the block just freed comes back (LIFO)");
                assertEquals(0, m.getLong(phys(q)), "order " + order + ": zeroed");
                b.freePagesUnwritten(q, order);
                // a stray write into memory nobody owns (the price the fresh-page rule already names): it shows
                // that the next zeroed allocation does not write the block again
                m.putLong(phys(q) + 8, 7);
                final long r = b.allocPages(Gfp.KERNEL | Gfp.ZERO, order);
                assertEquals(q, r);
                assertEquals(7, m.getLong(phys(r) + 8), "order " + order + ": not zeroed again");
                assertEquals(0, m.getLong(phys(r)));
                m.putLong(phys(r) + 8, 0);
                b.freePages(r, order);
            }
        }
    }

    /**
     * The zero bits are per page from boot: a {@code __GFP_ZERO} block never handed out is not written, even when
     * another page of its pageblock was handed out before (the kmem replay's page events: their first touch of
     * such pages was a host page fault and a zeroing that nothing read). Shown, as above, by a stray write into the
     * block before its handout, at the pfn an identical boot hands out.
     */
    @Test
    void aBlockNeverHandedOutIsNotWrittenEvenBesideOneThatWas() {
        final String cmdline = "mem=16M nr_cpus=1";
        final long next;
        final long first;
        try (Kernel k = Kernel.boot(cmdline)) {
            first = k.buddy().allocPages(Gfp.KERNEL, 0);
            next = k.buddy().allocPages(Gfp.KERNEL | Gfp.ZERO, 0);
        }
        assertEquals(first >>> Zone.PAGEBLOCK_ORDER, next >>> Zone.PAGEBLOCK_ORDER, "one pageblock");
        try (Kernel k = Kernel.boot(cmdline)) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            final long p = b.allocPages(Gfp.KERNEL, 0);
            assertEquals(first, p, "the same boot hands out the same pages");
            m.fill(phys(p), PhysicalMemory.PAGE_SIZE, (byte) 0x5a);
            m.putLong(phys(next) + 8, 7);
            final long q = b.allocPages(Gfp.KERNEL | Gfp.ZERO, 0);
            assertEquals(next, q);
            assertEquals(7, m.getLong(phys(q) + 8), "never handed out: not written");
            m.putLong(phys(q) + 8, 0);
            b.freePages(p, 0);
            b.freePages(q, 0);
        }
    }

    @Test
    void blocksThatMayHoldAnythingAreStillZeroed() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            // handed out dirty without __GFP_ZERO, freed unwritten: still dirty, so zeroed at the next __GFP_ZERO
            long p = dirtyBlock(b, m, 0);
            assertEquals(p, b.allocPages(Gfp.KERNEL, 0));
            assertEquals(0x5a5a5a5a5a5a5a5aL, m.getLong(phys(p)));
            b.freePagesUnwritten(p, 0);
            assertEquals(p, b.allocPages(Gfp.KERNEL | Gfp.ZERO, 0));
            assertEquals(0, m.getLong(phys(p)), "dirty at its last handout: zeroed");
            // handed out zeroed, written by its owner, freed with __free_pages: zeroed at the next __GFP_ZERO
            m.putLong(phys(p) + 16, -1);
            b.freePages(p, 0);
            assertEquals(p, b.allocPages(Gfp.KERNEL | Gfp.ZERO, 0));
            assertEquals(0, m.getLong(phys(p) + 16), "written by its owner: zeroed");
            b.freePages(p, 0);
            // known zero, handed out without __GFP_ZERO, written by its owner, freed with __free_pages: zeroed
            p = b.allocPages(Gfp.KERNEL | Gfp.ZERO, 1);
            b.freePagesUnwritten(p, 1);
            assertEquals(p, b.allocPages(Gfp.KERNEL, 1));
            m.putLong(phys(p) + PhysicalMemory.PAGE_SIZE, -1);
            b.freePages(p, 1);
            assertEquals(p, b.allocPages(Gfp.KERNEL | Gfp.ZERO, 1));
            assertEquals(0, m.getLong(phys(p) + PhysicalMemory.PAGE_SIZE), "written by its owner: zeroed");
        }
    }
}
