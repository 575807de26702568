/**
 * Replays of {@code strace -f -y -e trace=%memory} logs and of the VMA sample cases through the model's syscalls,
 * compared with the kernel's results and {@code /proc/<pid>/maps}.
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>Linux 6.18 / tools</th></tr>
 * <tr><td>{@link org.mm4j.vma.replay.StraceSyscall}</td><td>the syscall entry points ({@code ksys_mmap_pgoff},
 *     {@code __vm_munmap}, {@code do_mprotect_pkey}, {@code do_mremap}, {@code do_madvise}, {@code do_brk_flags},
 *     {@code do_mlock}, ...) as strace prints their calls and results</td></tr>
 * <tr><td>{@link org.mm4j.vma.replay.StraceReplayer}</td><td>none: runs a log or a sample case and compares</td></tr>
 * <tr><td>{@link org.mm4j.vma.replay.StraceCall}</td><td>one strace line: pid, call, arguments, result</td></tr>
 * <tr><td>{@code MapsLine}, {@code TraceCase}</td><td>{@code show_map_vma} lines; a sample case's #BEFORE,
 *     calls and #AFTER (package-private)</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Inside the model, syscalls return {@code -errno} as the kernel does; a line that cannot be parsed is a
 * {@link org.mm4j.vma.replay.StraceParseException} naming the source, line number and text.
 */
package org.mm4j.vma.replay;
