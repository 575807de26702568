package org.mm4j.slab;

import org.mm4j.base.FlagNames;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.DebugSlab;
import org.mm4j.slab.debug.DebugCache;

/**
 * A {@link DebugSlab} view of one slab's {@code struct page} entry (its head page in mem_map), for the SLUB debug
 * checks. Addresses are kernel virtual addresses. The setters change the packed slab word in place: the debug code
 * calls them only with the node's list_lock held, on debug caches, which never use the lockless paths.
 */
final class SlabPage implements DebugSlab {
    /** {@code vmemmap} base on x86-64 (4-level paging, no KASLR): where "Slab 0x..." lines point. */
    static final long VMEMMAP_START = 0xffffea0000000000L;

    private final Slub slub;
    private final MemMap mm;
    final long pfn;

    SlabPage(final Slub slub, final long pfn) {
        this.slub = slub;
        this.mm = slub.memMap;
        this.pfn = pfn;
    }

    @Override
    public long address() {
        return PhysicalMemory.pageAddress(pfn);
    }

    @Override
    public long structAddress() {
        return VMEMMAP_START + pfn * MemMap.ENTRY_SIZE;
    }

    @Override
    public String flagsText() {
        // %pGp of 6.18: the whole word in hex, then named page flags and the fields (node, zone, lastcpupid).
        // Slab is a page type since 6.10, not a page flag, so an order-0 slab names no flag; a compound one
        // "head" (PG_head, bit 6).
        final boolean head = mm.test(pfn, MemMap.PG_HEAD);
        return FlagNames.pageFlags(head ? MemMap.PG_HEAD : 0, head ? "head" : "", nid(),
            slub.buddy.zoneOf(pfn).zoneIdx());
    }

    @Override
    public int order() {
        return mm.test(pfn, MemMap.PG_HEAD) ? mm.compoundOrder(pfn) : 0;
    }

    @Override
    public boolean isSlab() {
        return mm.test(pfn, MemMap.PG_SLAB);
    }

    private long word() {
        return mm.lvLong(pfn, MemMap.SLAB_WORD);
    }

    private void word(final long freelistPhys, final int inuse, final int objects, final boolean frozen) {
        mm.svLong(pfn, MemMap.SLAB_WORD, KmemCache.slabWord(pfn, freelistPhys, inuse, objects, frozen));
    }

    @Override
    public int objects() {
        return KmemCache.wObjects(word());
    }

    @Override
    public void objects(final int objects) {
        final long w = word();
        word(KmemCache.wFreelist(pfn, w), KmemCache.wInuse(w), objects & 0x7fff, KmemCache.wFrozen(w));
    }

    @Override
    public int inuse() {
        return KmemCache.wInuse(word());
    }

    @Override
    public void inuse(final int inuse) {
        final long w = word();
        word(KmemCache.wFreelist(pfn, w), inuse & 0xffff, KmemCache.wObjects(w), KmemCache.wFrozen(w));
    }

    @Override
    public long freelist() {
        final long fl = KmemCache.wFreelist(pfn, word());
        return fl == 0 ? 0 : PhysicalMemory.PAGE_OFFSET + fl;
    }

    @Override
    public void freelist(final long object) {
        final long w = word();
        word(object == 0 ? 0 : PhysicalMemory.virtToPhys(object), KmemCache.wInuse(w), KmemCache.wObjects(w),
            KmemCache.wFrozen(w));
    }

    @Override
    public DebugCache cache() {
        final KmemCache s = isSlab() ? slub.cacheById(mm.lpInt(pfn, MemMap.SLAB_CACHE)) : null;
        return s == null ? null : s.debugView();
    }

    @Override
    public int nid() {
        return slub.mem.pfnToNid(pfn);
    }
}
