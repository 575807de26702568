package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.MemMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The slab index ({@link SlabIndex}) says what {@code mem_map} says about every page, through slabs made, freed
 * and left behind by a destroyed cache; the JVM allocator's free fast path, which reads only the index, still
 * refuses what the slow path refuses.
 */
class SlabIndexTest {

    /** Every page: a slab page's entry names its head's cache, the slab's objects and its head; others are 0. */
    private static int assertIndexMatchesMemMap(final Slub slub) {
        final MemMap mm = slub.memMap;
        int slabPages = 0;
        for (long pfn = 0; pfn < mm.nrPages(); pfn++) {
            final long e = mm.slabIndex(pfn);
            final long head = mm.compoundHead(pfn);
            final boolean slab = mm.test(head, MemMap.PG_SLAB);
            final int id = slab ? mm.lpInt(head, MemMap.SLAB_CACHE) : 0;
            if (!slab || (id & KmemCache.DESTROYED_ID) != 0) {
                assertEquals(0, e, "index of pfn " + pfn + " (not a slab page of a live cache)");
                continue;
            }
            slabPages++;
            assertEquals(id, SlabIndex.id(e), "cache id of pfn " + pfn);
            assertEquals(KmemCache.wObjects(mm.lvLong(head, MemMap.SLAB_WORD)), SlabIndex.objects(e),
                "objects of pfn " + pfn);
            assertEquals(head, SlabIndex.head(pfn, e), "head of pfn " + pfn);
        }
        return slabPages;
    }

    @Test
    void theIndexFollowsSlabsMadeAndFreed() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final Slub slub = k.slab();
            final SlabAllocator a = slub.allocator();
            final Random rnd = new Random(13);
            final List<Long> live = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                live.add(a.kmalloc(1 + rnd.nextInt(8192)));
            }
            assertNotEquals(0, assertIndexMatchesMemMap(slub), "slab pages seen");
            for (final long p : live) {
                a.kfree(p);
            }
            a.flush();
            for (long size = 8; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size <<= 1) {
                slub.kmallocCache(size, org.mm4j.page.Gfp.KERNEL).shrink();  // empty slabs back to the buddy
            }
            assertIndexMatchesMemMap(slub);
        }
    }

    @Test
    void aDestroyedCachesLeftoverSlabsLeaveTheIndexAndTheirFreesAreRefused() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final Slub slub = k.slab();
            final KmemCache s = slub.kmemCacheCreate("index_test", 700, 0, 0, null);
            final SlabAllocator a = slub.allocator();
            final long p = a.alloc(s);
            final long pfn = (p - org.mm4j.page.PhysicalMemory.PAGE_OFFSET) >>> org.mm4j.page.PhysicalMemory.PAGE_SHIFT;
            assertEquals(s.id, SlabIndex.id(slub.memMap.slabIndex(pfn)));
            a.flush();
            slub.kmemCacheDestroy("index_test");  // reports the object still in use
            assertEquals(0, slub.memMap.slabIndex(pfn), "index of a destroyed cache's slab");
            assertIndexMatchesMemMap(slub);
            assertThrows(IllegalStateException.class, () -> a.kfree(p), "a free into a destroyed cache");
        }
    }
}
