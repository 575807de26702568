package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Throttle;

/**
 * A sample of the JVM allocator's allocations: taken only when a thread's main sheaf ran empty (the slow path:
 * spare swap, barn or refill), throttled, with the allocating stack. The fast path never emits it.
 */
@Name("org.mm4j.AllocationSample")
@Label("Allocation Sample")
@Category({"mm4j", "Slab", "JVM Allocator"})
@Description("SlabAllocator took its slow path (main sheaf empty); throttled, with the allocating thread's stack")
@Throttle("100/s")
public final class AllocationSampleEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Cache")
    public String cache;
    @Label("Object Size")
    @DataAmount
    public int objectSize;
    @Label("Sheaf Objects")
    @Description("Objects in the main sheaf after the slow path (what the following fast-path allocations take)")
    public int sheafObjects;
}
