package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/** Periodic: one event per cache of each booted kernel, with what /sys/kernel/slab/CACHE/ shows. */
@Name("org.mm4j.KmemCacheStatistics")
@Label("Kmem Cache Statistics")
@Category({"mm4j", "Slab"})
@Description("Per-cache figures of /sys/kernel/slab/<cache>/ (objects, total_objects, slabs, partial, cpu_slabs,"
    + " mm4j_sheaves), one event per cache and kernel each period")
@Period("10 s")
@StackTrace(false)
public final class KmemCacheStatisticsEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names)")
    public int kernel;
    @Label("Cache")
    public String cache;
    @Label("Object Size")
    @DataAmount
    public int objectSize;
    @Label("Slab Size")
    @Description("Bytes per object with its metadata (slab_size)")
    @DataAmount
    public int slabSize;
    @Label("Order")
    public int order;
    @Label("Active Objects")
    @Description("objects: allocated objects, sheaf-parked ones included (as /proc/slabinfo counts them)")
    public long activeObjects;
    @Label("Total Objects")
    public long totalObjects;
    @Label("Slabs")
    public long slabs;
    @Label("Partial Slabs")
    public long partial;
    @Label("CPU Slabs")
    public long cpuSlabs;
    @Label("Sheaf Objects")
    @Description("Objects parked in sheaves (per-thread, per-CPU, barns): allocated for the slab layer, held by"
        + " no caller")
    public long sheafObjects;
}
