package org.mm4j.slab.debug;

/**
 * What the SLUB debug checks read and repair of a {@code struct slab}. The allocator implements it over its
 * {@code struct page} entries; every mutator is called with the node's list lock held (debug caches never use the
 * lockless paths), as the kernel's debug code runs.
 */
public interface DebugSlab {
    /** {@code slab_address(slab)}: the first byte of the slab (kernel virtual address). */
    long address();

    /** The {@code struct slab} address printed as "Slab 0x..." (the vmemmap entry of the head page). */
    long structAddress();

    /** {@code %pGp} of the slab's page flags, e.g. "0xffff800000040(head|node=0|zone=1|lastcpupid=0xffff)". */
    String flagsText();

    int order();

    /** {@code slab_size(slab)} in bytes. */
    default long byteSize() {
        return 4096L << order();
    }

    /** {@code folio_test_slab}: the page is still a slab page. */
    boolean isSlab();

    int objects();

    void objects(int objects);

    int inuse();

    void inuse(int inuse);

    /** Address of the first free object, 0 when none. */
    long freelist();

    void freelist(long object);

    /** {@code slab->slab_cache}: the cache the slab belongs to (null when the pointer is gone). */
    DebugCache cache();

    /** NUMA node of the slab. */
    default int nid() {
        return 0;
    }
}
