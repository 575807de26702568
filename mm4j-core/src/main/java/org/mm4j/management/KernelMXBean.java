package org.mm4j.management;

import java.util.Map;

/** One booted model kernel, registered as {@code org.mm4j:type=Kernel,kernel=<id>}: its release and meminfo. */
public interface KernelMXBean {
    /** The kernel's id in this JVM ({@code Kernel.id()}), the {@code kernel=} key of every mm4j MBean name. */
    int getId();

    /** {@code uname -r}. */
    String getRelease();

    /** {@code /proc/cmdline}. */
    String getCmdline();

    /** {@code /proc/meminfo}: every line, in kB (HugePages_* as counts), by name. */
    Map<String, Long> getMeminfo();

    /** The kmem caches (not counting aliases). */
    int getCaches();
}
