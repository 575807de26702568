/**
 * JDK Flight Recorder events of the model (issue 16), all named {@code org.mm4j.*} and in the {@code mm4j}
 * category: a leaf package that imports nothing of mm4j, so that every subsystem may emit them through one-line
 * hooks ({@link org.mm4j.base.jfr.MmEvents}) on its slow paths. The fast paths emit nothing.
 *
 * <h2>Event → kernel site</h2>
 * <table>
 * <caption>Where each event is emitted</caption>
 * <tr><th>Event ({@code jfr print --events})</th><th>Linux 6.18 site</th><th>mm4j site</th></tr>
 * <tr><td>{@code org.mm4j.SlabDebugReport}</td><td>{@code slab_bug}, {@code object_err},
 *     {@code check_bytes_and_report}</td><td>{@code SlubDebug.emit}</td></tr>
 * <tr><td>{@code org.mm4j.SlabAllocFailure}</td><td>{@code slab_out_of_memory}</td>
 *     <td>{@code SlubSlowPath.slabOutOfMemory}</td></tr>
 * <tr><td>{@code org.mm4j.PageAllocFailure}</td><td>{@code __alloc_pages_slowpath} ({@code nopage:})</td>
 *     <td>{@code PageAlloc}</td></tr>
 * <tr><td>{@code org.mm4j.FaultInjection}</td><td>{@code should_failslab}, {@code should_fail_alloc_page}
 *     when {@code should_fail_ex} is true</td><td>{@code Failslab}, {@code FailPageAlloc}</td></tr>
 * <tr><td>{@code org.mm4j.SlabGrow}, {@code org.mm4j.SlabDiscard}</td><td>{@code new_slab},
 *     {@code discard_slab}</td><td>{@code SlabPages.newSlab}, {@code SlabPages.freeSlab}</td></tr>
 * <tr><td>{@code org.mm4j.OomKill}</td><td>{@code __oom_kill_process}</td><td>{@code OomKiller.kill}</td></tr>
 * <tr><td>{@code org.mm4j.KmemCacheStatistics} (periodic)</td><td>{@code /sys/kernel/slab/<cache>/}</td>
 *     <td>{@code org.mm4j.management.Observability}</td></tr>
 * <tr><td>{@code org.mm4j.AllocationSample} (throttled)</td><td>(mm4j) the JVM allocator's sheaf slow path</td>
 *     <td>{@code SlabAllocator}</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Events never throw: a hook whose event is disabled, or a JVM that never records, costs one volatile read.
 */
package org.mm4j.base.jfr;
