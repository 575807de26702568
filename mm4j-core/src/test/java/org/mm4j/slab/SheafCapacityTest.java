package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JVM allocator's sheaf capacity by object size, and the barn's intrusive stacks. */
class SheafCapacityTest {
    @Test
    void threadSheavesAreSizedByObjectSizeUnlessMm4jSheavesIsGiven() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            // twice calculate_sheaf_capacity (60 / 28 / 12 / 4 by slot size), at least 32
            assertEquals(120, slub.threadSheafCapacity(slub.findCache("kmalloc-64")));
            assertEquals(120, slub.threadSheafCapacity(slub.findCache("kmalloc-192")));
            assertEquals(56, slub.threadSheafCapacity(slub.findCache("kmalloc-256")));
            assertEquals(56, slub.threadSheafCapacity(slub.findCache("kmalloc-512")));
            assertEquals(32, slub.threadSheafCapacity(slub.findCache("kmalloc-1k")));
            assertEquals(32, slub.threadSheafCapacity(slub.findCache("kmalloc-4k")));
            assertEquals(SlabAllocator.DEFAULT_SHEAF_CAPACITY, slub.allocator().sheafCapacity());
            // a cache's own sheaf_capacity is a minimum, as the kernel respects args->sheaf_capacity
            assertEquals(200, SlabAllocator.sheafCapacityFor(64, 200));
            assertEquals(32, SlabAllocator.sheafCapacityFor(8192, 0));
        }
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.sheaves=16")) {
            final Slub slub = k.slab();
            assertEquals(16, slub.threadSheafCapacity(slub.findCache("kmalloc-64")));
            assertEquals(16, slub.threadSheafCapacity(slub.findCache("kmalloc-4k")));
        }
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.sheaves=0")) {
            assertEquals(0, k.slab().threadSheafCapacity(k.slab().findCache("kmalloc-64")));
        }
    }

    @Test
    void aThreadKeepsTwoSheavesOfItsCapacityAndParksTheRest() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache c = slub.findCache("kmalloc-64");
            final SlabAllocator a = slub.allocator();
            final long[] p = new long[600];
            for (int i = 0; i < p.length; i++) {
                p[i] = a.kmalloc(64);
            }
            for (final long x : p) {
                a.kfree(x);
            }
            final SheafUsage u = c.sheafUsage();
            assertEquals(240, u.perThreadLimit());
            assertEquals(240, u.threadObjects(), "main and spare full: " + u);
            assertEquals(360, u.barnObjects(), "three full sheaves of 120 parked: " + u);
            assertTrue(u.objects() <= u.bound(), u.toString());
            for (int i = 0; i < p.length; i++) {  // every object comes back out of the sheaves, none twice
                p[i] = a.kmalloc(64);
            }
            assertEquals(600, java.util.Arrays.stream(p).distinct().count());
            assertEquals(0, c.sheafUsage().barnObjects());
            for (final long x : p) {
                a.kfree(x);
            }
            a.flush();
            assertEquals(0, c.validate());
        }
    }

    @Test
    void barnListsAreStacksLinkedThroughTheSheaves() {
        final Barn barn = new Barn(2, 2);
        final Sheaf f1 = full(4);
        final Sheaf f2 = full(4);
        final Sheaf e1 = new Sheaf(4);
        assertTrue(barn.putFull(f1));
        assertTrue(barn.putFull(f2));
        assertTrue(!barn.putFull(full(4)), "at most 2 full sheaves");
        assertNull(barn.replaceFull(full(4)), "no empty sheaf to give");
        assertTrue(barn.putEmpty(e1));
        assertEquals(8, barn.objects());
        assertNull(barn.replaceFull(full(4)), "full list at its limit: -E2BIG");
        final Sheaf e2 = new Sheaf(4);
        assertSame(f2, barn.replaceEmpty(e2), "the sheaf put last comes back first");
        assertNull(f2.barnNext, "a sheaf off the lists links to nothing");
        assertEquals(1, barn.nrFull());
        assertEquals(2, barn.nrEmpty());
        assertSame(e2, barn.replaceFull(f2));
        assertSame(f2, barn.getFull());
        assertSame(f1, barn.getFull());
        assertNull(barn.getFull());
        assertTrue(barn.putFull(f2));
        final List<Sheaf> drained = new ArrayList<>(List.of(barn.drainAll()));
        assertEquals(List.of(f2, e1), drained, "full sheaves first, then empty ones, each from the top");
        assertEquals(0, barn.nrFull());
        assertEquals(0, barn.nrEmpty());
        assertNull(barn.getEmpty());
        for (final Sheaf s : drained) {
            assertNull(s.barnNext);
        }
        assertTrue(barn.putEmpty(e2) && barn.putEmpty(e1));
        assertSame(e1, barn.getEmpty());
        assertSame(e2, barn.getEmpty());
    }

    private static Sheaf full(final int n) {
        final Sheaf s = new Sheaf(n);
        s.size = n;
        return s;
    }
}
