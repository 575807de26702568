package org.mm4j.slab;

import org.mm4j.page.Gfp;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.VmStat;

/**
 * Large kmalloc of Linux 6.18 ({@code mm/slub.c}): a request above {@code KMALLOC_MAX_CACHE_SIZE} is a compound
 * page block straight from the buddy allocator ({@code __kmalloc_large_node}), marked {@code PGTY_large_kmalloc}
 * and counted in {@code NR_SLAB_UNRECLAIMABLE}; {@code free_large_kmalloc} gives it back. Errors: a request above
 * {@code KMALLOC_MAX_SIZE} is the kernel's WARN and NULL; freeing a block that is not a large kmalloc is a
 * {@code dump_page} report and an {@link IllegalArgumentException} naming the address.
 *
 * <p>Threads: any thread; the page allocator does the locking, the counters are atomic.
 */
final class KmallocLarge {
    private KmallocLarge() {
    }

    /** {@code __kmalloc_large_node}: a compound page block straight from the slub.buddy allocator. */
    static long kmallocLarge(final Slub slub, final long size, final int gfp, final int nid) {
        if (size > Slub.KMALLOC_MAX_SIZE) {
            if ((gfp & Gfp.NOWARN) == 0) {
                slub.log.printk("------------[ cut here ]------------");
                slub.log.printk("WARNING: CPU: %d PID: %d at mm/slub.c:4420 __kmalloc_large_node+0x%x/0x140: kmalloc"
                    + " of %d bytes exceeds KMALLOC_MAX_SIZE (%d)", slub.cpus.current(),
                    ProcessHandle.current().pid(), 0x9c, size, Slub.KMALLOC_MAX_SIZE);
                slub.log.printk("---[ end trace 0000000000000000 ]---");
            }
            return 0;
        }
        final int order = Geometry.getOrder(size);
        final int pageGfp = (gfp & ~Gfp.DMA32) | Gfp.COMP;
        // the first attempt neither warns nor calls the OOM killer (__GFP_NORETRY): stranded sheaves go first
        long pfn = slub.buddy.allocPagesNode((gfp & Gfp.DIRECT_RECLAIM) != 0 ? pageGfp | Gfp.NOWARN | Gfp.NORETRY
            : pageGfp, order, nid);
        if (pfn < 0 && (gfp & Gfp.DIRECT_RECLAIM) != 0) {
            slub.reclaimStranded();
            pfn = slub.buddy.allocPagesNode(pageGfp, order, nid);
        }
        if (pfn < 0) {
            return 0;
        }
        slub.memMap.privateWord(pfn, Slub.LARGE_KMALLOC);
        slub.largeKmallocPages.addAndGet(1L << order);
        slub.slabUnreclaimablePages.addAndGet(1L << order);
        slub.buddy.vmstat().add(VmStat.NR_SLAB_UNRECLAIMABLE, 1L << order);
        if (slub.initOnAlloc && (gfp & Gfp.ZERO) == 0) {
            slub.mem.fill(PhysicalMemory.pfnToPhys(pfn), (long) Geometry.PAGE_SIZE << order, (byte) 0);
        }
        if (slub.kmemleak != null) {
            slub.kmemleak.alloc(PhysicalMemory.pageAddress(pfn), size, 1);  // KMEMLEAK HOOK: kmemleak_alloc
        }
        return PhysicalMemory.pageAddress(pfn);
    }

    static void freeLarge(final Slub slub, final String op, final long kaddr, final long head,
                          final long phys) {
        if (slub.memMap.privateWord(head) != Slub.LARGE_KMALLOC || !slub.memMap.test(head, MemMap.PG_HEAD)
            || PhysicalMemory.pfnToPhys(head) != phys) {
            slub.dumpPage(head, "Not a kmalloc allocation");
            throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(kaddr) + " is not a kmalloc"
                + " allocation");
        }
        if (slub.kmemleak != null) {
            slub.kmemleak.free(kaddr);  // KMEMLEAK HOOK: free_large_kmalloc -> kmemleak_free
        }
        final int order = slub.memMap.compoundOrder(head);
        slub.memMap.privateWord(head, 0);
        slub.largeKmallocPages.addAndGet(-(1L << order));
        slub.slabUnreclaimablePages.addAndGet(-(1L << order));
        slub.buddy.vmstat().add(VmStat.NR_SLAB_UNRECLAIMABLE, -(1L << order));
        slub.buddy.freePages(head, order);
    }
}
