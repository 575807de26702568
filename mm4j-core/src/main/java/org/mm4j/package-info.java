/**
 * The composition root: {@link org.mm4j.Kernel} boots the model (what {@code start_kernel()} and
 * {@code mm_core_init()} do: physical memory, {@code mem_map}, the buddy allocator, SLUB, the process table) and
 * hands each subsystem what it needs through its constructor. No subsystem imports this package, so the layers are
 * base/boot/io ← page ← slab ← trace, page ← vma, all ← {@code org.mm4j} ({@code LayeringTest} checks them).
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>Linux 6.18</th></tr>
 * <tr><td>{@link org.mm4j.Kernel#boot(String)}</td><td>{@code start_kernel()}: {@code parse_early_param},
 *     {@code mm_core_init}, {@code kmem_cache_init}, the init task</td></tr>
 * <tr><td>{@link org.mm4j.Kernel#close()}</td><td>none: frees the model's off-heap memory</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * {@link org.mm4j.Kernel#boot(String)} throws {@link org.mm4j.boot.CmdlineException} naming a parameter it cannot
 * honour (a {@code mem=} the host cannot reserve, say); each subsystem's package-info states its own convention.
 */
package org.mm4j;
