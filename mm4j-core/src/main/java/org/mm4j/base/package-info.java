/**
 * The leaf every subsystem uses: the kernel log, the CPU slots, the {@code /proc}–{@code /sys} registry, flag
 * printing, rate limiting, {@code dump_stack()} and the release string. It imports no other mm4j package; page,
 * slab, trace and vma receive these objects through their constructors from the composition root
 * ({@link org.mm4j.Kernel}).
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>Linux 6.18</th></tr>
 * <tr><td>{@link org.mm4j.base.KernelLog}, {@code printk}</td><td>{@code printk()}, the log buffer read by
 *     {@code dmesg} (kernel/printk/)</td></tr>
 * <tr><td>{@link org.mm4j.base.CpuSlots}</td><td>{@code nr_cpu_ids}, {@code smp_processor_id()},
 *     {@code raw_smp_processor_id()}; departure: a thread is mapped to a slot, a JVM cannot pin CPUs</td></tr>
 * <tr><td>{@link org.mm4j.base.ProcFs}</td><td>procfs, sysfs and debugfs files ({@code proc_create},
 *     {@code sysfs_create_group}, {@code debugfs_create_file})</td></tr>
 * <tr><td>{@link org.mm4j.base.FlagNames}</td><td>{@code show_gfp_flags}, {@code %pGg}, {@code %pGp},
 *     {@code %pGv} (include/trace/events/mmflags.h)</td></tr>
 * <tr><td>{@link org.mm4j.base.RateLimit}</td><td>{@code struct ratelimit_state}, {@code __ratelimit()}
 *     (lib/ratelimit.c)</td></tr>
 * <tr><td>{@link org.mm4j.base.DumpStack}</td><td>{@code dump_stack()} (lib/dump_stack.c)</td></tr>
 * <tr><td>{@link org.mm4j.base.FaultAttr}, {@code shouldFail}, {@code setup}</td><td>{@code struct fault_attr},
 *     {@code should_fail_ex()}, {@code setup_fault_attr()}, {@code fault_create_debugfs_attr()}
 *     (lib/fault-inject.c)</td></tr>
 * <tr><td>{@link org.mm4j.base.StackDepot}</td><td>{@code stack_depot_save()}, {@code stack_depot_snprint()},
 *     {@code stack_trace_save()} (lib/stackdepot.c) over Java frames</td></tr>
 * <tr><td>{@link org.mm4j.base.Jiffies}</td><td>{@code jiffies}, {@code INITIAL_JIFFIES},
 *     {@code msecs_to_jiffies()} (include/linux/jiffies.h); {@code sleep} moves it forward</td></tr>
 * <tr><td>{@link org.mm4j.base.Current}</td><td>{@code current} ({@code ->pid}, {@code ->tgid},
 *     {@code ->comm}; {@code init_task} "swapper/0" before the first process)</td></tr>
 * <tr><td>{@link org.mm4j.base.Uts#RELEASE}</td><td>{@code UTS_RELEASE}, {@code utsname()->release}</td></tr>
 * <tr><td>{@link org.mm4j.base.ModelOutOfMemoryException}</td><td>{@code -ENOMEM} at the Java API boundary</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Inside the model, the kernel's: a NULL/0 or {@code -errno} result and a report in the log. At the Java API
 * boundary, an exception naming the value at fault; model exhaustion is {@link
 * org.mm4j.base.ModelOutOfMemoryException}, never a JVM {@link java.lang.Error}.
 */
package org.mm4j.base;
