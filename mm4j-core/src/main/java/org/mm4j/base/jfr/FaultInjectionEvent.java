package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** An allocation failed on purpose: failslab or fail_page_alloc forced it ({@code should_fail_ex} true). */
@Name("org.mm4j.FaultInjection")
@Label("Fault Injection")
@Category({"mm4j", "Fault Injection"})
@Description("failslab or fail_page_alloc forced an allocation to fail (FAULT_INJECTION: forcing a failure.)")
public final class FaultInjectionEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Capability")
    @Description("failslab or fail_page_alloc")
    public String capability;
    @Label("Cache")
    @Description("The slab cache (failslab), else null")
    public String cache;
    @Label("Order")
    @Description("The page order (fail_page_alloc), else -1")
    public int order;
    @Label("Size")
    @DataAmount
    public long size;
    @Label("GFP Flags")
    public String gfp;
    @Label("Times Left")
    @Description("Failures still to inject (the times knob after this one); -1 = no limit")
    public int timesLeft;
}
