package org.mm4j.slab.debug;

import java.util.List;

/**
 * One SLUB debug report, as a JVM program receives it through {@link DebugListener}: the same facts the kernel
 * prints (see {@link #lines()} for the exact dmesg text of this report).
 *
 * @param kind       which check found it
 * @param cache      the cache's name ({@code s->name})
 * @param reason     the text after "BUG cache (...): ", e.g. "Object corrupt", "Freepointer corrupt",
 *                   "Object already free", "Invalid object pointer 0x...", "Padding overwritten. 0x...-0x...
 *                   {@literal @}offset=N", "Objects remaining on __kmem_cache_shutdown()"
 * @param what       for byte checks, the area: "Left Redzone", "Right Redzone", "kmalloc Redzone",
 *                   "Alignment padding", "Poison", "End Poison", "Object padding", "slab padding"; else null
 * @param start      first corrupt byte (kernel virtual address), or 0
 * @param end        last corrupt byte (inclusive), or 0
 * @param offset     {@code start} minus the slab's first byte, or -1
 * @param found      the first corrupt byte's value (0..255), or -1
 * @param expected   the value it should have had (0..255), or -1
 * @param slab       the slab's first byte (kernel virtual address), or 0
 * @param object     the object's address, or 0
 * @param allocTrack where the object was last allocated (SLAB_STORE_USER), or null
 * @param freeTrack  where it was last freed, or null
 * @param lines      the dmesg lines of this report, without time stamps
 */
public record DebugReport(Kind kind, String cache, String reason, String what, long start, long end, long offset,
                          int found, int expected, long slab, long object, DebugTrack.Track allocTrack,
                          DebugTrack.Track freeTrack, List<String> lines) {
    /** The check that produced a report. */
    public enum Kind {
        /** {@code check_bytes_and_report}: red zone, poison or padding bytes overwritten. */
        BYTES,
        /** {@code object_err}: a bad object (free pointer, double free, wrong cache ...). */
        OBJECT,
        /** {@code slab_err} / {@code slab_bug}: a bad slab (counts, freelist, padding, leak). */
        SLAB,
        /** {@code list_slab_objects}: objects left when the cache was destroyed. */
        LEAK,
        /** A WARN outside the slab checks: wrong cache on free, pointer not in a slab page. */
        WARN
    }

    public DebugReport {
        lines = List.copyOf(lines);
    }

    /** One line: "BUG cache: reason [what 0x...-0x... @offset=N. First byte 0x.. instead of 0x..]". */
    public String summary() {
        final StringBuilder sb = new StringBuilder(cache).append(": ").append(reason);
        if (what != null) {
            sb.append(" [").append(what).append(" overwritten] 0x").append(DebugFormat.ptr(start)).append("-0x")
                .append(DebugFormat.ptr(end)).append(" @offset=").append(offset).append(". First byte ")
                .append(DebugFormat.hexByte(found)).append(" instead of ").append(DebugFormat.hexByte(expected));
        }
        return sb.toString();
    }
}
