package org.mm4j.management;

/**
 * One kmem cache as {@code /sys/kernel/slab/<cache>/} shows it, registered as
 * {@code org.mm4j:type=KmemCache,kernel=<id>,name=<cache>}. Counters are summed over nodes (the first number of
 * each sysfs file); reads are racy while the cache is busy, as the kernel's are.
 */
public interface KmemCacheMXBean {
    /** The cache's name ({@code s->name}). */
    String getName();

    /** Names merged into this cache ({@code aliases} counts them). */
    String[] getAliasNames();

    /** {@code aliases}. */
    int getAliases();

    /** {@code object_size}. */
    int getObjectSize();

    /** {@code slab_size}: bytes per object with its metadata. */
    int getSlabSize();

    /** {@code align}. */
    int getAlign();

    /** {@code objs_per_slab}. */
    int getObjsPerSlab();

    /** {@code order}. */
    int getOrder();

    /** {@code objects}: allocated objects (sheaf-parked ones included). */
    long getObjects();

    /** {@code total_objects}. */
    long getTotalObjects();

    /** {@code objects_partial}: allocated objects in partial slabs. */
    long getObjectsPartial();

    /** {@code slabs}. */
    long getSlabs();

    /** {@code partial}: slabs on the node partial lists. */
    long getPartial();

    /** {@code cpu_slabs}: CPU slabs and CPU partial slabs. */
    long getCpuSlabs();

    /** {@code min_partial}. */
    int getMinPartial();

    /** {@code cpu_partial}. */
    int getCpuPartial();

    /** {@code sheaf_capacity}: per-CPU sheaf size (0: none). */
    int getSheafCapacity();

    /** {@code mm4j_sheaves}, first field: objects parked in sheaves (thread, CPU, barn). */
    long getSheafObjects();

    /** {@code mm4j_sheaves}, second field: the bound the parked objects stay within. */
    long getSheafBound();

    /** Whether slub_debug checks this cache ({@code sanity_checks}, {@code red_zone}, ...). */
    boolean isDebug();

    /** {@code echo 1 > shrink}: flushes the CPU slabs and sheaves and frees empty slabs. */
    void shrink();

    /** {@code echo 1 > validate}: checks every slab; returns the number of errors (reported to the kernel log). */
    int validate();
}
