package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;

/** One SLUB debug report ({@code slab_bug}, {@code object_err}, {@code check_bytes_and_report}, ...). */
@Name("org.mm4j.SlabDebugReport")
@Label("Slab Debug Report")
@Category({"mm4j", "Slab", "Debug"})
@Description("A slub_debug check found corruption or a misuse and printed a report to the kernel log")
public final class SlabDebugReportEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Cache")
    public String cache;
    @Label("Kind")
    @Description("The check that reported: BYTES, OBJECT, SLAB, LEAK or WARN")
    public String kind;
    @Label("Reason")
    @Description("The text after \"BUG <cache> (...): \", e.g. \"Poison overwritten\"")
    public String reason;
    @Label("Overwritten Area")
    @Description("Red zone, poison, padding ... for a byte check, else null")
    public String what;
    @Label("First Bad Byte")
    @MemoryAddress
    public long start;
    @Label("Last Bad Byte")
    @MemoryAddress
    public long end;
    @Label("Object")
    @MemoryAddress
    public long object;
    @Label("Slab")
    @MemoryAddress
    public long slab;
}
