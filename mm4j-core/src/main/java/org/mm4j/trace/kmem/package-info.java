/**
 * Replay of ftrace {@code kmem:*} captures (include/trace/events/kmem.h of Linux 6.18) through the model.
 *
 * <p>Names against the kernel: {@link org.mm4j.trace.kmem.KmemEvent} is one {@code trace_kmalloc},
 * {@code trace_kfree}, {@code trace_kmem_cache_alloc}, {@code trace_kmem_cache_free}, {@code trace_mm_page_alloc} or
 * {@code trace_mm_page_free} record as {@code trace_pipe} prints it; {@link org.mm4j.trace.kmem.KmemTraceReader}
 * parses those lines (streaming, bounded, allocation-free per line); {@link org.mm4j.trace.kmem.KmemReplayer}
 * calls {@code kmalloc}/{@code kmem_cache_alloc}/{@code kfree} of {@link org.mm4j.slab.Slub} and
 * {@code alloc_pages}/{@code __free_pages} of {@link org.mm4j.page.BuddyAllocator} for them, matching the
 * kernel's hashed {@code %p} pointers in a {@link org.mm4j.trace.kmem.LongLongMap};
 * {@link org.mm4j.trace.kmem.Timeline} keeps bounded samples for charts; {@code trace.kmem.zstd.ZstdInputStream} (a package of its own, not exported)
 * decodes {@code .zst} captures (RFC 8878) without native code.
 */
package org.mm4j.trace.kmem;
