/**
 * JMX MBeans of a booted kernel and its periodic JFR event (issue 16): a layer above page and slab, below the
 * composition root {@link org.mm4j.Kernel}, which makes one {@link org.mm4j.management.Observability} per kernel.
 * The MBeans read the same /proc and /sys files the shell shows, so JConsole/JMC and {@code cat} agree.
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each MBean shows</caption>
 * <tr><th>Java</th><th>Linux 6.18</th></tr>
 * <tr><td>{@link org.mm4j.management.KmemCacheMXBean}</td><td>{@code /sys/kernel/slab/<cache>/}
 *     ({@code slab_attr_show}, {@code show_slab_objects}); {@code shrink}, {@code validate}
 *     ({@code shrink_store}, {@code validate_store})</td></tr>
 * <tr><td>{@link org.mm4j.management.BuddyAllocatorMXBean}</td><td>{@code /proc/buddyinfo}
 *     ({@code frag_show}), {@code /proc/zoneinfo} watermarks, {@code /proc/vmstat},
 *     {@code min_free_kbytes}</td></tr>
 * <tr><td>{@link org.mm4j.management.KernelMXBean}</td><td>{@code /proc/meminfo} ({@code meminfo_proc_show}),
 *     {@code utsname()->release}, {@code saved_command_line}</td></tr>
 * <tr><td>{@link org.mm4j.management.Observability} cache listener</td><td>{@code sysfs_slab_add},
 *     {@code sysfs_slab_unlink}</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Attributes read the same {@code /proc} and {@code /sys} text the shell shows; an operation on a closed kernel or a
 * destroyed cache throws an {@link java.lang.IllegalStateException} naming it (JMX reports it to the client).
 */
package org.mm4j.management;
