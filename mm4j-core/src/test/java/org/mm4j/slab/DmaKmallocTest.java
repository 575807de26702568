package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.Zone;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kmalloc with GFP_DMA (Linux 6.18, x86-64, CONFIG_ZONE_DMA=y): {@code kmalloc_type()} picks KMALLOC_DMA, whose
 * {@code dma-kmalloc-*} caches are created with SLAB_CACHE_DMA, so {@code allocate_slab} asks the page allocator
 * with __GFP_DMA and {@code gfp_zone()} keeps their slabs in ZONE_DMA (below 16 MiB).
 */
class DmaKmallocTest {
    private static long pfnOf(final long kaddr) {
        return (kaddr - PhysicalMemory.PAGE_OFFSET) >>> PhysicalMemory.PAGE_SHIFT;
    }

    @Test
    void dmaKmallocSlabsComeFromZoneDma() {
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache dma = slub.findCache("dma-kmalloc-64");
            assertSame(dma, slub.kmallocCache(64, Gfp.KERNEL | Gfp.DMA));
            // cache_dma: SLAB_CACHE_DMA on the dma-kmalloc caches only (the sample's kmalloc-* rows show 0)
            assertEquals("1", k.procfs().read("/sys/kernel/slab/dma-kmalloc-64/cache_dma").strip());
            assertEquals("0", k.procfs().read("/sys/kernel/slab/kmalloc-64/cache_dma").strip());
            final List<Long> objs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                final long p = slub.kmalloc(64, Gfp.KERNEL | Gfp.DMA);
                assertTrue(p != 0);
                assertTrue(pfnOf(p) < 4096, "a dma-kmalloc object below MAX_DMA_PFN: pfn " + pfnOf(p));
                objs.add(p);
            }
            final long normal = slub.kmalloc(64, Gfp.KERNEL);
            assertTrue(pfnOf(normal) >= 4096, "GFP_KERNEL takes ZONE_DMA32 first at mem=256M");
            // %pGp's zone field is the slab page's zone: 0 for DMA, 1 for DMA32
            final String dmaFlags = new SlabPage(slub, slub.virtToSlab(objs.getFirst() - PhysicalMemory.PAGE_OFFSET))
                .flagsText();
            final String dma32Flags = new SlabPage(slub, slub.virtToSlab(normal - PhysicalMemory.PAGE_OFFSET))
                .flagsText();
            assertTrue(dmaFlags.contains("|zone=" + Zone.ZONE_DMA + "|"), dmaFlags);
            assertTrue(dma32Flags.contains("|zone=" + Zone.ZONE_DMA32 + "|"), dma32Flags);
            assertTrue(k.procfs().read("/proc/vmstat").lines().anyMatch(l -> l.matches("pgalloc_dma [1-9]\\d*")));
            objs.forEach(slub::kfree);
            slub.kfree(normal);
            k.buddy().checkInvariants();
        }
    }
}
