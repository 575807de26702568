/**
 * Replay of ftrace {@code kmem:*} captures (include/trace/events/kmem.h of Linux 6.18) through the model.
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>Linux 6.18</th></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.KmemEvent}</td><td>one {@code trace_kmalloc}, {@code trace_kfree},
 *     {@code trace_kmem_cache_alloc}, {@code trace_kmem_cache_free}, {@code trace_mm_page_alloc} or
 *     {@code trace_mm_page_free} record as {@code trace_pipe} prints it ({@code TP_printk})</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.KmemTraceReader}</td><td>none: parses those lines (streaming, bounded,
 *     allocation-free per line); its fast path {@code KmemLineParser} reads the kernel's own line form in one scan,
 *     8 bytes at a time ({@code AsciiWords}), most lines before their end is known; {@code Interner} keeps cache
 *     names, gfp strings and call sites; {@code HeaderMemo} the headers (task, pid, CPU, flags) and
 *     {@code FieldMemo} the values of allocation lines' tails already read</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.TraceInput}</td><td>none: opens plain, gzip or zstd captures (the decoder
 *     is in {@code trace.kmem.zstd}, not exported)</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.KmemReplayer}</td><td>calls {@code kmalloc}, {@code kmem_cache_alloc},
 *     {@code kfree}, {@code alloc_pages} and {@code __free_pages} for each event, matching the kernel's hashed
 *     {@code %p} pointers in a primitive map ({@code LongLongMap}); {@code perf kmem stat --caller} summaries</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.KmemEventPipe}, {@link org.mm4j.trace.kmem.KmemEventBatch}</td><td>none:
 *     batches handed from the reader thread to the model's thread</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.KmemTraceGenerator}</td><td>none: writes a realistic synthetic capture</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.Timeline}</td><td>none: bounded samples for the report's charts</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * A malformed line is counted and reported to the reader's error sink with its line number and text, and the
 * replay goes on; an event the model refuses (an absurd size, say) is counted as refused; I/O and decoding errors
 * are {@link java.io.IOException}s naming the file and offset.
 */
package org.mm4j.trace.kmem;
