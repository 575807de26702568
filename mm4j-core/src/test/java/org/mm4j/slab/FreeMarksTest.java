package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The free marks ({@link FreeMarks}) say exactly which objects are free: after programs mixing every path that
 * frees or hands out objects (the per-thread sheaves, frees from another thread, bulk calls, flushes and shrinks),
 * every object of every slab has its mark set when nobody holds it and clear when a caller does.
 */
class FreeMarksTest {

    /** Walks every slab of a cache with marks: held objects clear, all others set. Returns the objects seen. */
    private static int assertMarksMatch(final Slub slub, final Set<Long> held) {
        final MemMap mm = slub.memMap;
        int seen = 0;
        for (long pfn = 0; pfn < mm.nrPages(); pfn++) {
            final long e = mm.slabIndex(pfn);
            if (SlabIndex.objects(e) == 0 || SlabIndex.head(pfn, e) != pfn) {
                continue;
            }
            final KmemCache s = slub.cacheById(SlabIndex.id(e));
            if (s == null || !s.checkKey || s.keyIsFp) {
                continue;
            }
            final long start = s.slabStart(pfn);
            for (int i = 0; i < SlabIndex.objects(e); i++) {
                final long p = start + (long) i * s.size;
                final boolean live = held.contains(PhysicalMemory.PAGE_OFFSET + p);
                assertEquals(!live, FreeMarks.isFree(s.mm, p), s.name() + " object 0x" + Long.toHexString(p)
                    + (live ? " (held)" : " (not held)"));
                seen++;
            }
        }
        return seen;
    }

    @Test
    void marksFollowEveryPathThatFreesOrHandsOut() throws InterruptedException {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final SlabAllocator a = slub.allocator();
            final Random rnd = new Random(42);
            final List<Long> live = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 2000; i++) {
                    if (!live.isEmpty() && rnd.nextInt(3) == 0) {
                        a.kfree(live.remove(rnd.nextInt(live.size())));
                    } else {
                        live.add(a.kmalloc(16 + rnd.nextInt(8192 - 16)));
                    }
                }
                // another thread frees a quarter of them (remote frees through its own sheaves), then ends
                final List<Long> theirs = new ArrayList<>(live.subList(0, live.size() / 4));
                live.subList(0, live.size() / 4).clear();
                final Thread t = Thread.ofPlatform().start(() -> {
                    final SlabAllocator b = slub.allocator();
                    for (final long p : theirs) {
                        b.kfree(p);
                    }
                    b.flush();
                });
                t.join();
                // bulk: kmem_cache_alloc_bulk hands out from freelists, kmem_cache_free_bulk frees
                final KmemCache c = slub.kmallocCache(96, Gfp.KERNEL);
                final long[] bulk = new long[40];
                assertEquals(40, c.allocBulk(Gfp.KERNEL, bulk, 40));
                for (final long p : bulk) {
                    live.add(p);
                }
                assertTrue(assertMarksMatch(slub, new HashSet<>(live)) > 0, "objects with marks seen");
                c.freeBulk(bulk, 20);
                live.subList(live.size() - 40, live.size() - 20).clear();
                a.flush();
                for (long size = 16; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size <<= 1) {
                    slub.kmallocCache(size, Gfp.KERNEL).shrink();
                }
                assertMarksMatch(slub, new HashSet<>(live));
            }
            for (final long p : live) {
                a.kfree(p);
            }
            a.flush();
            assertMarksMatch(slub, Set.of());
        }
    }

    @Test
    void aFreedObjectIsMarkedAndItsSecondFreeRefused() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            final KmemCache s = k.slab().kmallocCache(64, Gfp.KERNEL);
            final long p = a.kmalloc(64);
            final long phys = p - PhysicalMemory.PAGE_OFFSET;
            assertFalse(FreeMarks.isFree(s.mm, phys), "live");
            a.kfree(p);
            assertTrue(FreeMarks.isFree(s.mm, phys), "freed");
            assertThrows(IllegalStateException.class, () -> a.kfree(p));
            assertEquals(p, a.kmalloc(64), "the sheaf hands the object out again");
            assertFalse(FreeMarks.isFree(s.mm, phys), "handed out");
            a.kfree(p);
        }
    }

    @Test
    void neighboursOfEveryKmallocCacheKeepTheirOwnMarks() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.config.SLAB_FREELIST_RANDOM=n")) {
            final Slub slub = k.slab();
            for (long size = 16; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size <<= 1) {
                final KmemCache s = slub.kmallocCache(size, Gfp.KERNEL);
                final long x = s.alloc();
                final long y = s.alloc();
                final long z = s.alloc();
                assertEquals(s.size, y - x, s.name() + ": address order (SLAB_FREELIST_RANDOM=n)");
                s.free(y);
                assertFalse(FreeMarks.isFree(s.mm, x - PhysicalMemory.PAGE_OFFSET), s.name() + ": x held");
                assertTrue(FreeMarks.isFree(s.mm, y - PhysicalMemory.PAGE_OFFSET), s.name() + ": y freed");
                assertFalse(FreeMarks.isFree(s.mm, z - PhysicalMemory.PAGE_OFFSET), s.name() + ": z held");
                assertThrows(IllegalStateException.class, () -> s.free(y), s.name() + ": second free of y");
                s.free(x);
                s.free(z);
            }
        }
    }
}
