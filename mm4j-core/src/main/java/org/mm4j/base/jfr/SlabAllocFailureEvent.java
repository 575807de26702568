package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A slab allocation that found no object and could not get a slab ({@code slab_out_of_memory}). */
@Name("org.mm4j.SlabAllocFailure")
@Label("Slab Allocation Failure")
@Category({"mm4j", "Slab"})
@Description("A kmem_cache allocation failed: no free object and no new slab (SLUB: Unable to allocate memory),"
    + " whether or not __GFP_NOWARN kept the report out of the log")
public final class SlabAllocFailureEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Cache")
    public String cache;
    @Label("Object Size")
    @DataAmount
    public int objectSize;
    @Label("Order")
    @Description("The cache's default slab order")
    public int order;
    @Label("GFP Flags")
    @Description("The gfp mask as the kernel prints it: 0x..(FLAGS)")
    public String gfp;
    @Label("Node")
    @Description("The node asked for, -1 = any")
    public int node;
}
