package org.mm4j.base.jfr;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;

/** The fields of {@link SlabGrowEvent} and {@link SlabDiscardEvent}: one slab of one cache. */
public abstract class SlabEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Cache")
    public String cache;
    @Label("Order")
    public int order;
    @Label("Objects")
    @Description("Objects the slab holds")
    public int objects;
    @Label("Node")
    public int node;
    @Label("Slab")
    @Description("The slab's first byte (kernel virtual address)")
    @MemoryAddress
    public long address;

    SlabEvent() {
    }

    /** Sets the fields and commits, when a recording takes the event. */
    final void commit(final int kernel, final String cache, final int order, final int objects, final int node,
                      final long address) {
        if (shouldCommit()) {
            this.kernel = kernel;
            this.cache = cache;
            this.order = order;
            this.objects = objects;
            this.node = node;
            this.address = address;
            commit();
        }
    }
}
