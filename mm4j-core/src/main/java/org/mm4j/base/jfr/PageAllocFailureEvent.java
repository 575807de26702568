package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A page allocation the buddy allocator could not satisfy ({@code __alloc_pages_slowpath} returning NULL). */
@Name("org.mm4j.PageAllocFailure")
@Label("Page Allocation Failure")
@Category({"mm4j", "Page Allocator"})
@Description("alloc_pages failed after the slow path (page allocation failure), whether or not __GFP_NOWARN kept"
    + " the report out of the log")
public final class PageAllocFailureEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Order")
    public int order;
    @Label("Size")
    @DataAmount
    public long size;
    @Label("GFP Flags")
    @Description("The gfp mask as the kernel prints it: 0x..(FLAGS)")
    public String gfp;
    @Label("Free Pages")
    @Description("NR_FREE_PAGES when the request failed")
    public long freePages;
}
